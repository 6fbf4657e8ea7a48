package kafkawire.golden;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerPartitionAssignor;
import org.apache.kafka.clients.consumer.ConsumerPartitionAssignor.GroupSubscription;
import org.apache.kafka.clients.consumer.ConsumerPartitionAssignor.Subscription;
import org.apache.kafka.clients.consumer.CooperativeStickyAssignor;
import org.apache.kafka.clients.consumer.RangeAssignor;
import org.apache.kafka.clients.consumer.RoundRobinAssignor;
import org.apache.kafka.common.Cluster;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;

/**
 * Mode "assignments": what kafka-clients' own classic-protocol assignors (RangeAssignor,
 * RoundRobinAssignor, CooperativeStickyAssignor) hand out for a fixed set of groups, so that
 * kafkawire's group/ assignors can be held to exactly the same results.
 *
 * <p>Output, one block per (case, assignor), UTF-8:
 * <pre>
 *   case &lt;name&gt; &lt;assignor&gt;
 *   member &lt;member-id&gt; &lt;group-instance-id|-&gt; &lt;generation&gt; topics=&lt;t,...|-&gt; owned=&lt;t:p,...|-&gt;
 *   partitions &lt;topic&gt;:&lt;count&gt; ...
 *   expect &lt;member-id&gt; &lt;t:p,...|-&gt;
 *   end
 * </pre>
 * "member" lines are in JoinGroup order: the assignors get the members in a HashMap filled in that
 * order, as ConsumerCoordinator.onLeaderElected does, and the sticky assignor's tie-breaks follow
 * that map's iteration order. Generation -1 means the subscription carried none (v0/v1). "partitions"
 * is the topic metadata (a subscribed topic missing there does not exist). "expect" lines come in
 * JoinGroup order too, each member's partitions sorted by topic then partition. Lines starting with
 * '#' are comments.
 *
 * <p>No case has racks: the assignors then use their rack-unaware logic, the only one kafkawire has.
 * Every case gets a fresh assignor instance: CooperativeStickyAssignor remembers the highest
 * generation it has seen across calls, and a golden case must not depend on the ones before it.
 */
final class GoldenAssignments {
    private static final List<String> ASSIGNORS = List.of("range", "roundrobin", "cooperative-sticky");
    private static final Node NODE = new Node(0, "localhost", 9092);

    private GoldenAssignments() {}

    private record Member(String id, String instance, int generation, List<String> topics,
                          List<TopicPartition> owned) {
        Member withOwned(List<TopicPartition> newOwned, int newGeneration) {
            return new Member(id, instance, newGeneration, topics, newOwned);
        }
    }

    private record Case(String name, List<Member> members, Map<String, Integer> partitions) {}

    static int run(PrintStream stdout, PrintStream err) {
        PrintStream out = new PrintStream(stdout, false, StandardCharsets.UTF_8);
        out.println("# Partition assignments by kafka-clients' own assignors (tests/golden/regen.sh assignments).");
        out.println("# Format: see tests/golden/gen/src/main/java/kafkawire/golden/GoldenAssignments.java.");
        int blocks = 0;
        List<Case> all = new ArrayList<>();
        all.addAll(handWritten());
        all.addAll(randomCases(new Random(20250429L), 90));
        for (Case c : all) {
            for (String assignor : ASSIGNORS) {
                emit(out, c, assignor, assign(assignor, c));
                blocks++;
            }
        }
        // Rebalance sequences: each round's result becomes the next round's owned partitions, as a
        // cooperative group does (the second rebalance hands out what the first one revoked).
        for (Case c : sequences()) {
            emit(out, c, "cooperative-sticky", assign("cooperative-sticky", c));
            blocks++;
        }
        out.flush();
        if (out.checkError()) {
            err.println("assignments: write failed");
            return 1;
        }
        err.println("assignments: " + blocks + " cases");
        return 0;
    }

    // ---- running Kafka's assignors ----

