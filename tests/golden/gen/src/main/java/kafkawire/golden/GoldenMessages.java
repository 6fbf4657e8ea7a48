package kafkawire.golden;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.apache.kafka.common.protocol.Message;
import org.apache.kafka.common.protocol.types.Schema;

/**
 * Mode "messages": {"name":..,"version":..,"data":{..}} per line in,
 * "name version hex" per line out, hex = the body Kafka's generated class writes
 * (no size prefix, no header). "data" is in JsonConverter's JSON form and must
 * list exactly the fields of that version (see SchemaCheck).
 */
final class GoldenMessages {
    static final ObjectMapper MAPPER = new ObjectMapper();

    private GoldenMessages() {}

    /**
     * older: where to put the input lines of versions this kafka-clients has no schema for (versions
     * Kafka 4.0 removed), to be run again with an older kafka-clients; null to report them as errors.
     */
    static int run(InputStream in, PrintStream out, PrintStream err, PrintStream older) throws Exception {
        BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
        boolean failed = false;
        int lineNo = 0;
        for (String line; (line = r.readLine()) != null; ) {
            lineNo++;
            if (line.isBlank()) continue;
            String label = "line " + lineNo;
            List<String> problems = new ArrayList<>();
            String result = null;
            try {
                JsonNode req = MAPPER.readTree(line);
                String name = req.path("name").asText();
                label = name + " v" + req.path("version").asText();
                if (older != null && KafkaMessage.forName(name).removed(req.path("version").asInt(-1))) {
                    older.println(line);
                    continue;
                }
                result = encode(name, req.path("version").asInt(-1), req.get("data"), problems);
            } catch (Exception e) {
                problems.add(e.toString());
            }
            for (String p : problems) err.println("ERROR " + label + ": " + p);
            if (problems.isEmpty()) out.println(result);
            failed |= !problems.isEmpty();
        }
        return failed ? 1 : 0;
    }

    /**
     * Validates and encodes one message; returns the output line, or null with
     * the reasons appended to problems.
     */
    static String encode(String name, int v, JsonNode data, List<String> problems) throws Exception {
        KafkaMessage km = KafkaMessage.forName(name);
        Schema schema = km.schema(v);
        if (schema == null) {
            problems.add("version " + v + " is not supported by kafka-clients (SCHEMAS has no entry)");
            return null;
        }
        if (data == null || !data.isObject()) {
            problems.add("\"data\" must be a JSON object");
            return null;
        }
        short version = (short) v;
        problems.addAll(SchemaCheck.check(schema, data));

        Message msg = km.fromJson(data, version);
        byte[] bytes = KafkaMessage.toBytes(msg, version);

        // Cross-check 1: Kafka reads its own bytes back to an equal object.
        ByteBuffer buf = ByteBuffer.wrap(bytes);
        Message reread = km.fromBytes(buf, version);
        if (buf.hasRemaining()) problems.add("re-read left " + buf.remaining() + " bytes unread");
        if (!reread.equals(msg)) problems.add("re-read from bytes differs: " + reread + " vs " + msg);

        // Cross-check 2: JsonConverter.write gives back the input values, so none
        // was silently coerced or re-encoded by read().
        JsonDiff.diff(schema, data, km.toJson(msg, version), "", problems);
        // "=" stands for an empty body (e.g. ApiVersionsRequest v0) so every line has three tokens.
        String hex = bytes.length == 0 ? "=" : HexFormat.of().formatHex(bytes);
        return problems.isEmpty() ? name + " " + v + " " + hex : null;
    }
}
