package kafkawire.golden;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.common.protocol.types.BoundField;
import org.apache.kafka.common.protocol.types.Field;
import org.apache.kafka.common.protocol.types.Schema;
import org.apache.kafka.common.protocol.types.TaggedFields;
import org.apache.kafka.common.protocol.types.Type;

/**
 * Compares a JSON object with the wire schema of one version, both ways: every
 * schema field (tagged ones too, recursively through structs and array
 * elements) must be a key, and every key must be a schema field.
 *
 * JsonConverter.read alone would not catch a C++ field list that is wrong:
 * it silently ignores unknown keys and defaults missing tagged fields.
 */
final class SchemaCheck {
    private SchemaCheck() {}

    /** Problems as "missing field a[].b" / "unexpected field a[].c", in walk order, no duplicates. */
    static List<String> check(Schema schema, JsonNode data) {
        Set<String> problems = new LinkedHashSet<>();
        walk(schema, data, "", problems);
        return new ArrayList<>(problems);
    }

    /**
     * The fields of a struct at this version, tagged fields included. A flexible
     * struct ends with a "_tagged_fields" TaggedFieldsSection whose type lists the
     * tagged fields by tag; that section itself is not a JSON key.
     */
    static List<Field> fields(Schema schema) {
        List<Field> out = new ArrayList<>();
        for (BoundField bf : schema.fields()) {
            if (bf.def instanceof Field.TaggedFieldsSection) {
                out.addAll(((TaggedFields) bf.def.type).fields().values());
            } else {
                out.add(bf.def);
            }
        }
        return out;
    }

    /**
     * Schema field name -> JSON key. The generator derives both from one
     * PascalCase spec name: snake_case for the Schema ("ErrorCode" -> "error_code")
     * and lowerCamelCase for JSON ("errorCode"), so dropping each '_' and
     * upper-casing the next letter inverts it, except where the spec name has
     * a run of capitals: "KRaftVersion" becomes schema "kraft_version" but JSON
     * "kRaftVersion". SelfTest runs every field of every version in the jar
     * through this, so the exception list is complete for this kafka-clients.
     */
    private static final Map<String, String> KEY_EXCEPTIONS = Map.of(
            "kraft_version", "kRaftVersion",
            "kraft_version_feature", "kRaftVersionFeature");

    static String jsonKey(String schemaName) {
        String key = KEY_EXCEPTIONS.get(schemaName);
        if (key != null) return key;
        StringBuilder sb = new StringBuilder(schemaName.length());
        boolean upper = false;
        for (char c : schemaName.toCharArray()) {
            if (c == '_') {
                upper = true;
            } else {
                sb.append(upper ? Character.toUpperCase(c) : c);
                upper = false;
            }
        }
        return sb.toString();
    }

    private static void walk(Type type, JsonNode node, String path, Set<String> problems) {
        // null / wrong JSON kinds are left to JsonConverter.read, which knows
        // nullability and reports them with the field name.
        if (node == null || node.isNull()) return;
        if (type instanceof Schema schema) { // also NullableSchema (nullable struct)
            if (!node.isObject()) return;
            Set<String> known = new HashSet<>();
            for (Field f : fields(schema)) {
                String key = jsonKey(f.name);
                known.add(key);
                JsonNode child = node.get(key);
                if (child == null) {
                    problems.add("missing field " + join(path, key));
                } else {
                    walk(f.type, child, join(path, key), problems);
                }
            }
            for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
                String key = it.next();
                if (!known.contains(key)) problems.add("unexpected field " + join(path, key));
            }
        } else if (type.isArray() && node.isArray()) { // ArrayOf / CompactArrayOf
            Type elem = type.arrayElementType().orElseThrow();
            for (JsonNode e : node) walk(elem, e, path + "[]", problems);
        }
    }

    private static String join(String path, String key) {
        return path.isEmpty() ? key : path + "." + key;
    }
}