    private static ConsumerPartitionAssignor assignor(String name) {
        return switch (name) {
            case "range" -> new RangeAssignor();
            case "roundrobin" -> new RoundRobinAssignor();
            case "cooperative-sticky" -> new CooperativeStickyAssignor();
            default -> throw new IllegalArgumentException(name);
        };
    }

    /** member id -> assigned partitions, sorted. */
    private static Map<String, List<TopicPartition>> assign(String name, Case c) {
        Map<String, Subscription> subscriptions = new HashMap<>();
        for (Member m : c.members) {
            Subscription s = new Subscription(m.topics, null, m.owned, m.generation, Optional.empty());
            s.setGroupInstanceId(Optional.ofNullable(m.instance));
            subscriptions.put(m.id, s);
        }
        List<PartitionInfo> infos = new ArrayList<>();
        c.partitions.forEach((topic, count) -> {
            for (int p = 0; p < count; p++) {
                infos.add(new PartitionInfo(topic, p, NODE, new Node[] {NODE}, new Node[] {NODE}));
            }
        });
        Cluster cluster = new Cluster("golden", List.of(NODE), infos, Set.of(), Set.of());
        var result = assignor(name).assign(cluster, new GroupSubscription(subscriptions)).groupAssignment();
        Map<String, List<TopicPartition>> out = new LinkedHashMap<>();
        for (Member m : c.members) {
            List<TopicPartition> tps = new ArrayList<>(result.get(m.id).partitions());
            tps.sort(Comparator.comparing(TopicPartition::topic).thenComparingInt(TopicPartition::partition));
            out.put(m.id, tps);
        }
        return out;
    }

    private static void emit(PrintStream out, Case c, String assignor, Map<String, List<TopicPartition>> result) {
        out.println("case " + c.name + " " + assignor);
        for (Member m : c.members) {
            out.println("member " + m.id + " " + (m.instance == null ? "-" : m.instance) + " " + m.generation
                    + " topics=" + (m.topics.isEmpty() ? "-" : String.join(",", m.topics))
                    + " owned=" + partitionList(m.owned));
        }
        StringBuilder line = new StringBuilder("partitions");
        c.partitions.forEach((topic, count) -> line.append(' ').append(topic).append(':').append(count));
        out.println(line);
        result.forEach((member, tps) -> out.println("expect " + member + " " + partitionList(tps)));
        out.println("end");
    }

    private static String partitionList(List<TopicPartition> tps) {
        if (tps.isEmpty()) return "-";
        StringBuilder s = new StringBuilder();
        for (TopicPartition tp : tps) {
            if (s.length() > 0) s.append(',');
            s.append(tp.topic()).append(':').append(tp.partition());
        }
        return s.toString();
    }

    // ---- case builders ----

    /** Builds one case; topics "t0,t1", owned "t0:0,t1:3", instance null for a dynamic member. */
    private static final class B {
        private final String name;
        private final List<Member> members = new ArrayList<>();
        private final Map<String, Integer> partitions = new LinkedHashMap<>();

        B(String name) { this.name = name; }

        B topic(String topic, int count) {
            partitions.put(topic, count);
            return this;
        }

        B member(String id, String topics) { return member(id, null, -1, topics, ""); }

        B member(String id, String instance, int generation, String topics, String owned) {
            members.add(new Member(id, instance, generation, csv(topics), tps(owned)));
            return this;
        }

        Case build() { return new Case(name, List.copyOf(members), partitions); }
    }

    private static List<String> csv(String s) {
        return s.isEmpty() ? List.of() : List.of(s.split(","));
    }

    private static List<TopicPartition> tps(String s) {
        List<TopicPartition> out = new ArrayList<>();
        for (String item : csv(s)) {
            int colon = item.lastIndexOf(':');
            out.add(new TopicPartition(item.substring(0, colon), Integer.parseInt(item.substring(colon + 1))));
        }
        return out;
    }

