/* bench_group_rdkafka: the consumer-group latencies of bench_group.cpp, measured the same way with
 * librdkafka's public API (Debian librdkafka-dev), so tools/bench/group-bench can compare.
 *
 *   bench_group_rdkafka --bootstrap HOST:PORT --topic T [--partitions 12] [--rounds 5] [--commits 10000]
 *                       [--strategy range] [--heartbeat-ms 100]
 *
 * The topic must exist with `partitions` partitions (group-bench creates it with bench_group). Per
 * round, a new group: subscribe of A -> A's rebalance callback with every partition; subscribe of B ->
 * both hold their final share. In the last round A makes `commits` synchronous rd_kafka_commit calls
 * (offset i on commit i). Members poll in turn with 1 ms timeouts; times come from the rebalance
 * callback. Last line: "result client=librdkafka ...". Exit status 1 on a wrong assignment or a failed
 * commit. */
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void die(const char* what) {
  fprintf(stderr, "bench_group_rdkafka: %s\n", what);
  exit(1);
}

struct member {
  rd_kafka_t* rk;
  int owned[1024]; /* owned[p] != 0: partition p is ours */
  int count;
  double changed_at;
};

static int npartitions = 12;

static void set_owned(struct member* m, const rd_kafka_topic_partition_list_t* parts, int value) {
  for (int i = 0; i < parts->cnt; i++) {
    int p = parts->elems[i].partition;
    if (p < 0 || p >= 1024) continue;
    if (m->owned[p] != value) m->count += value ? 1 : -1;
    m->owned[p] = value;
  }
  m->changed_at = now_ms();
}

static void rebalance_cb(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts,
                         void* opaque) {
  struct member* m = opaque;
  const int cooperative = strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    if (cooperative) {
      rd_kafka_error_t* e = rd_kafka_incremental_assign(rk, parts);
      if (e) rd_kafka_error_destroy(e);
    } else {
      rd_kafka_assign(rk, parts);
      memset(m->owned, 0, sizeof m->owned);
      m->count = 0;
    }
    set_owned(m, parts, 1);
  } else {
    if (cooperative) {
      rd_kafka_error_t* e = rd_kafka_incremental_unassign(rk, parts);
      if (e) rd_kafka_error_destroy(e);
    } else {
      rd_kafka_assign(rk, NULL);
    }
    set_owned(m, parts, 0);
  }
}

static void member_start(struct member* m, const char* bootstrap, const char* group, const char* strategy,
                         int heartbeat_ms, const char* topic) {
  char errstr[512], hb[32];
  memset(m, 0, sizeof *m);
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  snprintf(hb, sizeof hb, "%d", heartbeat_ms);
  const char* kv[][2] = {{"bootstrap.servers", bootstrap},
                         {"group.id", group},
                         {"client.id", "bench-group"},
                         {"enable.auto.commit", "false"},
                         {"auto.offset.reset", "latest"},
                         {"session.timeout.ms", "6000"},
                         {"heartbeat.interval.ms", hb},
                         {"partition.assignment.strategy", strategy},
                         {"log_level", "3"}};
  for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++)
    if (rd_kafka_conf_set(conf, kv[i][0], kv[i][1], errstr, sizeof errstr) != RD_KAFKA_CONF_OK) die(errstr);
  rd_kafka_conf_set_rebalance_cb(conf, rebalance_cb);
  rd_kafka_conf_set_opaque(conf, m);
  m->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
  if (!m->rk) die(errstr);
  rd_kafka_poll_set_consumer(m->rk);
  rd_kafka_topic_partition_list_t* sub = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(sub, topic, RD_KAFKA_PARTITION_UA);
  rd_kafka_resp_err_t err = rd_kafka_subscribe(m->rk, sub);
  rd_kafka_topic_partition_list_destroy(sub);
  if (err) die(rd_kafka_err2str(err));
}

static void poll_once(struct member* m) {
  rd_kafka_message_t* msg = rd_kafka_consumer_poll(m->rk, 1);
  if (!msg) return;
  if (msg->err && msg->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
    char text[512];
    snprintf(text, sizeof text, "poll: %s", rd_kafka_message_errstr(msg));
    rd_kafka_message_destroy(msg);
    die(text);
  }
  rd_kafka_message_destroy(msg);
}

static void member_close(struct member* m) {
  rd_kafka_consumer_close(m->rk);
  rd_kafka_destroy(m->rk);
}

static int cmp_double(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return x < y ? -1 : x > y;
}

static double percentile(double* v, int n, double q) {
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  int i = (int)(q * (n - 1) + 0.5);
  return v[i < n ? i : n - 1];
}

static int whole(const char* flag, const char* v, int min) {
  char* end;
  long n = strtol(v, &end, 10);
  if (!*v || *end || n < min || n > 100000000) {
    fprintf(stderr, "bench_group_rdkafka: %s wants a whole number >= %d, got '%s'\n", flag, min, v);
    exit(2);
  }
  return (int)n;
}

