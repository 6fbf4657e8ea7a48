package kafkawire.peer;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.CooperativeStickyAssignor;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.consumer.RangeAssignor;
import org.apache.kafka.clients.consumer.RoundRobinAssignor;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * The consumer-group latencies of tools/bench/bench_group.cpp, measured the same way with the Java
 * KafkaConsumer, for tools/bench/group-bench. Lives with the Java peers so there is one Maven project
 * (one kafka-clients version, one build) for everything Java the project runs.
 *
 * <p>Usage: GroupBench --bootstrap B --topic T [--partitions 12] [--rounds 5] [--commits 10000]
 * [--strategy range] [--heartbeat-ms 100] [--group-protocol classic|consumer] [--recovery-rounds 3]
 *
 * <p>Per round, a new group: member A created and subscribed -> its listener holds every partition;
 * member B created and subscribed -> both hold their final share. In the last round A makes `commits`
 * commitSync calls (offset i on commit i). Members poll in turn with 1 ms timeouts; times come from
 * the rebalance listener. Then the recovery rounds of bench_group.cpp: a member in a child JVM (this
 * class with --child GROUP, reporting "owned 0,1,..." on stdout) shares the partitions with a survivor
 * here, is killed (destroyForcibly: SIGKILL), a record goes to every partition, and the clock stops when
 * the survivor has consumed it from each of the dead member's partitions. With group.protocol=consumer
 * the broker owns the session timeout, heartbeat interval and assignor (Java refuses them).
 * Last line: "result client=java-VERSION ...". Exit 1 on a wrong assignment or a failed commit.
 */
public final class GroupBench {
  static final class Member {
    final KafkaConsumer<byte[], byte[]> consumer;
    final Set<Integer> owned = new TreeSet<>();
    long changedAt;

    Member(Properties p, String topic) {
      consumer = new KafkaConsumer<>(p);
      consumer.subscribe(List.of(topic), new ConsumerRebalanceListener() {
        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> parts) {
          for (TopicPartition tp : parts) owned.remove(tp.partition());
          changedAt = System.nanoTime();
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> parts) {
          onPartitionsRevoked(parts);
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> parts) {
          for (TopicPartition tp : parts) owned.add(tp.partition());
          changedAt = System.nanoTime();
        }
      });
    }

