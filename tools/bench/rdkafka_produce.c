/* rdkafka_produce: the librdkafka side of the produce benchmark (tools/bench/produce-bench), the same job
 * as bench_produce through librdkafka's public API: produce --count records to the partitions of an
 * existing topic in turn (record n to partition n % --partitions), key "key-<n>", a value of --size bytes
 * of JSON-like text made by the same generator as bench_produce's (std::mt19937_64 seeded 42, written out
 * here), so both send the same bytes; wait for every delivery report; any failed delivery is an error.
 * Settings come from -X (produce-bench passes the same ones to every client).
 *
 *   rdkafka_produce --bootstrap host:port --topic T --count N --size BYTES --partitions P [-X key=value ...]
 *   rdkafka_produce --version   (the librdkafka it runs on, which LD_LIBRARY_PATH may change)
 *
 * Prints: produced=N wall_s=S */
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void usage(const char* problem) {
  fprintf(
      stderr,
      "rdkafka_produce: %s\nusage: rdkafka_produce --bootstrap host:port --topic T --count N --size BYTES "
      "--partitions P [-X key=value ...]\n",
      problem);
  exit(2);
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* std::mt19937_64 (the 64-bit Mersenne Twister with the C++ standard's parameters and seeding), so the
 * values are byte for byte those of bench_produce. */
enum { MT_N = 312, MT_M = 156 };
static uint64_t mt[MT_N];
static int mt_i = MT_N;
static void mt_seed(uint64_t seed) {
  mt[0] = seed;
  for (int i = 1; i < MT_N; ++i)
    mt[i] = 6364136223846793005ULL * (mt[i - 1] ^ (mt[i - 1] >> 62)) + (uint64_t)i;
  mt_i = MT_N;
}
static uint64_t mt_next(void) {
  const uint64_t upper = 0xFFFFFFFF80000000ULL, lower = 0x7FFFFFFFULL, a = 0xB5026F5AA96619E9ULL;
  if (mt_i >= MT_N) {
    for (int i = 0; i < MT_N; ++i) {
      const uint64_t x = (mt[i] & upper) | (mt[(i + 1) % MT_N] & lower);
      mt[i] = mt[(i + MT_M) % MT_N] ^ (x >> 1) ^ ((x & 1) ? a : 0);
    }
    mt_i = 0;
  }
  uint64_t x = mt[mt_i++];
  x ^= (x >> 29) & 0x5555555555555555ULL;
  x ^= (x << 17) & 0x71D67FFFEDA60000ULL;
  x ^= (x << 37) & 0xFFF7EEE000000000ULL;
  x ^= x >> 43;
  return x;
}

/* Appends the decimal digits of x (what std::to_string does in bench_produce; sprintf would cost this
 * client ~10% more CPU than the others spend on the same bytes). */
static size_t put_u64(char* out, unsigned long long x) {
  char tmp[24];
  size_t n = 0;
  do {
    tmp[n++] = (char)('0' + x % 10);
    x /= 10;
  } while (x);
  for (size_t i = 0; i < n; ++i) out[i] = tmp[n - 1 - i];
  return n;
}
static size_t put_str(char* out, const char* s, size_t n) {
  memcpy(out, s, n);
  return n;
}

/* bench_produce's Values: {"id":n,"ts":1700000000000+n,"tags":[ followed by tail n % TAILS of a pool of
 * tails ("word123",...) made once from mt19937_64 seeded 42, cut to `size` bytes. `out` has room for
 * size + 64 bytes. */
#define TAILS 1024
static char* tails[TAILS];
static size_t tail_len[TAILS];

static void make_tails(size_t size) {
  static const char* const words[] = {"alpha", "bravo",    "charlie", "delta",  "echo", "foxtrot",
                                      "golf",  "hotel",    "india",   "juliet", "kilo", "lima",
                                      "mike",  "november", "oscar",   "papa"};
  mt_seed(42);
  for (int i = 0; i < TAILS; ++i) {
    char* out = malloc(size + 32);
    size_t len = 0;
    while (len < size) {
      const uint64_t r = mt_next();
      out[len++] = '"';
      len += put_str(out + len, words[r % 16], strlen(words[r % 16]));
      len += put_u64(out + len, (r >> 8) % 1000);
      out[len++] = '"';
      out[len++] = ',';
    }
    tails[i] = out;
    tail_len[i] = len;
  }
}

static size_t make_value(char* out, size_t size, long long n) {
  size_t len = put_str(out, "{\"id\":", 6);
  len += put_u64(out + len, (unsigned long long)n);
  len += put_str(out + len, ",\"ts\":", 6);
  len += put_u64(out + len, 1700000000000ULL + (unsigned long long)n);
  len += put_str(out + len, ",\"tags\":[", 9);
  if (len < size) {
    const size_t t = (size_t)n % TAILS, room = size - len;
    memcpy(out + len, tails[t], tail_len[t] < room ? tail_len[t] : room);
  }
  return size; /* cut (or, for a size below the prefix's, only the first `size` bytes count) */
}

static long long delivered = 0, failed = 0;
static char first_error[512];

static void on_delivery(rd_kafka_t* rk, const rd_kafka_message_t* m, void* opaque) {
  (void)rk;
  (void)opaque;
  ++delivered;
  if (m->err && failed++ == 0)
    snprintf(first_error, sizeof first_error, "%s [%" PRId32 "]: %s", rd_kafka_topic_name(m->rkt),
             m->partition, rd_kafka_err2str(m->err));
}

static void set(rd_kafka_conf_t* conf, const char* key, const char* value) {
  char err[512];
  if (rd_kafka_conf_set(conf, key, value, err, sizeof err) != RD_KAFKA_CONF_OK) {
    fprintf(stderr, "rdkafka_produce: %s=%s: %s\n", key, value, err);
    exit(2);
  }
}

static long long number(const char* flag, const char* v) {
  char* end = NULL;
  const long long x = strtoll(v, &end, 10);
  if (*end || x < 0) {
    fprintf(stderr, "rdkafka_produce: %s: not a non-negative number: %s\n", flag, v);
    exit(2);
  }
  return x;
}

int main(int argc, char** argv) {
  if (argc == 2 && !strcmp(argv[1], "--version")) {
    printf("%s\n", rd_kafka_version_str());
    return 0;
  }
  const char *bootstrap = NULL, *topic = NULL;
  long long count = -1, size = -1, partitions = -1;
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  for (int i = 1; i < argc; ++i) {
    if (i + 1 >= argc) usage("missing value after an option");
    const char *a = argv[i], *v = argv[++i];
    if (!strcmp(a, "--bootstrap")) {
      bootstrap = v;
    } else if (!strcmp(a, "--topic")) {
      topic = v;
    } else if (!strcmp(a, "--count")) {
      count = number(a, v);
    } else if (!strcmp(a, "--size")) {
      size = number(a, v);
    } else if (!strcmp(a, "--partitions")) {
      partitions = number(a, v);
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
  if (!bootstrap || !topic || count < 0 || size < 0 || partitions < 1)
    usage("--bootstrap, --topic, --count, --size and --partitions are required");
  set(conf, "bootstrap.servers", bootstrap);
  rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);

  const double t0 = now_s();
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (!rk) {
    fprintf(stderr, "rdkafka_produce: %s\n", err);
    return 1;
  }
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, topic, NULL);
  char* value = malloc((size_t)size + 64);
  char key[32];
  make_tails((size_t)size);
  for (long long n = 0; n < count; ++n) {
    const size_t key_len = put_str(key, "key-", 4) + put_u64(key + 4, (unsigned long long)n);
    const size_t value_len = make_value(value, (size_t)size, n);
    /* RD_KAFKA_MSG_F_COPY: librdkafka copies key and value, as the other clients' APIs do. A full queue
     * (queue.buffering.max.kbytes/messages, librdkafka's buffer.memory) waits for deliveries. */
    while (rd_kafka_produce(rkt, (int32_t)(n % partitions), RD_KAFKA_MSG_F_COPY, value, value_len, key,
                            key_len, NULL) == -1) {
      const rd_kafka_resp_err_t e = rd_kafka_last_error();
      if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        fprintf(stderr, "rdkafka_produce: record %lld: %s\n", n, rd_kafka_err2str(e));
        return 1;
      }
      rd_kafka_poll(rk, 100);
    }
    rd_kafka_poll(rk, 0); /* serves delivery reports */
  }
  const rd_kafka_resp_err_t e = rd_kafka_flush(rk, 120000);
  if (e || delivered != count) {
    fprintf(stderr, "rdkafka_produce: flush: %s (%lld of %lld delivered)\n", rd_kafka_err2str(e), delivered,
            count);
    return 1;
  }
  const double wall = now_s() - t0;
  free(value);
  rd_kafka_topic_destroy(rkt);
  rd_kafka_destroy(rk);
  if (failed) {
    fprintf(stderr, "rdkafka_produce: %lld of %lld records failed: %s\n", failed, count, first_error);
    return 1;
  }
  printf("produced=%lld topic=%s size=%lld wall_s=%.1f\n", count, topic, size, wall);
  return 0;
}
