package kafkawire.golden;

import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.record.internal.ControlRecordType;
import org.apache.kafka.common.record.internal.EndTransactionMarker;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MemoryRecordsBuilder;
import org.apache.kafka.common.record.internal.MutableRecordBatch;
import org.apache.kafka.common.record.internal.Record;
import org.apache.kafka.common.record.internal.RecordBatch;

/**
 * Mode "records": RecordBatch v2 (magic 2) batches written by Kafka's own
 * MemoryRecordsBuilder, each followed by what Kafka's reader sees in it.
 * Everything is fixed (offsets, timestamps, producer state) so the output is
 * reproducible; only compressed payloads depend on the codec library versions
 * pinned in pom.xml (and gzip on the JDK's zlib).
 */
final class GoldenRecords {
    private static final long T0 = 1_700_000_000_000L; // CreateTime of the first record
    private static final long LOG_APPEND_TIME = 1_700_000_999_000L;
    private static final HexFormat HEX = HexFormat.of();

    private GoldenRecords() {}

    /** One record to append: null key/value/header value mean null on the wire. */
    private record Rec(long timestamp, byte[] key, byte[] value, Header... headers) {}

    static int run(PrintStream out) {
        for (String c : List.of("none", "gzip", "snappy", "lz4", "zstd")) {
            emit(out, "mixed-" + c, build(compression(c), TimestampType.CREATE_TIME, 100, 0L,
                    RecordBatch.NO_PRODUCER_ID, RecordBatch.NO_PRODUCER_EPOCH, RecordBatch.NO_SEQUENCE,
                    false, 7, mixedRecords()));
        }
        // The broker stamps LogAppendTime; readers then report it for every record.
        emit(out, "logappend-none", build(Compression.NONE, TimestampType.LOG_APPEND_TIME, 200, LOG_APPEND_TIME,
                RecordBatch.NO_PRODUCER_ID, RecordBatch.NO_PRODUCER_EPOCH, RecordBatch.NO_SEQUENCE,
                false, 7, mixedRecords()));
        emit(out, "transactional-none", build(Compression.NONE, TimestampType.CREATE_TIME, 300, 0L,
                4242L, (short) 3, 7, true, 9, mixedRecords()));
        // Control batches: one end-transaction marker record each (coordinator epoch 11).
        emit(out, "control-abort", MemoryRecords.withEndTransactionMarker(
                305L, T0 + 50, 9, 4242L, (short) 3, new EndTransactionMarker(ControlRecordType.ABORT, 11)));
        emit(out, "control-commit", MemoryRecords.withEndTransactionMarker(
                306L, T0 + 60, 9, 4242L, (short) 3, new EndTransactionMarker(ControlRecordType.COMMIT, 11)));
        // Idempotent (producer id + sequence, not transactional), many small records.
        List<Rec> many = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            many.add(new Rec(T0 + i, utf8("k" + (i % 10)), utf8("value-" + i)));
        }
        emit(out, "idempotent-1000-zstd", build(Compression.zstd().build(), TimestampType.CREATE_TIME, 1000, 0L,
                777L, (short) 1, 4000, false, 12, many));
        return 0;
    }

    /** Five records covering null/empty key and value, a 300-byte value, 0/1/2 headers, odd timestamp deltas. */
    private static List<Rec> mixedRecords() {
        byte[] big = new byte[300];
        for (int i = 0; i < big.length; i++) big[i] = (byte) (i * 7 + 3);
        return List.of(
                new Rec(T0, null, utf8("v0")),
                new Rec(T0 + 1, utf8("key-1"), null, header("h1", utf8("x"))),
                new Rec(T0 + 1000, utf8("k2"), new byte[0], header("a", utf8("1")), header("b", null)),
                new Rec(T0 - 3, utf8("twenty-byte-key-0003"), big), // negative timestamp delta
                new Rec(T0 + 70_000, new byte[0], utf8("last"), header("", new byte[0])));
    }

    private static MemoryRecords build(Compression compression, TimestampType tsType, long baseOffset,
            long logAppendTime, long producerId, short epoch, int baseSequence, boolean transactional,
            int leaderEpoch, List<Rec> recs) {
        MemoryRecordsBuilder b = MemoryRecords.builder(ByteBuffer.allocate(1024), RecordBatch.MAGIC_VALUE_V2,
                compression, tsType, baseOffset, logAppendTime, producerId, epoch, baseSequence,
                transactional, false, leaderEpoch);
        for (Rec r : recs) b.append(r.timestamp, r.key, r.value, r.headers);
        return b.build();
    }

    private static Compression compression(String name) {
        return Compression.of(name).build();
    }

    /** One case: the whole batch, its header as Kafka reads it, then every record. */
    private static void emit(PrintStream out, String name, MemoryRecords records) {
        List<MutableRecordBatch> batches = new ArrayList<>();
        records.batches().forEach(batches::add);
        if (batches.size() != 1) throw new IllegalStateException(name + ": expected 1 batch, got " + batches.size());
        RecordBatch batch = batches.get(0);
        batch.ensureValid(); // CRC-32C over the batch, as a reader checks it

        out.println("batch " + name + " " + hex(records.buffer()));
        out.println(String.join(" ", "attrs",
                batch.compressionType().name, // none|gzip|snappy|lz4|zstd
                batch.timestampType() == TimestampType.LOG_APPEND_TIME ? "logappend" : "create",
                bit(batch.isTransactional()), bit(batch.isControlBatch()),
                Long.toString(batch.producerId()), Short.toString(batch.producerEpoch()),
                Integer.toString(batch.baseSequence()), Long.toString(batch.baseOffset()),
                Long.toString(batch.lastOffset()), Integer.toString(batch.partitionLeaderEpoch())));
        for (Record r : batch) {
            StringBuilder sb = new StringBuilder("record ").append(r.offset()).append(' ').append(r.timestamp())
                    .append(' ').append(hex(r.key())).append(' ').append(hex(r.value()))
                    .append(' ').append(r.headers().length);
            for (Header h : r.headers()) {
                sb.append(' ').append(hex(utf8(h.key()))).append(' ').append(hex(h.value()));
            }
            out.println(sb);
        }
        out.println("end");
    }

    private static Header header(String key, byte[] value) {
        return new RecordHeader(key, value);
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String bit(boolean b) {
        return b ? "1" : "0";
    }

    /** Token for bytes: "-" null, "=" empty, else lowercase hex. */
    private static String hex(byte[] b) {
        if (b == null) return "-";
        return b.length == 0 ? "=" : HEX.formatHex(b);
    }

    private static String hex(ByteBuffer buf) {
        if (buf == null) return "-";
        byte[] b = new byte[buf.remaining()];
        buf.duplicate().get(b);
        return hex(b);
    }
}
