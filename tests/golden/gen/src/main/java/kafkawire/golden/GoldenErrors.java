package kafkawire.golden;

import java.io.PrintStream;
import org.apache.kafka.common.errors.InvalidMetadataException;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.protocol.Errors;

/**
 * Mode "errors": protocol/src/kafka_errors.inc, one C++ initializer per Errors constant in code order:
 * {code, "NAME", retriable, invalid_metadata, "message"}. retriable: the code's exception is a
 * RetriableException; invalid_metadata: it is an InvalidMetadataException (Java's clients refresh
 * metadata on those). The error policy's unit test checks its classification against both.
 */
final class GoldenErrors {
    private GoldenErrors() {}

    static int run(PrintStream out) {
        Errors[] all = Errors.values().clone();
        java.util.Arrays.sort(all, java.util.Comparator.comparingInt(Errors::code));
        for (Errors e : all) {
            Throwable ex = e.exception();
            boolean retriable = ex instanceof RetriableException;
            boolean invalidMetadata = ex instanceof InvalidMetadataException;
            String message = e == Errors.NONE ? "NONE" : e.message();
            out.printf("    {%d, \"%s\", %b, %b, \"%s\"},%n", e.code(), e.name(), retriable, invalidMetadata,
                    message.replace("\\", "\\\\").replace("\"", "\\\""));
        }
        return 0;
    }
}