    private static List<Case> handWritten() {
        List<Case> cases = new ArrayList<>();
        // The examples in the Javadoc of RangeAssignor and RoundRobinAssignor.
        cases.add(new B("doc-two-members-two-topics").topic("t0", 3).topic("t1", 3)
                .member("C0", "t0,t1").member("C1", "t0,t1").build());
        cases.add(new B("doc-three-members-different-topics").topic("t0", 1).topic("t1", 2).topic("t2", 3)
                .member("C0", "t0").member("C1", "t0,t1").member("C2", "t0,t1,t2").build());
        cases.add(new B("one-member-one-partition").topic("t0", 1).member("C0", "t0").build());
        cases.add(new B("one-member-four-topics").topic("t0", 1).topic("t1", 12).topic("t2", 5).topic("t3", 2)
                .member("C0", "t0,t1,t2,t3").build());
        cases.add(new B("three-members-twelve-partitions").topic("t0", 12)
                .member("C0", "t0").member("C1", "t0").member("C2", "t0").build());
        cases.add(new B("three-members-seven-partitions").topic("t0", 7)
                .member("C0", "t0").member("C1", "t0").member("C2", "t0").build());
        cases.add(new B("more-members-than-partitions").topic("t0", 3)
                .member("C0", "t0").member("C1", "t0").member("C2", "t0").member("C3", "t0").member("C4", "t0")
                .build());
        cases.add(new B("more-members-than-partitions-two-topics").topic("t0", 2).topic("t1", 1)
                .member("C0", "t0,t1").member("C1", "t0,t1").member("C2", "t0,t1").member("C3", "t0,t1")
                .member("C4", "t0,t1").build());
        cases.add(new B("four-topics-four-members").topic("t0", 1).topic("t1", 5).topic("t2", 12).topic("t3", 7)
                .member("C0", "t0,t1,t2,t3").member("C1", "t0,t1,t2,t3").member("C2", "t0,t1,t2,t3")
                .member("C3", "t0,t1,t2,t3").build());
        cases.add(new B("different-subscriptions").topic("t0", 4).topic("t1", 6).topic("t2", 3)
                .member("C0", "t0").member("C1", "t0,t1").member("C2", "t1,t2").build());
        cases.add(new B("disjoint-subscriptions").topic("t0", 4).topic("t1", 2).topic("t2", 5)
                .member("C0", "t0").member("C1", "t1").member("C2", "t2").member("C3", "t2").build());
        // Member ids sort one way, group.instance.ids the other.
        cases.add(new B("static-members").topic("t0", 5).topic("t1", 4)
                .member("consumer-a-1", "instance-2", -1, "t0,t1", "")
                .member("consumer-b-1", "instance-0", -1, "t0,t1", "")
                .member("consumer-c-1", "instance-1", -1, "t0,t1", "").build());
        cases.add(new B("static-and-dynamic-members").topic("t0", 7).topic("t1", 3)
                .member("consumer-a-1", null, -1, "t0,t1", "")
                .member("consumer-b-1", "zz-instance", -1, "t0,t1", "")
                .member("consumer-c-1", null, -1, "t0,t1", "")
                .member("consumer-d-1", "aa-instance", -1, "t0,t1", "").build());
        cases.add(new B("subscribed-topic-not-in-metadata").topic("t0", 4)
                .member("C0", "t0,missing").member("C1", "t0").build());
        cases.add(new B("only-unknown-topics").topic("t0", 4)
                .member("C0", "missing").member("C1", "other").build());
        // The sticky assignor compares every subscription with the first non-empty one it meets, so
        // whether an empty subscription counts as "equal" depends on the map's iteration order.
        cases.add(new B("empty-subscription").topic("t0", 5)
                .member("C0", "").member("C1", "t0").member("C2", "t0").build());
        cases.add(new B("empty-subscription-owning").topic("t0", 4)
                .member("A", null, 3, "", "t0:0,t0:1").member("B", null, 3, "t0", "t0:2").member("C", "t0").build());
        // More than 12 members: Java's HashMap grows to 32 buckets, which changes its iteration order.
        B many = new B("thirteen-members").topic("t0", 12).topic("t1", 10);
        for (int i = 0; i < 13; i++) many.member("m" + i, "t0,t1");
        cases.add(many.build());
        B manyOwned = new B("thirteen-members-owning").topic("t0", 12).topic("t1", 10);
        for (int i = 0; i < 13; i++) {
            StringBuilder owned = new StringBuilder();
            for (int p = i; p < 12; p += 5) owned.append(owned.length() > 0 ? "," : "").append("t0:").append(p);
            manyOwned.member("m" + i, null, 7, "t0,t1", owned.toString());
        }
        cases.add(manyOwned.build());
        // "Aa" and "BB" have the same String.hashCode, so these ids all land in one HashMap bucket and
        // iterate in insertion (JoinGroup) order.
        cases.add(new B("colliding-member-ids").topic("t0", 10)
                .member("BBBB", null, 2, "t0", "t0:0,t0:1,t0:2,t0:3").member("AaAa", null, 2, "t0", "t0:4,t0:5,t0:6,t0:7")
                .member("AaBB", null, 2, "t0", "t0:8,t0:9").member("BBAa", "t0").build());
        cases.add(new B("colliding-member-ids-reversed").topic("t0", 10)
                .member("BBAa", "t0").member("AaBB", null, 2, "t0", "t0:8,t0:9")
                .member("AaAa", null, 2, "t0", "t0:4,t0:5,t0:6,t0:7").member("BBBB", null, 2, "t0", "t0:0,t0:1,t0:2,t0:3")
                .build());
        // Java compares and hashes strings as UTF-16: U+1F600 (a surrogate pair) sorts before U+FF21.
        cases.add(new B("non-ascii-member-ids").topic("t0", 7).topic("t1", 2)
                .member("consumer-\uFF21-1", null, 4, "t0,t1", "t0:0,t0:1,t0:2,t0:3,t0:4")
                .member("consumer-\uD83D\uDE00-1", null, 4, "t0,t1", "t1:0,t1:1")
                .member("consumer-z-1", null, 4, "t0,t1", "")
                .member("consumer-\u00E9-1", "t0,t1").build());
        cases.add(new B("non-ascii-member-ids-general").topic("t0", 7).topic("t1", 2)
                .member("consumer-\uFF21-1", null, 4, "t0", "t0:0,t0:1,t0:2,t0:3,t0:4")
                .member("consumer-\uD83D\uDE00-1", null, 4, "t0,t1", "t1:0,t1:1")
                .member("consumer-z-1", null, 4, "t0,t1", "").build());

        // ---- previous ownership (only the sticky assignor looks at it) ----
        cases.add(new B("sticky-unchanged").topic("t0", 6)
                .member("C0", null, 3, "t0", "t0:0,t0:1,t0:2").member("C1", null, 3, "t0", "t0:3,t0:4,t0:5").build());
        cases.add(new B("sticky-unchanged-odd-split").topic("t0", 3).topic("t1", 4)
                .member("C0", null, 3, "t0,t1", "t0:2,t1:0,t1:3").member("C1", null, 3, "t0,t1", "t0:0,t0:1,t1:1,t1:2")
                .build());
        cases.add(new B("sticky-member-joins").topic("t0", 6)
                .member("C0", null, 3, "t0", "t0:0,t0:1,t0:2,t0:3,t0:4,t0:5").member("C1", "t0").build());
        cases.add(new B("sticky-member-joins-second-rebalance").topic("t0", 6)
                .member("C0", null, 4, "t0", "t0:0,t0:1,t0:2").member("C1", null, 4, "t0", "").build());
        cases.add(new B("sticky-member-left").topic("t0", 6)
                .member("C0", null, 3, "t0", "t0:0,t0:1,t0:2").member("C2", "t0").build());
        cases.add(new B("sticky-two-members-left").topic("t0", 5).topic("t1", 5)
                .member("C3", null, 9, "t0,t1", "t0:0,t1:0,t1:4").member("C0", null, 9, "t0,t1", "t0:1,t1:1")
                .build());
        cases.add(new B("sticky-over-quota").topic("t0", 6)
                .member("C0", null, 3, "t0", "t0:0,t0:1,t0:2,t0:3,t0:4").member("C1", null, 3, "t0", "t0:5")
                .member("C2", "t0").build());
        cases.add(new B("sticky-over-quota-many-topics").topic("t0", 3).topic("t1", 3).topic("t2", 4)
                .member("C0", null, 3, "t0,t1,t2", "t0:0,t0:1,t0:2,t1:0,t1:1,t1:2,t2:0,t2:1,t2:2,t2:3")
                .member("C1", "t0,t1,t2").member("C2", "t0,t1,t2").build());
        cases.add(new B("sticky-conflict-older-generation-loses").topic("t0", 5)
                .member("C0", null, 5, "t0", "t0:0,t0:1").member("C1", null, 4, "t0", "t0:1,t0:2")
                .member("C2", null, 5, "t0", "t0:3").build());
        cases.add(new B("sticky-conflict-newer-generation-listed-later").topic("t0", 5)
                .member("C1", null, 4, "t0", "t0:1,t0:2,t0:4").member("C0", null, 5, "t0", "t0:0,t0:1")
                .member("C2", null, 5, "t0", "t0:3").build());
        cases.add(new B("sticky-conflict-same-generation").topic("t0", 6)
                .member("C0", null, 5, "t0", "t0:0,t0:1,t0:2").member("C1", null, 5, "t0", "t0:2,t0:3")
                .member("C2", null, 5, "t0", "t0:4").build());
        cases.add(new B("sticky-conflict-same-generation-general").topic("t0", 6).topic("t1", 2)
                .member("C0", null, 5, "t0", "t0:0,t0:1,t0:2").member("C1", null, 5, "t0,t1", "t0:2,t0:3,t1:0")
                .member("C2", null, 5, "t0,t1", "t0:4").build());
        cases.add(new B("sticky-conflict-three-claims").topic("t0", 4)
                .member("C0", null, 5, "t0", "t0:0").member("C1", null, 5, "t0", "t0:0,t0:1")
                .member("C2", null, 6, "t0", "t0:0,t0:2").member("C3", null, 4, "t0", "t0:0,t0:3").build());
        cases.add(new B("sticky-missing-generation").topic("t0", 6)
                .member("C0", null, -1, "t0", "t0:0,t0:1,t0:2").member("C1", null, 2, "t0", "t0:2,t0:3,t0:4")
                .member("C2", "t0").build());
        cases.add(new B("sticky-old-generation-general").topic("t0", 6).topic("t1", 3)
                .member("C0", null, 2, "t0", "t0:0,t0:1,t0:2,t0:3").member("C1", null, 3, "t0,t1", "t0:4,t1:0")
                .member("C2", null, -1, "t0,t1", "t0:5,t1:1,t1:2").build());
        cases.add(new B("sticky-owned-unsubscribed-topic").topic("t0", 4).topic("t1", 2)
                .member("C0", null, 3, "t0", "t0:0,t0:1,t1:0").member("C1", null, 3, "t0,t1", "t0:2,t1:1")
                .member("C2", null, 3, "t0,t1", "t0:3").build());
        cases.add(new B("sticky-owned-deleted-topic").topic("t0", 4)
                .member("C0", null, 3, "t0", "gone:0,t0:0,gone:1").member("C1", null, 3, "t0", "t0:1,gone:2").build());
        cases.add(new B("sticky-general-keeps-owned").topic("t0", 4).topic("t1", 4).topic("t2", 2)
                .member("C0", null, 8, "t0,t1", "t0:0,t0:1,t0:2,t0:3,t1:0").member("C1", null, 8, "t1", "t1:1")
                .member("C2", null, 8, "t0,t1,t2", "t2:0,t2:1").build());
        cases.add(new B("sticky-general-single-consumer-topic").topic("t0", 3).topic("t1", 6).topic("t2", 2)
                .member("C0", null, 1, "t0,t1", "t1:0,t1:1,t1:2,t1:3").member("C1", null, 1, "t1,t2", "t2:0,t2:1")
                .member("C2", null, 1, "t1", "").build());
        cases.add(new B("sticky-static-member-new-id").topic("t0", 6)
                .member("consumer-1-new", "i-1", 4, "t0", "t0:0,t0:1,t0:2")
                .member("consumer-2-old", "i-2", 4, "t0", "t0:3,t0:4,t0:5").build());
        cases.add(new B("sticky-more-members-than-partitions").topic("t0", 2)
                .member("C0", null, 3, "t0", "t0:0,t0:1").member("C1", "t0").member("C2", "t0").member("C3", "t0")
                .build());
        cases.add(new B("sticky-all-owned-by-departed").topic("t0", 4).topic("t1", 4)
                .member("C5", null, 6, "t0,t1", "").member("C6", null, 6, "t0,t1", "").member("C7", "t0,t1").build());
        return cases;
    }

