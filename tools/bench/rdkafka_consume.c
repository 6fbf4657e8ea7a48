/* rdkafka_consume: the librdkafka side of the consume benchmark (tools/bench/consume-bench), the same job
 * as bench_consume through librdkafka's public API: assign every partition of a topic from the beginning,
 * poll until --count records, read every key and value byte (checksum printed), then check that the
 * positions add up to exactly --count. check.crcs=true, isolation.level=read_uncommitted, and the fetch
 * settings of the kafkawire consumer where they have a counterpart (see consume-bench). Messages are taken
 * 500 at a time with rd_kafka_consume_batch_queue (like a poll of max.poll.records=500).
 *
 *   rdkafka_consume --bootstrap host:port --topic T --count N [-X key=value ...]
 *   rdkafka_consume --version   (the librdkafka it runs on, which LD_LIBRARY_PATH may change)
 *
 * Prints: records=N bytes=B checksum=X wall_s=S */
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void usage(const char* problem) {
  fprintf(stderr,
          "rdkafka_consume: %s\nusage: rdkafka_consume --bootstrap host:port --topic T --count N [-X "
          "key=value ...]\n",
          problem);
  exit(2);
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Reads every byte: sums them 8 at a time (the same function as bench_consume's). */
static unsigned long long touch(const unsigned char* p, size_t n) {
  unsigned long long s = 0, w;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    memcpy(&w, p + i, 8);
    s += w;
  }
  for (; i < n; ++i) s += p[i];
  return s;
}

static void set(rd_kafka_conf_t* conf, const char* key, const char* value) {
  char err[512];
  if (rd_kafka_conf_set(conf, key, value, err, sizeof err) != RD_KAFKA_CONF_OK) {
    fprintf(stderr, "rdkafka_consume: %s=%s: %s\n", key, value, err);
    exit(2);
  }
}

int main(int argc, char** argv) {
  if (argc == 2 && !strcmp(argv[1], "--version")) {
    printf("%s\n", rd_kafka_version_str());
    return 0;
  }
  const char *bootstrap = NULL, *topic = NULL;
  long long count = -1;
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  set(conf, "group.id", "rdkafka-consume-bench"); /* needed by the consumer API; nothing is committed */
  set(conf, "enable.auto.commit", "false");
  set(conf, "enable.auto.offset.store", "false");
  set(conf, "check.crcs", "true");
  set(conf, "isolation.level", "read_uncommitted");
  set(conf, "enable.partition.eof", "false");
  for (int i = 1; i < argc; ++i) {
    if (i + 1 >= argc) usage("missing value after an option");
    const char *a = argv[i], *v = argv[++i];
    if (!strcmp(a, "--bootstrap")) {
      bootstrap = v;
    } else if (!strcmp(a, "--topic")) {
      topic = v;
    } else if (!strcmp(a, "--count")) {
      char* end = NULL;
      count = strtoll(v, &end, 10);
      if (*end || count < 0) usage("--count: not a record count");
    } else if (!strcmp(a, "-X")) {
      char kv[1024];
      snprintf(kv, sizeof kv, "%s", v);
      char* eq = strchr(kv, '=');
      if (!eq) usage("-X wants key=value");
      *eq = '\0';
      set(conf, kv, eq + 1);
    } else {
      usage("unknown argument");
    }
  }
  if (!bootstrap || !topic || count < 0) usage("--bootstrap, --topic and --count are required");
  set(conf, "bootstrap.servers", bootstrap);

  const double t0 = now_s();
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
  if (!rk) {
    fprintf(stderr, "rdkafka_consume: %s\n", err);
    return 1;
  }
  /* Every partition of the topic, from the beginning. */
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, topic, NULL);
  const struct rd_kafka_metadata* md = NULL;
  rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, rkt, &md, 10000);
  if (e || md->topic_cnt != 1 || md->topics[0].err || md->topics[0].partition_cnt == 0) {
    fprintf(stderr, "rdkafka_consume: metadata of %s: %s\n", topic,
            rd_kafka_err2str(e               ? e
                             : md->topic_cnt ? md->topics[0].err
                                             : RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC));
    return 1;
  }
  const int nparts = md->topics[0].partition_cnt;
  rd_kafka_metadata_destroy(md);
  rd_kafka_topic_destroy(rkt);
  rd_kafka_topic_partition_list_t* parts = rd_kafka_topic_partition_list_new(nparts);
  for (int p = 0; p < nparts; ++p)
    rd_kafka_topic_partition_list_add(parts, topic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
  if ((e = rd_kafka_assign(rk, parts))) {
    fprintf(stderr, "rdkafka_consume: assign: %s\n", rd_kafka_err2str(e));
    return 1;
  }
  rd_kafka_queue_t* q = rd_kafka_queue_get_consumer(rk);

  long long records = 0;
  unsigned long long bytes = 0, checksum = 0;
  rd_kafka_message_t* batch[500];
  double idle_since = now_s();
  int rc = 0;
  while (records < count) {
    ssize_t n = rd_kafka_consume_batch_queue(q, 1000, batch, 500);
    if (n < 0) {
      fprintf(stderr, "rdkafka_consume: %s\n", rd_kafka_err2str(rd_kafka_last_error()));
      rc = 1;
      break;
    }
    if (n == 0 && now_s() - idle_since > 30) {
      fprintf(stderr, "rdkafka_consume: no records for 30 s after %lld of %lld\n", records, count);
      rc = 1;
      break;
    }
    if (n > 0) idle_since = now_s();
    for (ssize_t i = 0; i < n; ++i) {
      rd_kafka_message_t* m = batch[i];
      if (m->err) {
        fprintf(stderr, "rdkafka_consume: %s [%" PRId32 "] at %" PRId64 ": %s\n", topic, m->partition,
                m->offset, rd_kafka_message_errstr(m));
        rc = 1;
      } else {
        unsigned long long h = 0;
        const unsigned char *k = (const unsigned char*)m->key, *v = (const unsigned char*)m->payload;
        if (k) h += touch(k, m->key_len);
        if (v) h += touch(v, m->len);
        bytes += m->key_len + m->len;
        checksum += h ^ (unsigned long long)m->offset;
        ++records;
      }
      rd_kafka_message_destroy(m);
    }
    if (rc) break;
  }
  const double wall = now_s() - t0;

  /* Exactly `count`: the positions of partitions that start at 0 add up to it. */
  long long positions = 0;
  if (!rd_kafka_position(rk, parts))
    for (int p = 0; p < parts->cnt; ++p)
      if (parts->elems[p].offset >= 0) positions += parts->elems[p].offset;
  printf("records=%lld bytes=%llu checksum=%016llx wall_s=%.3f\n", records, bytes, checksum, wall);
  if (!rc && (records != count || positions != count)) {
    fprintf(stderr,
            "rdkafka_consume: consumed %lld records, positions add up to %lld, expected exactly %lld\n",
            records, positions, count);
    rc = 1;
  }
  rd_kafka_topic_partition_list_destroy(parts);
  rd_kafka_queue_destroy(q);
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
  return rc;
}
