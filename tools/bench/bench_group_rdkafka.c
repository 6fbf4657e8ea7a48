/* bench_group_rdkafka: the consumer-group latencies of bench_group.cpp, measured the same way with
 * librdkafka's public API (Debian librdkafka-dev), so tools/bench/group-bench can compare.
 *
 *   bench_group_rdkafka --bootstrap HOST:PORT --topic T [--partitions 12] [--rounds 5] [--commits 10000]
 *                       [--strategy range] [--heartbeat-ms 100] [--group-protocol classic|consumer]
 *                       [--recovery-rounds 3]
 *   bench_group_rdkafka --version      (the librdkafka it runs with: group-bench loads others through
 *                                       LD_LIBRARY_PATH; it is built against Debian's headers)
 *
 * The topic must exist with `partitions` partitions (group-bench creates it with bench_group). Per
 * round, a new group: subscribe of A -> A's rebalance callback with every partition; subscribe of B ->
 * both hold their final share. In the last round A makes `commits` synchronous rd_kafka_commit calls
 * (offset i on commit i). Members poll in turn with 1 ms timeouts; times come from the rebalance
 * callback. Then the recovery rounds of bench_group.cpp: a member in a child process (this program with
 * --child GROUP, reporting "owned 0,1,..." on stdout) shares the partitions with a survivor here, is
 * SIGKILLed, a record goes to every partition, and the clock stops when the survivor has consumed it from
 * each of the dead member's partitions. group.protocol=consumer (KIP-848, librdkafka 2.12+) leaves
 * session.timeout.ms, heartbeat.interval.ms and partition.assignment.strategy to the broker.
 * Last line: "result client=librdkafka-VERSION ...". Exit status 1 on a wrong assignment or a failed
 * commit. */
#include <errno.h>
#include <fcntl.h>
#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char** environ;

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
static const char* group_protocol = "classic";

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

static void set_conf(rd_kafka_conf_t* conf, const char* key, const char* value) {
  char errstr[512];
  if (rd_kafka_conf_set(conf, key, value, errstr, sizeof errstr) != RD_KAFKA_CONF_OK) die(errstr);
}

static void member_start(struct member* m, const char* bootstrap, const char* group, const char* strategy,
                         int heartbeat_ms, const char* topic, const char* reset) {
  char errstr[512], hb[32];
  memset(m, 0, sizeof *m);
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  snprintf(hb, sizeof hb, "%d", heartbeat_ms);
  const char* kv[][2] = {{"bootstrap.servers", bootstrap}, {"group.id", group},
                         {"client.id", "bench-group"},     {"enable.auto.commit", "false"},
                         {"auto.offset.reset", reset},     {"log_level", "3"}};
  for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++) set_conf(conf, kv[i][0], kv[i][1]);
  if (strcmp(group_protocol, "consumer") == 0) {
    set_conf(conf, "group.protocol", "consumer"); /* the broker owns the rest (librdkafka refuses them) */
  } else {
    set_conf(conf, "session.timeout.ms", "6000");
    set_conf(conf, "heartbeat.interval.ms", hb);
    set_conf(conf, "partition.assignment.strategy", strategy);
  }
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