    // ---- random groups (fixed seed) ----

    private static List<Case> randomCases(Random r, int n) {
        List<Case> cases = new ArrayList<>();
        for (int i = 0; i < n; i++) cases.add(randomCase(r, "random-" + i));
        return cases;
    }

    private static Case randomCase(Random r, String name) {
        int nTopics = 1 + r.nextInt(4);
        Map<String, Integer> partitions = new LinkedHashMap<>();
        List<String> topics = new ArrayList<>();
        for (int t = 0; t < nTopics; t++) {
            String topic = "t" + t;
            topics.add(topic);
            partitions.put(topic, 1 + r.nextInt(12));
        }
        int nMembers = 1 + r.nextInt(r.nextInt(8) == 0 ? 14 : 5);
        boolean sameSubscriptions = r.nextBoolean();
        Set<String> ids = new LinkedHashSet<>();
        while (ids.size() < nMembers) ids.add(randomMemberId(r));
        List<Member> members = new ArrayList<>();
        int instance = 0;
        for (String id : ids) {
            List<String> subscribed;
            if (sameSubscriptions) {
                subscribed = topics;
            } else {
                subscribed = new ArrayList<>();
                for (String t : topics) if (r.nextInt(3) != 0) subscribed.add(t);
                if (subscribed.isEmpty()) subscribed.add(topics.get(r.nextInt(topics.size())));
                if (r.nextInt(4) == 0) Collections.shuffle(subscribed, r);
            }
            if (r.nextInt(12) == 0) {
                subscribed = new ArrayList<>(subscribed);
                subscribed.add("missing");
            }
            String inst = r.nextInt(3) == 0 ? "instance-" + (instance++) + "-" + r.nextInt(100) : null;
            members.add(new Member(id, inst, -1, List.copyOf(subscribed), List.of()));
        }
        Case fresh = new Case(name, members, partitions);
        return switch (r.nextInt(4)) {
            case 0 -> fresh;
            case 1 -> withScatteredOwnership(r, fresh);
            default -> afterMembershipChange(r, fresh);
        };
    }

