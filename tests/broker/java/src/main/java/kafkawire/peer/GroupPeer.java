package kafkawire.peer;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.StringJoiner;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.CooperativeStickyAssignor;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.RangeAssignor;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * A Java KafkaConsumer member of a consumer group (classic protocol), driven line by line on stdin by a
 * broker test that mixes it with kafkawire members (tests/broker/test_group_interop.cpp).
 *
 * <p>Usage: GroupPeer bootstrap group topic range|cooperative-sticky limitBase limitStep [maxSeconds
 * [client.properties]]
 *
 * <p>client.properties: a Java client's properties file (Properties.load) with the settings to reach the
 * broker, e.g. security.protocol=SASL_SSL, sasl.mechanism, sasl.jaas.config and a PEM trust store; the
 * group settings above are set over it.
 *
 * <p>It subscribes to the topic and polls all the time. Partition p is consumed up to its limit,
 * limitBase + limitStep * p (exclusive): there it is paused with its position exactly at the limit.
 *
 * <p>Commands (stdin): "commit" commits the current positions (commitSync); "limit B S" sets new limits
 * and resumes; "close" closes the consumer (leaves the group) and exits 0. End of stdin counts as close,
 * so the process never outlives a test that died; after maxSeconds (default 60) it exits 2 on its own.
 *
 * <p>Reports (stdout, one line each, the C++ test parses them):
 *   "assignment P,P,..."   the partitions owned after every change ("assignment -" for none)
 *   "first P OFFSET"       the first record received from P since P was assigned
 *   "reached P OFFSET"     P is paused at its limit (its position is OFFSET)
 *   "committed P=O,..."    a commitSync of these offsets succeeded
 *   "closed" / "error TEXT" / "timeout"
 */
public final class GroupPeer {
  private static final Object OUT = new Object();

  static void say(String line) {
    synchronized (OUT) {
      System.out.println(line);
      System.out.flush();
    }
  }

  private final KafkaConsumer<byte[], byte[]> consumer;
  private final String topic;
  private final TreeSet<Integer> owned = new TreeSet<>();
  private final Map<Integer, Boolean> seenSinceAssigned = new HashMap<>();
  private final TreeSet<Integer> reached = new TreeSet<>();
  private long limitBase;
  private long limitStep;

  GroupPeer(Properties p, String topic, long limitBase, long limitStep) {
    this.consumer = new KafkaConsumer<>(p);
    this.topic = topic;
    this.limitBase = limitBase;
    this.limitStep = limitStep;
  }

  long limit(int partition) {
    return limitBase + limitStep * partition;
  }

  void reportAssignment() {
    StringJoiner j = new StringJoiner(",");
    for (int p : owned) j.add(Integer.toString(p));
    say("assignment " + (owned.isEmpty() ? "-" : j.toString()));
  }