    void poll() {
      consumer.poll(Duration.ofMillis(1));
    }
  }

  static Properties memberProps(Map<String, String> o, String group, String reset) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, o.get("--bootstrap"));
    p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
    p.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, o.get("--group-protocol"));
    p.put(ConsumerConfig.CLIENT_ID_CONFIG, "bench-group");
    if (o.get("--group-protocol").equals("classic")) {  // with consumer, the broker owns these
      p.put(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, assignor(o.get("--strategy")));
      p.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, "6000");
      p.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, o.get("--heartbeat-ms"));
    }
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, reset);
    p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    return p;
  }

  static String assignor(String strategy) {
    switch (strategy) {
      case "range": return RangeAssignor.class.getName();
      case "roundrobin": return RoundRobinAssignor.class.getName();
      case "cooperative-sticky": return CooperativeStickyAssignor.class.getName();
      default: fail("--strategy: range, roundrobin or cooperative-sticky, not " + strategy); return null;
    }
  }

  static String ownedLine(Set<Integer> owned) {
    StringBuilder b = new StringBuilder("owned ");
    for (int p : owned) b.append(b.length() > 6 ? "," : "").append(p);
    return owned.isEmpty() ? "owned -" : b.toString();
  }

  /** --child GROUP: one member that owns what it is given until it is killed, reporting its partitions. */
  static void childMember(Map<String, String> o, String group) {
    Thread watch = new Thread(() -> {  // the parent's end (our stdin closes) is ours too
      try {
        while (System.in.read() >= 0) {}
      } catch (IOException e) {
        // the same: the parent is gone
      }
      System.exit(0);
    });
    watch.setDaemon(true);
    watch.start();
    Member m = new Member(memberProps(o, group, "earliest"), o.get("--topic"));
    String reported = "";
    final long t0 = System.nanoTime();
    while (System.nanoTime() - t0 < 300_000_000_000L) {
      m.consumer.poll(Duration.ofMillis(5));
      String now = ownedLine(m.owned);
      if (!now.equals(reported)) {
        System.out.println(now);
        System.out.flush();
        reported = now;
      }
    }
    System.exit(0);
  }

  /** The child member seen from the parent: the JVM and what it last reported (a reader thread). */
  static final class Child {
    final Process process;
    volatile Set<Integer> owned = Set.of();

    Child(String[] args, String group, String topic) throws IOException {
      List<String> cmd = new ArrayList<>(List.of(System.getProperty("java.home") + "/bin/java", "-Xmx256m", "-cp",
          System.getProperty("java.class.path"), GroupBench.class.getName()));
      cmd.addAll(Arrays.asList(args));
      cmd.addAll(List.of("--child", group, "--topic", topic));
      process = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
      Thread reader = new Thread(() -> {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
          for (String line; (line = r.readLine()) != null;) {
            if (!line.startsWith("owned ")) continue;
            Set<Integer> s = new TreeSet<>();
            if (!line.equals("owned -")) for (String p : line.substring(6).split(",")) s.add(Integer.parseInt(p));
            owned = s;
          }
        } catch (IOException e) {
          // the child was killed
        }
      });
      reader.setDaemon(true);
      reader.start();
    }

    void checkAlive() {
      if (!process.isAlive()) fail("the child member exited on its own (status " + process.exitValue() + ")");
    }
  }

  /** One recovery round; ms from the SIGKILL until the survivor consumed the record produced after it on
   * each of the dead member's partitions. */
  static double recoveryRound(String[] args, Map<String, String> o, String group, String marker) throws Exception {
    final String topic = o.get("--topic");
    final int partitions = Integer.parseInt(o.get("--partitions"));
    Properties pp = new Properties();
    pp.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, o.get("--bootstrap"));
    pp.put(ProducerConfig.LINGER_MS_CONFIG, "0");
    pp.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    pp.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(pp)) {
      // connected and with metadata before the clock starts
      producer.send(new ProducerRecord<>(topic, 0, null, "warm-up".getBytes(StandardCharsets.UTF_8))).get();
      Child child = new Child(args, group, topic);
      final long t0 = System.nanoTime();
      while (child.owned.size() < partitions) {
        child.checkAlive();
        if (System.nanoTime() - t0 > 60_000_000_000L) fail("the child member has no assignment after 60 s");
        Thread.sleep(1);
      }
      Member s = new Member(memberProps(o, group, "earliest"), topic);
      while (true) {
        s.poll();
        child.checkAlive();
        Set<Integer> c = child.owned;
        Set<Integer> all = new TreeSet<>(s.owned);
        all.addAll(c);
        if (!s.owned.isEmpty() && !c.isEmpty() && all.size() == s.owned.size() + c.size() && all.size() == partitions) break;
        if (System.nanoTime() - t0 > 60_000_000_000L) fail("the survivor and the child did not share the partitions in 60 s");
      }
      final Set<Integer> dead = child.owned;

      child.process.destroyForcibly();  // SIGKILL
      child.process.waitFor();
      final long tKill = System.nanoTime();
      final byte[] value = marker.getBytes(StandardCharsets.UTF_8);
      List<java.util.concurrent.Future<?>> sent = new ArrayList<>();
      for (int p = 0; p < partitions; p++) sent.add(producer.send(new ProducerRecord<>(topic, p, null, value)));
      Set<Integer> seen = new TreeSet<>();
      while (seen.size() < dead.size()) {
        for (ConsumerRecord<byte[], byte[]> r : s.consumer.poll(Duration.ofMillis(1)))
          if (dead.contains(r.partition()) && Arrays.equals(r.value(), value)) seen.add(r.partition());
        if (System.nanoTime() - tKill > 60_000_000_000L)
          fail("60 s after the kill the survivor has consumed from " + seen.size() + " of " + dead.size()
              + " of the dead member's partitions");
      }
      final double recovery = ms(System.nanoTime() - tKill);
      for (java.util.concurrent.Future<?> f : sent) f.get();  // throws if a record was not delivered
      System.out.printf("recovery: the child's %d partitions consumed again %.1f ms after its SIGKILL%n", dead.size(), recovery);
      s.consumer.close();
      return recovery;
    }
  }

  static double ms(long nanos) {
    return nanos / 1e6;
  }

  static double percentile(List<Double> v, double q) {
    List<Double> s = new ArrayList<>(v);
    Collections.sort(s);
    int i = (int) Math.min(s.size() - 1, (long) (q * (s.size() - 1) + 0.5));
    return s.get(i);
  }

  static void fail(String what) {
    System.err.println("GroupBench: " + what);
    System.exit(1);
  }

  public static void main(String[] args) throws Exception {
    Map<String, String> o = new HashMap<>(Map.of("--partitions", "12", "--rounds", "5", "--commits", "10000",
        "--strategy", "range", "--heartbeat-ms", "100", "--group-protocol", "classic", "--recovery-rounds", "3"));
    for (int i = 0; i + 1 < args.length; i += 2) {
      if (!args[i].startsWith("--")) fail("unexpected argument " + args[i]);
      o.put(args[i], args[i + 1]);
    }
    if (!o.containsKey("--bootstrap") || !o.containsKey("--topic")) fail("--bootstrap and --topic are required");
    final String topic = o.get("--topic");
    final int partitions = Integer.parseInt(o.get("--partitions"));
    final int rounds = Integer.parseInt(o.get("--rounds"));
    final int commits = Integer.parseInt(o.get("--commits"));
    final String strategy = o.get("--strategy");
    final String protocol = o.get("--group-protocol");
    if (!protocol.equals("classic") && !protocol.equals("consumer")) fail("--group-protocol: classic or consumer, not " + protocol);
    assignor(strategy);  // checks it
    if (o.containsKey("--child")) {
      childMember(o, o.get("--child"));
      return;
    }
    final int recoveryRounds = Integer.parseInt(o.get("--recovery-rounds"));
    final String version = org.apache.kafka.common.utils.internals.AppInfoParser.getVersion();
    System.out.printf("GroupBench: Java kafka-clients %s, topic %s (%d partitions), group.protocol %s, strategy %s, "
            + "heartbeat.interval.ms %s (classic only), %d rounds, %d commits, %d recovery rounds%n",
        version, topic, partitions, protocol, strategy, o.get("--heartbeat-ms"), rounds, commits, recoveryRounds);
    List<Double> first = new ArrayList<>(), rebalance = new ArrayList<>(), lat = new ArrayList<>(commits);
    final long salt = System.nanoTime() % 1000000000L;
    for (int round = 1; round <= rounds; round++) {
      Properties p = memberProps(o, "java-bench-group-" + salt + "-" + round, "latest");

      final long t0 = System.nanoTime();
      Member a = new Member(p, topic);
      while (a.owned.size() < partitions) {
        a.poll();
        if (System.nanoTime() - t0 > 30_000_000_000L) fail("member A has no assignment after 30 s");
      }
      first.add(ms(a.changedAt - t0));

      final long t1 = System.nanoTime();
      Member b = new Member(p, topic);
      while (true) {
        a.poll();
        b.poll();
        Set<Integer> all = new TreeSet<>(a.owned);
        all.addAll(b.owned);
        if (!a.owned.isEmpty() && !b.owned.isEmpty() && all.size() == a.owned.size() + b.owned.size()
            && all.size() == partitions) break;
        if (System.nanoTime() - t1 > 30_000_000_000L) fail("the second member's rebalance did not complete in 30 s");
      }
      rebalance.add(ms(Math.max(a.changedAt, b.changedAt) - t1));
      System.out.printf("round %d: first assignment %.1f ms, second member -> both assigned %.1f ms (A %d, B %d partitions)%n",
          round, first.get(round - 1), rebalance.get(round - 1), a.owned.size(), b.owned.size());

      if (round == rounds) {
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        for (int i = 1; i <= commits; i++) {
          offsets.clear();
          for (int part : a.owned) offsets.put(new TopicPartition(topic, part), new OffsetAndMetadata(i));
          final long c0 = System.nanoTime();
          a.consumer.commitSync(offsets);
          lat.add((System.nanoTime() - c0) / 1e3);
        }
        // commitSync throws when a commit fails. (committed() is not used as a cross-check: in this
        // setup kafka-clients 4.4.0 answered null for partitions the group does hold at the last offset,
        // as `kafkawire groups describe` shows; not investigated further.)
      }
      b.consumer.close();
      a.consumer.close();
    }
    List<Double> recovery = new ArrayList<>();
    for (int round = 1; round <= recoveryRounds; round++)
      recovery.add(recoveryRound(args, o, "java-bench-group-" + salt + "-kill-" + round, "killed-" + salt + "-" + round));
    double mean = 0;
    for (double v : lat) mean += v;
    mean /= lat.size();
    String recoveryKv = recovery.isEmpty() ? "recovery_ms=- recovery_min_ms=-"
        : String.format("recovery_ms=%.1f recovery_min_ms=%.1f", percentile(recovery, 0.5), Collections.min(recovery));
    System.out.printf("result client=java-%s protocol=%s partitions=%d rounds=%d first_assignment_ms=%.1f "
            + "first_assignment_min_ms=%.1f rebalance_ms=%.1f rebalance_min_ms=%.1f commits=%d commit_p50_us=%.0f "
            + "commit_p99_us=%.0f commit_mean_us=%.0f %s%n",
        version, protocol, partitions, rounds, percentile(first, 0.5), Collections.min(first), percentile(rebalance, 0.5),
        Collections.min(rebalance), lat.size(), percentile(lat, 0.5), percentile(lat, 0.99), mean, recoveryKv);
  }
}
