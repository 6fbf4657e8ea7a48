package kafkawire.golden;

import com.fasterxml.jackson.databind.JsonNode;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.Message;
import org.apache.kafka.common.protocol.ObjectSerializationCache;
import org.apache.kafka.common.protocol.Readable;
import org.apache.kafka.common.protocol.types.Schema;

/**
 * Reflection handle on one generated message class of kafka-clients and its
 * JsonConverter, so every schema is reachable by its name alone.
 */
final class KafkaMessage {
    private static final String PKG = "org.apache.kafka.common.message.";

    final String name;
    final Schema[] schemas; // index = version; null for versions the class dropped
    private final Method jsonRead;
    private final Method jsonWrite;
    private final Constructor<?> fromBytes;

    private KafkaMessage(String name, Class<?> cls) throws ReflectiveOperationException {
        this.name = name;
        this.schemas = (Schema[]) cls.getField("SCHEMAS").get(null);
        Class<?> conv = Class.forName(cls.getName() + "JsonConverter");
        this.jsonRead = conv.getMethod("read", JsonNode.class, short.class);
        this.jsonWrite = conv.getMethod("write", cls, short.class);
        this.fromBytes = cls.getConstructor(Readable.class, short.class);
    }

    /** "FetchResponse" -> FetchResponseData; a few schemas (ConsumerProtocol*) have no "Data" suffix. */
    static KafkaMessage forName(String name) throws ReflectiveOperationException {
        Class<?> cls;
        try {
            cls = Class.forName(PKG + name + "Data");
        } catch (ClassNotFoundException e) {
            cls = Class.forName(PKG + name);
        }
        if (!Message.class.isAssignableFrom(cls)) {
            throw new ClassNotFoundException(cls.getName() + " is not a Message");
        }
        return new KafkaMessage(name, cls);
    }

    /** The schema of a version, or null if the class cannot write that version. */
    Schema schema(int version) {
        return version >= 0 && version < schemas.length ? schemas[version] : null;
    }

    /** A version below this class's lowest: one that Kafka removed (KIP-896), that older classes write. */
    boolean removed(int version) {
        return version >= 0 && version < schemas.length && schemas[version] == null;
    }

    Message fromJson(JsonNode data, short version) throws Exception {
        return (Message) unwrap(() -> jsonRead.invoke(null, data, version));
    }

    JsonNode toJson(Message msg, short version) throws Exception {
        return (JsonNode) unwrap(() -> jsonWrite.invoke(null, msg, version));
    }

    Message fromBytes(ByteBuffer buf, short version) throws Exception {
        return (Message) unwrap(() -> fromBytes.newInstance(new ByteBufferAccessor(buf), version));
    }

    /** The message body exactly as Kafka puts it on the wire (no size prefix, no header). */
    static byte[] toBytes(Message msg, short version) {
        ObjectSerializationCache cache = new ObjectSerializationCache();
        int size = msg.size(cache, version);
        ByteBuffer buf = ByteBuffer.allocate(size);
        msg.write(new ByteBufferAccessor(buf), cache, version);
        if (buf.hasRemaining()) {
            throw new IllegalStateException("size() said " + size + " but write() wrote " + buf.position());
        }
        return buf.array();
    }

    private interface Call {
        Object call() throws ReflectiveOperationException;
    }

    /** Report the generated code's own exception, not the reflection wrapper. */
    private static Object unwrap(Call c) throws Exception {
        try {
            return c.call();
        } catch (InvocationTargetException e) {
            Throwable t = e.getCause();
            if (t instanceof Exception ex) throw ex;
            throw new RuntimeException(t);
        }
    }
}