  void subscribe() {
    consumer.subscribe(List.of(topic), new ConsumerRebalanceListener() {
      @Override
      public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
        for (TopicPartition tp : partitions) forget(tp.partition());
        reportAssignment();
      }

      @Override
      public void onPartitionsLost(Collection<TopicPartition> partitions) {
        for (TopicPartition tp : partitions) forget(tp.partition());
        reportAssignment();
      }

      @Override
      public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
        for (TopicPartition tp : partitions) owned.add(tp.partition());
        reportAssignment();
      }
    });
  }

  void forget(int partition) {
    owned.remove(partition);
    seenSinceAssigned.remove(partition);
    reached.remove(partition);
  }

  // Pauses the partitions whose position reached their limit (the position is exactly the limit).
  void checkLimits() {
    for (TopicPartition tp : consumer.assignment()) {
      if (reached.contains(tp.partition())) continue;
      long position;
      try {
        position = consumer.position(tp, Duration.ofMillis(0));
      } catch (org.apache.kafka.common.errors.TimeoutException e) {
        continue;  // no position yet (committed offset on the way)
      }
      if (position >= limit(tp.partition())) {
        if (position > limit(tp.partition())) consumer.seek(tp, limit(tp.partition()));
        consumer.pause(List.of(tp));
        reached.add(tp.partition());
        say("reached " + tp.partition() + " " + limit(tp.partition()));
      }
    }
  }

  void handle(ConsumerRecords<byte[], byte[]> records) {
    for (TopicPartition tp : records.partitions()) {
      int p = tp.partition();
      for (ConsumerRecord<byte[], byte[]> r : records.records(tp)) {
        if (seenSinceAssigned.put(p, true) == null) say("first " + p + " " + r.offset());
        if (r.offset() + 1 >= limit(p)) break;  // the rest is past the limit; checkLimits seeks back
      }
    }
  }

  void commit() {
    Map<TopicPartition, Long> positions = new TreeMap<>((a, b) -> Integer.compare(a.partition(), b.partition()));
    for (TopicPartition tp : consumer.assignment()) positions.put(tp, consumer.position(tp));
    consumer.commitSync();
    StringJoiner j = new StringJoiner(",");
    for (Map.Entry<TopicPartition, Long> e : positions.entrySet()) j.add(e.getKey().partition() + "=" + e.getValue());
    say("committed " + (positions.isEmpty() ? "-" : j.toString()));
  }

  public static void main(String[] args) throws Exception {
    if (args.length < 6) {
      System.err.println("usage: GroupPeer bootstrap group topic range|cooperative-sticky|consumer limitBase limitStep"
          + " [maxSeconds [client.properties]]");
      System.exit(64);
    }
    String strategy;
    switch (args[3]) {
      case "range": strategy = RangeAssignor.class.getName(); break;
      case "cooperative-sticky": strategy = CooperativeStickyAssignor.class.getName(); break;
      case "consumer": strategy = null; break;  // group.protocol=consumer (KIP-848): the broker assigns
      default:
        System.err.println("unknown strategy " + args[3] + " (range, cooperative-sticky or consumer)");
        System.exit(64);
        return;
    }
    final long maxSeconds = args.length > 6 ? Long.parseLong(args[6]) : 60;
    // A watchdog: whatever happens (a hung close included), the process ends in bounded time.
    Thread watchdog = new Thread(() -> {
      try {
        Thread.sleep(TimeUnit.SECONDS.toMillis(maxSeconds + 15));
      } catch (InterruptedException e) {
        return;
      }
      say("error watchdog: still running " + (maxSeconds + 15) + " s after start");
      Runtime.getRuntime().halt(3);
    });
    watchdog.setDaemon(true);
    watchdog.start();

    Properties p = new Properties();
    if (args.length > 7) {
      try (InputStream in = Files.newInputStream(Path.of(args[7]))) {
        p.load(in);  // as Kafka's own tools read --command-config files
      }
    }
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]);
    p.put(ConsumerConfig.GROUP_ID_CONFIG, args[1]);
    if (strategy == null) {
      p.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, "consumer");
    } else {
      p.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, "classic");
      p.put(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, strategy);
      p.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, "6000");
      p.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, "500");
    }
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "50");
    p.put(ConsumerConfig.CLIENT_ID_CONFIG, "java-peer");
    p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());

    LinkedBlockingQueue<String> commands = new LinkedBlockingQueue<>();
    Thread reader = new Thread(() -> {
      try (BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
        for (String line; (line = in.readLine()) != null; ) commands.add(line.trim());
      } catch (Exception e) {
        // treated as end of input
      }
      commands.add("close");
    });
    reader.setDaemon(true);
    reader.start();

    GroupPeer peer = new GroupPeer(p, args[2], Long.parseLong(args[4]), Long.parseLong(args[5]));
    peer.subscribe();
    final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(maxSeconds);
    try {
      while (true) {
        if (System.nanoTime() > deadline) {
          say("timeout");
          peer.consumer.close(Duration.ofSeconds(2));
          System.exit(2);
        }
        peer.handle(peer.consumer.poll(Duration.ofMillis(50)));
        peer.checkLimits();
        for (String cmd; (cmd = commands.poll()) != null; ) {
          String[] w = cmd.split("\\s+");
          switch (w[0]) {
            case "commit":
              peer.commit();
              break;
            case "limit":
              peer.limitBase = Long.parseLong(w[1]);
              peer.limitStep = Long.parseLong(w[2]);
              peer.reached.clear();
              peer.consumer.resume(peer.consumer.paused());
              break;
            case "close":
              peer.consumer.close(Duration.ofSeconds(10));
              say("closed");
              System.exit(0);
              break;
            case "":
              break;
            default:
              say("error unknown command: " + cmd);
          }
        }
      }
    } catch (Exception e) {
      say("error " + e.getClass().getSimpleName() + ": " + e.getMessage());
      System.exit(1);
    }
  }
}
