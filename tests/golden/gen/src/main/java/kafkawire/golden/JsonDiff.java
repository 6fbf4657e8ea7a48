package kafkawire.golden;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import org.apache.kafka.common.protocol.types.Field;
import org.apache.kafka.common.protocol.types.Schema;
import org.apache.kafka.common.protocol.types.Type;

/**
 * Compares the input JSON with what JsonConverter.write makes of the object
 * that JsonConverter.read parsed from it, walking the schema so that a value
 * read() coerced or re-encoded (say a uuid in another spelling) shows up.
 *
 * Equal despite the representation: numbers by value (Jackson parses 5 as an
 * int even for an int64 field, write() emits a long) and bytes decoded (input
 * is base64 text, write() emits binary). Not compared: keys write() leaves out
 * (tagged fields at their default; SchemaCheck vouches for the keys) and
 * records fields, which write() always emits as "" whatever the records hold;
 * the bytes cross-check in GoldenMessages covers those.
 */
final class JsonDiff {
    private JsonDiff() {}

    static void diff(Type type, JsonNode in, JsonNode out, String path, List<String> problems) {
        if (isRecords(type)) return;
        if (type instanceof Schema schema && in.isObject() && out.isObject()) {
            for (Field f : SchemaCheck.fields(schema)) {
                String k = SchemaCheck.jsonKey(f.name);
                if (in.has(k) && out.has(k)) {
                    diff(f.type, in.get(k), out.get(k), path.isEmpty() ? k : path + "." + k, problems);
                }
            }
        } else if (type.isArray() && in.isArray() && out.isArray() && in.size() == out.size()) {
            Type elem = type.arrayElementType().orElseThrow();
            for (int i = 0; i < in.size(); i++) diff(elem, in.get(i), out.get(i), path + "[" + i + "]", problems);
        } else if (!same(in, out)) {
            problems.add("value of " + path + " changes in JSON read/write: " + in + " -> " + out);
        }
    }

    /**
     * RECORDS, COMPACT_RECORDS, NULLABLE_RECORDS, COMPACT_NULLABLE_RECORDS: by name, since the older
     * kafka-clients regen.sh also runs this with (3.9) has no NULLABLE_RECORDS constants.
     */
    private static boolean isRecords(Type t) {
        return !(t instanceof Schema) && !t.isArray() && t.toString().endsWith("RECORDS");
    }

    private static boolean same(JsonNode a, JsonNode b) {
        if (a.isNumber() && b.isNumber()) return a.decimalValue().compareTo(b.decimalValue()) == 0;
        if (a.isBinary() || b.isBinary()) {
            try { // binaryValue() of a text node decodes base64; null for other kinds
                return a.binaryValue() != null && Arrays.equals(a.binaryValue(), b.binaryValue());
            } catch (IOException e) {
                return false;
            }
        }
        return a.equals(b);
    }
}