int main(int argc, char** argv) {
  const char *bootstrap = NULL, *topic = NULL, *strategy = "range";
  int rounds = 5, commits = 10000, heartbeat_ms = 100;
  for (int i = 1; i < argc; i += 2) {
    if (i + 1 >= argc) {
      fprintf(stderr, "bench_group_rdkafka: %s needs a value\n", argv[i]);
      return 2;
    }
    const char *a = argv[i], *v = argv[i + 1];
    if (!strcmp(a, "--bootstrap"))
      bootstrap = v;
    else if (!strcmp(a, "--topic"))
      topic = v;
    else if (!strcmp(a, "--partitions"))
      npartitions = whole(a, v, 2);
    else if (!strcmp(a, "--rounds"))
      rounds = whole(a, v, 1);
    else if (!strcmp(a, "--commits"))
      commits = whole(a, v, 1);
    else if (!strcmp(a, "--strategy"))
      strategy = v;
    else if (!strcmp(a, "--heartbeat-ms"))
      heartbeat_ms = whole(a, v, 1);
    else {
      fprintf(stderr, "bench_group_rdkafka: unknown option %s\n", a);
      return 2;
    }
  }
  if (!bootstrap || !topic) {
    fprintf(stderr,
            "usage: bench_group_rdkafka --bootstrap HOST:PORT --topic T [--partitions N] [--rounds N] "
            "[--commits N] [--strategy S] [--heartbeat-ms N]\n");
    return 2;
  }
  if (npartitions > 1024) die("--partitions: at most 1024");
  printf(
      "bench_group_rdkafka: librdkafka %s, topic %s (%d partitions), strategy %s, heartbeat.interval.ms %d, "
      "%d rounds, %d commits\n",
      rd_kafka_version_str(), topic, npartitions, strategy, heartbeat_ms, rounds, commits);
  double *first = calloc((size_t)rounds, sizeof(double)), *rebalance = calloc((size_t)rounds, sizeof(double));
  double* lat = calloc((size_t)commits, sizeof(double));
  if (!first || !rebalance || !lat) die("out of memory");
  char salt[32];
  snprintf(salt, sizeof salt, "%ld", (long)(now_ms() * 1000) % 1000000000);
  static struct member a, b;
  for (int round = 1; round <= rounds; round++) {
    char group[128];
    snprintf(group, sizeof group, "rdkafka-bench-group-%s-%d", salt, round);
    const double t0 = now_ms();
    member_start(&a, bootstrap, group, strategy, heartbeat_ms, topic);
    while (a.count < npartitions) {
      poll_once(&a);
      if (now_ms() - t0 > 30000) die("member A has no assignment after 30 s");
    }
    first[round - 1] = a.changed_at - t0;

    const double t1 = now_ms();
    member_start(&b, bootstrap, group, strategy, heartbeat_ms, topic);
    for (;;) {
      poll_once(&a);
      poll_once(&b);
      int overlap = 0;
      for (int p = 0; p < npartitions; p++) overlap += a.owned[p] && b.owned[p];
      if (a.count > 0 && b.count > 0 && !overlap && a.count + b.count == npartitions) break;
      if (now_ms() - t1 > 30000) die("the second member's rebalance did not complete in 30 s");
    }
    rebalance[round - 1] = (a.changed_at > b.changed_at ? a.changed_at : b.changed_at) - t1;
    printf(
        "round %d: first assignment %.1f ms, second member -> both assigned %.1f ms (A %d, B %d "
        "partitions)\n",
        round, first[round - 1], rebalance[round - 1], a.count, b.count);
    fflush(stdout);

    if (round == rounds) {
      rd_kafka_topic_partition_list_t* offsets = rd_kafka_topic_partition_list_new(a.count);
      for (int p = 0; p < npartitions; p++)
        if (a.owned[p]) rd_kafka_topic_partition_list_add(offsets, topic, p);
      for (int i = 1; i <= commits; i++) {
        for (int k = 0; k < offsets->cnt; k++) offsets->elems[k].offset = i;
        const double c0 = now_ms();
        rd_kafka_resp_err_t err = rd_kafka_commit(a.rk, offsets, 0 /* sync */);
        lat[i - 1] = (now_ms() - c0) * 1000.0;
        if (err) die(rd_kafka_err2str(err));
        for (int k = 0; k < offsets->cnt; k++)
          if (offsets->elems[k].err) die(rd_kafka_err2str(offsets->elems[k].err));
      }
      /* What the group holds now is the last commit. */
      rd_kafka_resp_err_t err = rd_kafka_committed(a.rk, offsets, 10000);
      if (err) die(rd_kafka_err2str(err));
      for (int k = 0; k < offsets->cnt; k++)
        if (offsets->elems[k].offset != commits) die("a committed offset is not the last commit");
      rd_kafka_topic_partition_list_destroy(offsets);
    }
    member_close(&b);
    member_close(&a);
  }
  double mean = 0;
  for (int i = 0; i < commits; i++) mean += lat[i];
  mean /= commits;
  double first_min = first[0], reb_min = rebalance[0];
  for (int i = 1; i < rounds; i++) {
    if (first[i] < first_min) first_min = first[i];
    if (rebalance[i] < reb_min) reb_min = rebalance[i];
  }
  const double first_med = percentile(first, rounds, 0.5), reb_med = percentile(rebalance, rounds, 0.5);
  const double p50 = percentile(lat, commits, 0.5), p99 = percentile(lat, commits, 0.99);
  printf(
      "result client=librdkafka rounds=%d first_assignment_ms=%.1f first_assignment_min_ms=%.1f "
      "rebalance_ms=%.1f "
      "rebalance_min_ms=%.1f commits=%d commit_p50_us=%.0f commit_p99_us=%.0f commit_mean_us=%.0f\n",
      rounds, first_med, first_min, reb_med, reb_min, commits, p50, p99, mean);
  free(first);
  free(rebalance);
  free(lat);
  return 0;
}