    private static String randomMemberId(Random r) {
        // Shaped like a broker-made member id: client.id, '-', then a UUID.
        return "consumer-" + (char) ('a' + r.nextInt(3)) + "-" + Long.toHexString(r.nextLong() & 0xffffffffffL);
    }

    /** Partitions spread at random over current and departed members, some claimed twice. */
    private static Case withScatteredOwnership(Random r, Case c) {
        int n = c.members.size();
        List<List<TopicPartition>> owned = new ArrayList<>();
        for (int i = 0; i < n; i++) owned.add(new ArrayList<>());
        c.partitions.forEach((topic, count) -> {
            for (int p = 0; p < count; p++) {
                int owner = r.nextInt(n + 2); // n, n+1: a member that has left
                if (owner < n) owned.get(owner).add(new TopicPartition(topic, p));
                if (r.nextInt(10) == 0) owned.get(r.nextInt(n)).add(new TopicPartition(topic, p));
            }
        });
        List<Member> members = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int generation = switch (r.nextInt(6)) {
                case 0 -> -1;
                case 1 -> 4;
                default -> 5;
            };
            members.add(c.members.get(i).withOwned(owned.get(i), generation));
        }
        return new Case(c.name, members, c.partitions);
    }

    /** The sticky assignor's own result as owned partitions, then a member joins, leaves or resubscribes. */
    private static Case afterMembershipChange(Random r, Case c) {
        Map<String, List<TopicPartition>> before = assign("cooperative-sticky", c);
        List<Member> members = new ArrayList<>();
        for (Member m : c.members) members.add(m.withOwned(before.get(m.id), 5));
        int change = r.nextInt(3);
        if (change == 0 || members.size() == 1) {
            String id;
            do {
                id = randomMemberId(r);
            } while (before.containsKey(id));
            members.add(r.nextInt(members.size() + 1), new Member(id, null, -1, members.get(0).topics, List.of()));
        } else if (change == 1) {
            members.remove(r.nextInt(members.size()));
        } else {
            int i = r.nextInt(members.size());
            Member m = members.get(i);
            List<String> topics = new ArrayList<>(c.partitions.keySet());
            List<String> subscribed = new ArrayList<>();
            for (String t : topics) if (r.nextBoolean()) subscribed.add(t);
            if (subscribed.isEmpty()) subscribed.add(topics.get(0));
            members.set(i, new Member(m.id, m.instance, m.generation, List.copyOf(subscribed), m.owned));
        }
        return new Case(c.name, members, c.partitions);
    }

    // ---- rebalance sequences ----

    private static List<Case> sequences() {
        List<Case> out = new ArrayList<>();
        Map<String, Integer> two = new LinkedHashMap<>();
        two.put("t0", 6);
        two.put("t1", 5);
        List<String> both = List.of("t0", "t1");
        // Members join one at a time, then leave one at a time.
        List<List<String>> scale = new ArrayList<>();
        for (int k = 1; k <= 5; k++) scale.add(idsUpTo("S", k));
        for (int k = 4; k >= 1; k--) scale.add(idsUpTo("S", 5).subList(5 - k, 5));
        out.addAll(sequence("seq-scale", two, scale, id -> both));
        // Members with different subscriptions come and go (the general algorithm).
        Map<String, Integer> three = new LinkedHashMap<>();
        three.put("t0", 4);
        three.put("t1", 7);
        three.put("t2", 3);
        Map<String, List<String>> subs = Map.of(
                "G0", List.of("t0", "t1"), "G1", List.of("t1"), "G2", List.of("t0", "t1", "t2"), "G3", List.of("t2"),
                "G4", List.of("t1", "t2"));
        out.addAll(sequence("seq-general", three, List.of(
                List.of("G0"), List.of("G0", "G1"), List.of("G0", "G1", "G2"), List.of("G1", "G2", "G3"),
                List.of("G1", "G2", "G3", "G4"), List.of("G0", "G2", "G4"), List.of("G4")), subs::get));
        return out;
    }

    private static List<String> idsUpTo(String prefix, int k) {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < k; i++) ids.add(prefix + i);
        return ids;
    }

    /**
     * Runs rebalances for each membership in turn; after each change, rebalances again until nothing
     * is revoked any more (a cooperative member that loses partitions rejoins at once).
     */
    private static List<Case> sequence(String name, Map<String, Integer> partitions, List<List<String>> memberships,
                                       java.util.function.Function<String, List<String>> topicsOf) {
        List<Case> out = new ArrayList<>();
        Map<String, List<TopicPartition>> owned = new HashMap<>();
        int generation = 0;
        int round = 0;
        for (List<String> ids : memberships) {
            for (int attempt = 0; attempt < 3; attempt++) {
                List<Member> members = new ArrayList<>();
                for (String id : ids) {
                    List<TopicPartition> mine = owned.getOrDefault(id, List.of());
                    members.add(new Member(id, null, owned.containsKey(id) ? generation : -1, topicsOf.apply(id), mine));
                }
                Case c = new Case(name + "-" + (round++), members, partitions);
                out.add(c);
                Map<String, List<TopicPartition>> result = assign("cooperative-sticky", c);
                generation++;
                boolean revoked = false;
                for (Member m : members) {
                    if (!result.get(m.id).containsAll(m.owned)) revoked = true;
                }
                owned.clear();
                owned.putAll(result);
                if (!revoked) break;
            }
        }
        return out;
    }
}
