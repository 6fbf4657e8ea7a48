package kafkawire.peer;

import java.time.Duration;
import java.util.ArrayList;
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
import org.apache.kafka.clients.consumer.CooperativeStickyAssignor;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.consumer.RangeAssignor;
import org.apache.kafka.clients.consumer.RoundRobinAssignor;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * The consumer-group latencies of tools/bench/bench_group.cpp, measured the same way with the Java
 * KafkaConsumer (classic protocol), for tools/bench/group-bench. Lives with the Java peers so there is
 * one Maven project (one kafka-clients version, one build) for everything Java the project runs.
 *
 * <p>Usage: GroupBench --bootstrap B --topic T [--partitions 12] [--rounds 5] [--commits 10000]
 * [--strategy range] [--heartbeat-ms 100]
 *
 * <p>Per round, a new group: member A created and subscribed -> its listener holds every partition;
 * member B created and subscribed -> both hold their final share. In the last round A makes `commits`
 * commitSync calls (offset i on commit i). Members poll in turn with 1 ms timeouts; times come from
 * the rebalance listener. Last line: "result client=java ...". Exit 1 on a wrong assignment or a
 * failed commit.
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

  public static void main(String[] args) {
    Map<String, String> o = new HashMap<>(Map.of("--partitions", "12", "--rounds", "5", "--commits", "10000",
        "--strategy", "range", "--heartbeat-ms", "100"));
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
    String assignor;
    switch (strategy) {
      case "range": assignor = RangeAssignor.class.getName(); break;
      case "roundrobin": assignor = RoundRobinAssignor.class.getName(); break;
      case "cooperative-sticky": assignor = CooperativeStickyAssignor.class.getName(); break;
      default: fail("--strategy: range, roundrobin or cooperative-sticky, not " + strategy); return;
    }
    System.out.printf("GroupBench: Java kafka-clients %s, topic %s (%d partitions), strategy %s, "
            + "heartbeat.interval.ms %s, %d rounds, %d commits%n",
        org.apache.kafka.common.utils.internals.AppInfoParser.getVersion(), topic, partitions, strategy,
        o.get("--heartbeat-ms"), rounds, commits);
    List<Double> first = new ArrayList<>(), rebalance = new ArrayList<>(), lat = new ArrayList<>(commits);
    final long salt = System.nanoTime() % 1000000000L;
    for (int round = 1; round <= rounds; round++) {
      Properties p = new Properties();
      p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, o.get("--bootstrap"));
      p.put(ConsumerConfig.GROUP_ID_CONFIG, "java-bench-group-" + salt + "-" + round);
      p.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, "classic");
      p.put(ConsumerConfig.CLIENT_ID_CONFIG, "bench-group");
      p.put(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, assignor);
      p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
      p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "latest");
      p.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, "6000");
      p.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, o.get("--heartbeat-ms"));
      p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
      p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());

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
    double mean = 0;
    for (double v : lat) mean += v;
    mean /= lat.size();
    System.out.printf("result client=java rounds=%d first_assignment_ms=%.1f first_assignment_min_ms=%.1f rebalance_ms=%.1f "
            + "rebalance_min_ms=%.1f commits=%d commit_p50_us=%.0f commit_p99_us=%.0f commit_mean_us=%.0f%n",
        rounds, percentile(first, 0.5), Collections.min(first), percentile(rebalance, 0.5), Collections.min(rebalance),
        lat.size(), percentile(lat, 0.5), percentile(lat, 0.99), mean);
  }
}
