package kafkawire.golden;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.jar.JarFile;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.ApiVersionsRequestData;
import org.apache.kafka.common.protocol.types.Field;
import org.apache.kafka.common.protocol.types.Schema;
import org.apache.kafka.common.protocol.types.Type;

/**
 * Mode "selftest": proves the "messages" mode's assumptions hold for every
 * schema in kafka-clients, not just the hand-tested ones. For every message
 * and version it builds a JSON object with every schema field set (arrays of
 * one element), once with every nullable value present and once with every
 * nullable value null, and runs it through the same validate/encode path,
 * which must report nothing. That confirms the snake_case -> camelCase key
 * mapping, that JsonConverter.read accepts the value forms below, and that
 * bytes and JSON round-trip. regen.sh runs it before generating anything.
 */
final class SelfTest {
    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    private SelfTest() {}

    static int run(PrintStream out, PrintStream err) throws Exception {
        int checked = 0, failed = 0;
        for (String name : schemaNames()) {
            KafkaMessage km;
            try {
                km = KafkaMessage.forName(name);
            } catch (ReflectiveOperationException e) {
                continue; // a schema without a generated Message class (none expected)
            }
            for (int v = 0; v < km.schemas.length; v++) {
                Schema schema = km.schema(v);
                if (schema == null) continue;
                for (boolean nulls : new boolean[] {false, true}) {
                    List<String> problems = new ArrayList<>();
                    try {
                        GoldenMessages.encode(name, v, sample(schema, nulls), problems);
                    } catch (Exception e) {
                        problems.add(e.toString());
                    }
                    checked++;
                    if (!problems.isEmpty()) failed++;
                    String variant = nulls ? " (nullables null)" : "";
                    for (String p : problems) err.println("ERROR " + name + " v" + v + variant + ": " + p);
                }
            }
        }
        out.println("selftest: " + checked + " cases (message versions x {all set, nullables null}), "
                + failed + " failed");
        return failed == 0 && checked > 0 ? 0 : 1;
    }

    /** Prints a valid "messages" input line for NAME at VERSION, every field filled in. */
    static int template(String name, int version, PrintStream out) throws Exception {
        Schema schema = KafkaMessage.forName(name).schema(version);
        if (schema == null) throw new IllegalArgumentException(name + " has no version " + version);
        ObjectNode line = F.objectNode().put("name", name).put("version", version);
        line.set("data", sample(schema, false));
        out.println(line);
        return 0;
    }

    /** Every common/message/*.json spec bundled in the kafka-clients jar. */
    private static List<String> schemaNames() throws Exception {
        String jar = ApiVersionsRequestData.class.getProtectionDomain().getCodeSource().getLocation().getPath();
        List<String> names = new ArrayList<>();
        try (JarFile jf = new JarFile(jar)) {
            jf.stream().map(e -> e.getName())
                    .filter(n -> n.startsWith("common/message/") && n.endsWith(".json"))
                    .forEach(n -> names.add(n.substring("common/message/".length(), n.length() - 5)));
        }
        Collections.sort(names);
        return names;
    }

    /** A value for every field, in the JSON form JsonConverter uses; nulls: JSON null for every nullable type. */
    static JsonNode sample(Type t, boolean nulls) {
        if (nulls && t.isNullable()) return F.nullNode();
        if (t instanceof Schema s) {
            ObjectNode o = F.objectNode();
            for (Field f : SchemaCheck.fields(s)) o.set(SchemaCheck.jsonKey(f.name), sample(f.type, nulls));
            return o;
        }
        if (t.isArray()) {
            ArrayNode a = F.arrayNode();
            a.add(sample(t.arrayElementType().orElseThrow(), nulls));
            return a;
        }
        if (t == Type.BOOLEAN) return F.booleanNode(true);
        if (t == Type.FLOAT64) return F.numberNode(1.5);
        if (t == Type.UUID) return F.textNode(new Uuid(1, 2).toString()); // Uuid.toString(): url-safe base64
        if (t == Type.STRING || t == Type.COMPACT_STRING || t == Type.NULLABLE_STRING
                || t == Type.COMPACT_NULLABLE_STRING) return F.textNode("s");
        if (t == Type.BYTES || t == Type.COMPACT_BYTES || t == Type.NULLABLE_BYTES
                || t == Type.COMPACT_NULLABLE_BYTES) return F.textNode("AQI="); // base64 of {1, 2}
        if (t == Type.RECORDS || t == Type.COMPACT_RECORDS || t == Type.NULLABLE_RECORDS
                || t == Type.COMPACT_NULLABLE_RECORDS) return F.textNode(""); // empty record set
        return F.numberNode(1); // INT8..INT64, UINT16, UNSIGNED_INT32
    }
}