static void sleep_ms(int n) {
  struct timespec ts = {n / 1000, (long)(n % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static void print_owned(const struct member* m) {
  char line[8192];
  size_t len = (size_t)snprintf(line, sizeof line, "owned %s", m->count ? "" : "-");
  const char* sep = "";
  for (int p = 0; p < npartitions && len + 16 < sizeof line; p++)
    if (m->owned[p]) {
      len += (size_t)snprintf(line + len, sizeof line - len, "%s%d", sep, p);
      sep = ",";
    }
  printf("%s\n", line);
  fflush(stdout);
}

/* --child GROUP: one member that owns what it is given until it is killed, reporting its partitions. */
static int child_member(const char* bootstrap, const char* group, const char* strategy, int heartbeat_ms,
                        const char* topic) {
  const pid_t parent = getppid();
  static struct member m;
  member_start(&m, bootstrap, group, strategy, heartbeat_ms, topic, "earliest");
  double reported_at = -1;
  const double t0 = now_ms();
  while (getppid() == parent && now_ms() - t0 < 300000) { /* the parent's end is ours too */
    rd_kafka_message_t* msg = rd_kafka_consumer_poll(m.rk, 5);
    if (msg) rd_kafka_message_destroy(msg);
    if (m.changed_at != reported_at) {
      print_owned(&m);
      reported_at = m.changed_at;
    }
  }
  return 0;
}

/* The child member, seen from the parent: its pid and what it last reported. */
struct child {
  pid_t pid;
  int out;
  char buf[8192];
  size_t len;
  int owned[1024];
  int count;
};

static void child_start(struct child* c, char** argv, int argc, const char* group, const char* topic) {
  memset(c, 0, sizeof *c);
  char** args = calloc((size_t)argc + 5, sizeof *args);
  if (!args) die("out of memory");
  for (int i = 0; i < argc; i++) args[i] = argv[i];
  args[argc] = "--child";
  args[argc + 1] = (char*)group;
  args[argc + 2] = "--topic";
  args[argc + 3] = (char*)topic;
  int fds[2];
  if (pipe(fds) != 0) die("pipe failed");
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
  posix_spawn_file_actions_addclose(&fa, fds[0]);
  int err = posix_spawn(&c->pid, "/proc/self/exe", &fa, NULL, args, environ);
  posix_spawn_file_actions_destroy(&fa);
  free(args);
  close(fds[1]);
  if (err) die("cannot start the child member");
  c->out = fds[0];
  fcntl(c->out, F_SETFL, fcntl(c->out, F_GETFL) | O_NONBLOCK);
  fcntl(c->out, F_SETFD, FD_CLOEXEC);
}

static void child_drain(struct child* c) {
  ssize_t n;
  while ((n = read(c->out, c->buf + c->len, sizeof c->buf - 1 - c->len)) > 0) c->len += (size_t)n;
  char* nl;
  c->buf[c->len] = 0;
  while ((nl = strchr(c->buf, '\n'))) {
    *nl = 0;
    if (!strncmp(c->buf, "owned ", 6)) {
      memset(c->owned, 0, sizeof c->owned);
      c->count = 0;
      for (char* p = c->buf + 6; *p && *p != '-';) {
        long v = strtol(p, &p, 10);
        if (v >= 0 && v < 1024 && !c->owned[v]) c->owned[v] = 1, c->count++;
        if (*p) p++;
      }
    }
    c->len -= (size_t)(nl + 1 - c->buf);
    memmove(c->buf, nl + 1, c->len + 1);
  }
  int status;
  if (c->pid > 0 && waitpid(c->pid, &status, WNOHANG) == c->pid) die("the child member exited on its own");
}

static void child_kill(struct child* c) {
  kill(c->pid, SIGKILL);
  waitpid(c->pid, NULL, 0);
  c->pid = -1;
  close(c->out);
}

static int delivery_failures;
static void on_delivery(rd_kafka_t* rk, const rd_kafka_message_t* msg, void* opaque) {
  (void)rk, (void)opaque;
  if (msg->err) delivery_failures++;
}

/* One recovery round; returns ms from the SIGKILL until the survivor consumed the record produced after it
 * on each of the dead member's partitions. */
static double recovery_round(char** argv, int argc, const char* bootstrap, const char* group,
                             const char* strategy, int heartbeat_ms, const char* topic, const char* marker) {
  char errstr[512];
  rd_kafka_conf_t* pconf = rd_kafka_conf_new();
  set_conf(pconf, "bootstrap.servers", bootstrap);
  set_conf(pconf, "linger.ms", "0");
  set_conf(pconf, "log_level", "3");
  rd_kafka_conf_set_dr_msg_cb(pconf, on_delivery);
  rd_kafka_t* producer = rd_kafka_new(RD_KAFKA_PRODUCER, pconf, errstr, sizeof errstr);
  if (!producer) die(errstr);
  /* connected and with metadata before the clock starts */
  if (rd_kafka_producev(producer, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(0),
                        RD_KAFKA_V_VALUE((void*)"warm-up", 7), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                        RD_KAFKA_V_END))
    die("produce failed");
  if (rd_kafka_flush(producer, 30000) || delivery_failures) die("the warm-up record was not delivered");

  static struct child c;
  static struct member s;
  child_start(&c, argv, argc, group, topic);
  const double t0 = now_ms();
  while (c.count < npartitions) {
    child_drain(&c);
    if (now_ms() - t0 > 60000) die("the child member has no assignment after 60 s");
    sleep_ms(1);
  }
  member_start(&s, bootstrap, group, strategy, heartbeat_ms, topic, "earliest");
  for (;;) {
    rd_kafka_message_t* msg = rd_kafka_consumer_poll(s.rk, 1);
    if (msg) rd_kafka_message_destroy(msg);
    child_drain(&c);
    int overlap = 0;
    for (int p = 0; p < npartitions; p++) overlap += s.owned[p] && c.owned[p];
    if (s.count > 0 && c.count > 0 && !overlap && s.count + c.count == npartitions) break;
    if (now_ms() - t0 > 60000) die("the survivor and the child did not share the partitions in 60 s");
  }
  static int dead[1024], seen[1024];
  memcpy(dead, c.owned, sizeof dead);
  memset(seen, 0, sizeof seen);
  const int ndead = c.count;
  int nseen = 0;

  child_kill(&c);
  const double t_kill = now_ms();
  const size_t mlen = strlen(marker);
  for (int p = 0; p < npartitions; p++)
    if (rd_kafka_producev(producer, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(p),
                          RD_KAFKA_V_VALUE((void*)marker, mlen), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                          RD_KAFKA_V_END))
      die("produce failed");
  while (nseen < ndead) {
    rd_kafka_poll(producer, 0);
    rd_kafka_message_t* msg = rd_kafka_consumer_poll(s.rk, 1);
    if (msg) {
      if (msg->err && msg->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) die(rd_kafka_message_errstr(msg));
      const int p = msg->partition;
      if (!msg->err && p >= 0 && p < 1024 && dead[p] && !seen[p] && msg->len == mlen &&
          !memcmp(msg->payload, marker, mlen))
        seen[p] = 1, nseen++;
      rd_kafka_message_destroy(msg);
    }
    if (delivery_failures) die("a record was not delivered");
    if (now_ms() - t_kill > 60000)
      die("60 s after the kill the survivor has not consumed every dead partition");
  }
  const double recovery = now_ms() - t_kill;
  printf("recovery: the child's %d partitions consumed again %.1f ms after its SIGKILL\n", ndead, recovery);
  fflush(stdout);
  member_close(&s);
  rd_kafka_flush(producer, 10000);
  rd_kafka_destroy(producer);
  return recovery;
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
  const char* child_group = NULL;
  int rounds = 5, commits = 10000, heartbeat_ms = 100, recovery_rounds = 3;
  if (argc == 2 && !strcmp(argv[1], "--version")) {
    printf("%s\n", rd_kafka_version_str());
    return 0;
  }
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
    else if (!strcmp(a, "--group-protocol"))
      group_protocol = v;
    else if (!strcmp(a, "--recovery-rounds"))
      recovery_rounds = whole(a, v, 0);
    else if (!strcmp(a, "--child"))
      child_group = v;
    else {
      fprintf(stderr, "bench_group_rdkafka: unknown option %s\n", a);
      return 2;
    }
  }
  if (!bootstrap || !topic) {
    fprintf(stderr,
            "usage: bench_group_rdkafka --bootstrap HOST:PORT --topic T [--partitions N] [--rounds N] "
            "[--commits N] [--strategy S] [--heartbeat-ms N] [--group-protocol classic|consumer] "
            "[--recovery-rounds N]\n");
    return 2;
  }
  if (strcmp(group_protocol, "classic") && strcmp(group_protocol, "consumer")) {
    fprintf(stderr, "bench_group_rdkafka: --group-protocol: classic or consumer, not %s\n", group_protocol);
    return 2;
  }
  if (npartitions > 1024) die("--partitions: at most 1024");
  if (child_group) return child_member(bootstrap, child_group, strategy, heartbeat_ms, topic);
  printf(
      "bench_group_rdkafka: librdkafka %s, topic %s (%d partitions), group.protocol %s, strategy %s, "
      "heartbeat.interval.ms %d (classic only), %d rounds, %d commits, %d recovery rounds\n",
      rd_kafka_version_str(), topic, npartitions, group_protocol, strategy, heartbeat_ms, rounds, commits,
      recovery_rounds);
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
    member_start(&a, bootstrap, group, strategy, heartbeat_ms, topic, "latest");
    while (a.count < npartitions) {
      poll_once(&a);
      if (now_ms() - t0 > 30000) die("member A has no assignment after 30 s");
    }
    first[round - 1] = a.changed_at - t0;

    const double t1 = now_ms();
    member_start(&b, bootstrap, group, strategy, heartbeat_ms, topic, "latest");
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
  double* recovery = calloc((size_t)recovery_rounds + 1, sizeof(double));
  if (!recovery) die("out of memory");
  for (int round = 1; round <= recovery_rounds; round++) {
    char group[128], marker[128];
    snprintf(group, sizeof group, "rdkafka-bench-group-%s-kill-%d", salt, round);
    snprintf(marker, sizeof marker, "killed-%s-%d", salt, round);
    recovery[round - 1] = recovery_round(argv, argc, bootstrap, group, strategy, heartbeat_ms, topic, marker);
  }
  char recovery_kv[96] = "recovery_ms=- recovery_min_ms=-";
  if (recovery_rounds > 0) {
    double min = recovery[0];
    for (int i = 1; i < recovery_rounds; i++)
      if (recovery[i] < min) min = recovery[i];
    snprintf(recovery_kv, sizeof recovery_kv, "recovery_ms=%.1f recovery_min_ms=%.1f",
             percentile(recovery, recovery_rounds, 0.5), min);
  }
  free(recovery);
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
      "result client=librdkafka-%s protocol=%s partitions=%d rounds=%d first_assignment_ms=%.1f "
      "first_assignment_min_ms=%.1f rebalance_ms=%.1f rebalance_min_ms=%.1f commits=%d commit_p50_us=%.0f "
      "commit_p99_us=%.0f commit_mean_us=%.0f %s\n",
      rd_kafka_version_str(), group_protocol, npartitions, rounds, first_med, first_min, reb_med, reb_min,
      commits, p50, p99, mean, recovery_kv);
  free(first);
  free(rebalance);
  free(lat);
  return 0;
}
