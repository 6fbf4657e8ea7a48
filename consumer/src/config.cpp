#include "kafkawire/consumer/config.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <type_traits>

#include "kafkawire/net/pool.hpp"
#include "kafkawire/net/sasl.hpp"
#include "kafkawire/net/tls.hpp"
#include "kafkawire/protocol/error.hpp"

namespace kafkawire {

namespace {

// The rules of the table below.
constexpr ConfigRule text(int64_t least_length = 0) { return {ConfigKind::text, least_length, 0}; }
constexpr ConfigRule number(int64_t lo, int64_t hi) { return {ConfigKind::whole_number, lo, hi}; }
constexpr ConfigRule ms(int64_t lo) { return {ConfigKind::duration_ms, lo, INT32_MAX}; }
constexpr ConfigRule flag() { return {ConfigKind::flag}; }
constexpr ConfigRule one_of(std::string_view choices) { return {ConfigKind::one_of, 0, 0, choices}; }
constexpr ConfigRule one_of_any_case(std::string_view choices) {
  return {ConfigKind::one_of, 0, 0, choices, true};
}
constexpr ConfigRule list_of(std::string_view choices) { return {ConfigKind::list_of, 0, 0, choices}; }

// Marks a key whose value is a secret (ConfigKey::secret).
constexpr ConfigSecret secret = ConfigSecret::value;

// Stores a checked value into the field `Field` points to, converted to the field's type. An enum field
// takes the index of the choice, so its enumerators are in the order of the key's choices.
template <auto Field>
void into(Config& c, const ConfigValue& v) {
  auto& field = c.*Field;
  using T = std::remove_cvref_t<decltype(field)>;
  if constexpr (std::is_same_v<T, std::string>)
    field = std::string(v.text);
  else if constexpr (std::is_same_v<T, std::optional<std::string>>)
    field = v.text.empty() ? std::nullopt : std::optional<std::string>(v.text);
  else if constexpr (std::is_same_v<T, std::vector<std::string>>)
    field = v.items;
  else if constexpr (std::is_same_v<T, std::chrono::milliseconds>)
    field = std::chrono::milliseconds(v.number);
  else if constexpr (std::is_same_v<T, bool>)
    field = v.number != 0;
  else
    field = static_cast<T>(v.number);  // whole numbers (in range by the rule) and enums
}
static_assert(static_cast<int>(OffsetReset::none) == 2 &&
              static_cast<int>(IsolationLevel::read_committed) == 1 &&
              static_cast<int>(GroupProtocol::consumer) == 1);

// acks=-1 is Java's spelling of all.
void store_acks(Config& c, const ConfigValue& v) { c.acks = v.text == "-1" ? "all" : std::string(v.text); }

}  // namespace

const std::vector<ConfigKey>& config_keys() {
  // Sections: docs/configuration.md groups the keys by them, in this order.
  constexpr std::string_view conn = "connection", sec = "security", cons = "consumer", grp = "group",
                             prod = "producer";
  static const std::vector<ConfigKey> keys = {
      {"bootstrap.servers", "",
       "host:port[,host:port...]: brokers to ask for the cluster's metadata first; after that the client "
       "talks to the brokers the metadata names. Required.",
       conn, text(1), into<&Config::bootstrap_servers>},
      {"client.id", "kafkawire",
       "sent in every request header; brokers show it in their logs, metrics and quotas", conn, text(),
       into<&Config::client_id>},
      {"request.timeout.ms", "30000",
       "how long to wait for a response; then the request fails with client_errc::timeout and the connection "
       "closes (every request in flight on it fails too). A Fetch may take fetch.max.wait.ms longer, a "
       "JoinGroup max.poll.interval.ms longer.",
       conn, ms(1), into<&Config::request_timeout>},
      {"socket.connection.setup.timeout.ms", "10000",
       "how long setting up a connection to a broker may take: the TCP connect and the ApiVersions exchange "
       "that follows it. A broker that accepts the connection and never answers fails it with "
       "client_errc::timeout after this long.",
       conn, ms(1), into<&Config::socket_connection_setup_timeout>},
      {"reconnect.backoff.ms", "50",
       "delay before reconnecting to a broker after a failure; doubles per consecutive failure, with jitter",
       conn, ms(0), into<&Config::reconnect_backoff>},
      {"reconnect.backoff.max.ms", "1000", "the longest delay between reconnect attempts to one broker", conn,
       ms(0), into<&Config::reconnect_backoff_max>},
      {"retry.backoff.ms", "100",
       "delay before retrying a failed request (a leader moved, a coordinator changed, a timeout)", conn,
       ms(0), into<&Config::retry_backoff>},
      {"metadata.max.age.ms", "300000",
       "metadata older than this is fetched again even without an error; also how often a regex "
       "subscription looks for new matching topics",
       conn, ms(0), into<&Config::metadata_max_age>},
      {"receive.message.max.bytes", "104857600",
       "a response frame larger than this closes the connection (protects against a corrupt size prefix); "
       "keep it above fetch.max.bytes",
       conn, number(1000, INT32_MAX), into<&Config::receive_message_max_bytes>},
      {"allow.auto.create.topics", "false",
       "let Metadata requests create missing topics, when the broker allows it (auto.create.topics.enable); "
       "the producer then waits for the new topic up to delivery.timeout.ms",
       conn, flag(), into<&Config::allow_auto_create_topics>},
      {"default.api.timeout.ms", "60000",
       "bound on the calls that wait for the cluster: commit, committed, offsets_for_times, list_offsets, "
       "close, and each Admin call (list, describe, create and delete topics)",
       conn, ms(0), into<&Config::default_api_timeout>},
      {"security.protocol", "PLAINTEXT",
       "how connections to brokers are made: PLAINTEXT, SSL (TLS), SASL_PLAINTEXT (SASL without TLS: "
       "credentials travel in the clear, PLAIN above all), SASL_SSL (SASL over TLS); any case",
       sec, one_of_any_case("PLAINTEXT,SSL,SASL_PLAINTEXT,SASL_SSL"), into<&Config::security_protocol>},
      {"sasl.mechanism", "PLAIN",
       "the SASL mechanism, with SASL_PLAINTEXT or SASL_SSL: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 (the "
       "broker proves it knows the password too) or OAUTHBEARER (a token: "
       "sasl.oauthbearer.token(.file) or a token provider set in code); any case",
       sec, one_of_any_case("PLAIN,SCRAM-SHA-256,SCRAM-SHA-512,OAUTHBEARER"), into<&Config::sasl_mechanism>},
      {"sasl.username", "", "the user name for PLAIN and SCRAM (or sasl.jaas.config)", sec, text(),
       into<&Config::sasl_username>},
      {"sasl.password", "", "the password for PLAIN and SCRAM (never logged, never shown by explain or spy)",
       sec, text(), into<&Config::sasl_password>, secret},
      {"sasl.jaas.config", "",
       "Java's form of the credentials, read for PLAIN and SCRAM: the PlainLoginModule or ScramLoginModule "
       "entry, `... required username=\"alice\" password=\"secret\";`; instead of sasl.username and "
       "sasl.password",
       sec, text(), into<&Config::sasl_jaas_config>, ConfigSecret::jaas_password},
      {"sasl.oauthbearer.token", "",
       "OAUTHBEARER: the token (a JWT) to send; for tools and tests, a long-lived program sets a token "
       "provider in code instead",
       sec, text(), into<&Config::sasl_oauthbearer_token>, secret},
      {"sasl.oauthbearer.token.file", "",
       "OAUTHBEARER: a file holding the token, read again at each authentication (so a refreshed token is "
       "used when the connection re-authenticates)",
       sec, text(), into<&Config::sasl_oauthbearer_token_file>},
      {"ssl.ca.location", "",
       "PEM file of the CA certificates that sign the brokers' certificates; neither this nor ssl.ca.pem: "
       "the system's trust store",
       sec, text(), into<&Config::ssl_ca_location>},
      {"ssl.ca.pem", "", "the CA certificates as PEM text, instead of ssl.ca.location", sec, text(),
       into<&Config::ssl_ca_pem>},
      {"ssl.certificate.location", "",
       "PEM file of the client's certificate (chain), for brokers that require one (mutual TLS)", sec, text(),
       into<&Config::ssl_certificate_location>},
      {"ssl.certificate.pem", "", "the client's certificate as PEM text, instead of ssl.certificate.location",
       sec, text(), into<&Config::ssl_certificate_pem>},
      {"ssl.key.location", "", "PEM file of the client certificate's private key", sec, text(),
       into<&Config::ssl_key_location>},
      {"ssl.key.pem", "", "the private key as PEM text, instead of ssl.key.location", sec, text(),
       into<&Config::ssl_key_pem>, secret},
      {"ssl.key.password", "", "the password of an encrypted private key", sec, text(),
       into<&Config::ssl_key_password>, secret},
      {"ssl.endpoint.identification.algorithm",
       "https",
       "https: the broker's certificate must name the host or IP address it was reached at (and the host "
       "name is sent as SNI); none (or empty, Java's way to say none): any certificate the CA signed is "
       "accepted",
       sec,
       {ConfigKind::one_of, 0, 0, "https,none", true, "none"},
       into<&Config::ssl_endpoint_identification_algorithm>},
      {"ssl.truststore.location", "",
       "Java's name for ssl.ca.location, with ssl.truststore.type=PEM (kafkawire reads PEM, not JKS or "
       "PKCS12)",
       sec, text(), into<&Config::ssl_truststore_location>},
      {"ssl.truststore.type", "", "PEM (the only store type kafkawire reads; convert JKS with keytool)", sec,
       one_of_any_case("PEM"), into<&Config::ssl_truststore_type>},
      {"ssl.keystore.location", "",
       "Java's name for a PEM file holding the client's certificate and its private key, with "
       "ssl.keystore.type=PEM",
       sec, text(), into<&Config::ssl_keystore_location>},
      {"ssl.keystore.type", "", "PEM (the only store type kafkawire reads)", sec, one_of_any_case("PEM"),
       into<&Config::ssl_keystore_type>},
      {"group.id", "",
       "the consumer group: needed by subscribe() (group membership) and to commit or read committed offsets",
       cons, text(), into<&Config::group_id>},
      {"auto.offset.reset", "latest",
       "where to start reading a partition that has no committed offset (or whose offset is out of range): "
       "earliest, latest, or none (poll fails with client_errc::no_offset naming the partition)",
       cons, one_of("earliest,latest,none"), into<&Config::auto_offset_reset>},
      {"enable.auto.commit", "true",
       "commit the positions of what earlier polls returned, at the start of a poll once "
       "auto.commit.interval.ms has passed, and in close(); false: call commit yourself after processing",
       cons, flag(), into<&Config::enable_auto_commit>},
      {"auto.commit.interval.ms", "5000", "the least time between two automatic commits", cons, ms(1),
       into<&Config::auto_commit_interval>},
      {"isolation.level", "read_uncommitted",
       "read_committed: skip the records of aborted transactions and the transaction markers, and read no "
       "further than the last stable offset; read_uncommitted: every record up to the high watermark",
       cons, one_of("read_uncommitted,read_committed"), into<&Config::isolation_level>},
      {"max.poll.records", "500", "the most records one poll returns; the rest stay buffered for the next",
       cons, number(1, INT32_MAX), into<&Config::max_poll_records>},
      {"fetch.min.bytes", "1",
       "the broker holds a Fetch until it has this many bytes for the request (or fetch.max.wait.ms passed)",
       cons, number(0, INT32_MAX), into<&Config::fetch_min_bytes>},
      {"fetch.max.wait.ms", "500",
       "the longest time the broker holds a Fetch waiting for fetch.min.bytes; also how long a poll may wait "
       "for data that is not there",
       cons, ms(0), into<&Config::fetch_max_wait>},
      {"fetch.max.bytes", "52428800",
       "the most data one Fetch response may carry, over all its partitions (the first batch is returned "
       "even when larger)",
       cons, number(1, INT32_MAX), into<&Config::fetch_max_bytes>},
      {"max.partition.fetch.bytes", "1048576",
       "the most data one Fetch returns for one partition (the first batch is returned even when larger)",
       cons, number(1, INT32_MAX), into<&Config::max_partition_fetch_bytes>},
      {"queued.max.messages.kbytes", "65536",
       "bound in KiB (librdkafka's name) on fetched data not yet polled: the Fetch answers the consumer "
       "holds "
       "plus what its Fetches in flight may bring; no partition is fetched while this is reached, and a "
       "Fetch "
       "asks for no more than the room left (at least max.partition.fetch.bytes)",
       cons, number(1, INT32_MAX / 1024), into<&Config::queued_max_kbytes>},
      {"check.crcs", "true",
       "verify the CRC-32C of every record batch fetched; a mismatch fails the poll naming topic, partition "
       "and offset",
       cons, flag(), into<&Config::check_crcs>},
      {"group.instance.id", "",
       "static membership (KIP-345): a member that restarts with the same id within session.timeout.ms "
       "gets its partitions back without a rebalance",
       grp, text(), into<&Config::group_instance_id>},
      {"session.timeout.ms", "45000",
       "the coordinator removes a member it has not heard a heartbeat from for this long, and gives its "
       "partitions to the others",
       grp, ms(1), into<&Config::session_timeout>},
      {"heartbeat.interval.ms", "3000",
       "how often a member heartbeats (it learns of rebalances from the answers); must be lower than "
       "session.timeout.ms",
       grp, ms(1), into<&Config::heartbeat_interval>},
      {"max.poll.interval.ms", "300000",
       "a member that does not call poll for this long leaves the group (its processing is stuck); also "
       "the rebalance timeout sent in JoinGroup",
       grp, ms(1), into<&Config::max_poll_interval>},
      {"partition.assignment.strategy", "range,cooperative-sticky",
       "assignors this member supports, in order of preference: range, roundrobin, cooperative-sticky "
       "(same results as Java's); the coordinator picks one that every member supports",
       grp, list_of("range,roundrobin,cooperative-sticky"), into<&Config::partition_assignment_strategy>},
      {"group.protocol", "classic",
       "classic: members join with JoinGroup/SyncGroup and the leader assigns "
       "(partition.assignment.strategy); "
       "consumer: KIP-848 (Kafka 4.0+), members heartbeat with ConsumerGroupHeartbeat and the broker assigns "
       "(group.remote.assignor), so a member joining or leaving stops no other member",
       grp, one_of("classic,consumer"), into<&Config::group_protocol>},
      {"group.remote.assignor", "",
       "group.protocol=consumer: the broker-side assignor to use (uniform, range, or another the broker's "
       "group.consumer.assignors offers); empty: the broker's default",
       grp, text(), into<&Config::group_remote_assignor>},
      {"acks", "all",
       "how many replicas must have a record before the broker answers: 0 (no answer: the offset is "
       "unknown, -1), 1 (the leader) or all (every in-sync replica; also -1)",
       prod, one_of("0,1,all,-1"), store_acks},
      {"linger.ms", "5",
       "how long a partition's batch may wait for more records before it is sent (unless batch.size is "
       "reached first or flush is called)",
       prod, ms(0), into<&Config::linger>},
      {"batch.size", "16384",
       "a partition's batch is sent once its records take this many bytes; one batch per partition per "
       "request",
       prod, number(1, INT32_MAX), into<&Config::batch_size>},
      {"compression.type", "none",
       "codec of produced batches: none, gzip, snappy, lz4 or zstd (a codec this build lacks fails with "
       "client_errc::unsupported_compression)",
       prod, one_of("none,gzip,snappy,lz4,zstd"), into<&Config::compression_type>},
      {"retries", "2147483647",
       "how many times a Produce that failed with a retriable error (leader moved, timeout, disconnect) is "
       "sent again, within delivery.timeout.ms",
       prod, number(0, INT32_MAX), into<&Config::retries>},
      {"delivery.timeout.ms", "120000",
       "bound on how long a record taken in (see buffer.memory) waits for its topic, a leader or a producer "
       "id, and on the retries of its batch from when it is sent; records merely queued behind a busy "
       "broker wait on, bounded by buffer.memory",
       prod, ms(1), into<&Config::delivery_timeout>},
      {"buffer.memory", "33554432",
       "bytes of records the producer holds without a delivery result; a record sent when they are full "
       "waits, in order, for room up to max.block.ms",
       prod, number(1, INT64_MAX), into<&Config::buffer_memory>},
      {"max.block.ms", "60000",
       "how long a record may wait for room in buffer.memory before it fails with client_errc::timeout "
       "(0: at once, as librdkafka's queue-full error)",
       prod, ms(0), into<&Config::max_block>},
      {"max.request.size", "1048576",
       "a Produce request holds batches of at most this many bytes in all (at least one batch)", prod,
       number(1, INT32_MAX), into<&Config::max_request_size>},
      {"max.in.flight.requests.per.connection", "5",
       "how many Produce requests may wait for their answer at one broker; records for that broker gather "
       "into larger batches meanwhile. At most 5 with enable.idempotence.",
       prod, number(1, INT32_MAX), into<&Config::max_in_flight_requests>},
      {"enable.idempotence", "true",
       "each record written once and in order per partition, whatever the retries: the producer gets a "
       "producer id (InitProducerId) and numbers its batches, and the broker drops a batch it already has. "
       "Needs acks=all, retries > 0 and max.in.flight.requests.per.connection <= 5; set to true with a "
       "conflicting value of those, it is a configuration error; left unset, a conflicting value turns "
       "idempotence off (as in Java)",
       prod, flag(), into<&Config::enable_idempotence>},
      {"transactional.id", "",
       "makes the producer transactional: init_transactions() fences any earlier producer with the same id "
       "and aborts its open transaction, and records and consumed offsets are committed or aborted together "
       "(exactly-once consume-process-produce). Needs idempotence",
       prod, text(), into<&Config::transactional_id>},
      {"transaction.timeout.ms", "60000",
       "the transaction coordinator aborts a transaction still open this long after its first record or "
       "offsets reached it; at most the broker's transaction.max.timeout.ms (15 min by default)",
       prod, ms(1), into<&Config::transaction_timeout>},
  };
  return keys;
}

namespace {

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

std::error_code bad(std::string& problem, std::string_view key, const std::string& text) {
  problem = std::string(key) + ": " + text;
  return client_errc::invalid_config;
}

std::string_view trimmed(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

// The comma-separated names of `list`, trimmed, empty ones dropped.
std::vector<std::string> split_list(std::string_view list) {
  std::vector<std::string> names;
  for (;;) {
    const size_t comma = list.find(',');
    if (auto name = trimmed(list.substr(0, comma)); !name.empty()) names.emplace_back(name);
    if (comma == std::string_view::npos) return names;
    list.remove_prefix(comma + 1);
  }
}

// "earliest, latest, none": the choices as the error messages and the docs show them.
std::string choice_list(std::string_view choices) {
  std::string out;
  for (const auto& c : split_list(choices)) out += (out.empty() ? "" : ", ") + c;
  return out;
}

// The index of `name` among `choices`, or -1.
int64_t choice_index(std::string_view choices, std::string_view name) {
  const auto names = split_list(choices);
  const auto it = std::find(names.begin(), names.end(), name);
  return it == names.end() ? -1 : it - names.begin();
}

// The same, case-insensitively; `canonical` becomes the choice as the table spells it.
int64_t choice_index_any_case(std::string_view choices, std::string_view name, std::string_view& canonical) {
  auto same = [](std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
             return std::tolower(static_cast<unsigned char>(x)) ==
                    std::tolower(static_cast<unsigned char>(y));
           });
  };
  int64_t index = 0;
  for (std::string_view rest = choices;; ++index) {
    const size_t comma = rest.find(',');
    const std::string_view choice = rest.substr(0, comma);
    if (same(choice, name)) {
      canonical = choice;
      return index;
    }
    if (comma == std::string_view::npos) return -1;
    rest.remove_prefix(comma + 1);
  }
}

// Checks `v` against the rule of `k`; the error names the key and what it accepts, and shows the value
// unless it is a secret.
std::error_code parse_value(const ConfigKey& k, std::string_view v, ConfigValue& out, std::string& problem) {
  const ConfigRule& rule = k.rule;
  out.text = v;
  auto shown = [&](std::string_view part) {
    return k.secret == ConfigSecret::none ? "'" + std::string(part) + "'" : redacted(part);
  };
  switch (rule.kind) {
    case ConfigKind::text:
      if (static_cast<int64_t>(v.size()) < rule.min)
        return bad(problem, k.name,
                   rule.min == 1 ? "must not be empty"
                                 : "needs at least " + std::to_string(rule.min) + " characters");
      return {};
    case ConfigKind::whole_number:
    case ConfigKind::duration_ms: {
      int64_t x = 0;
      auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
      if (ec != std::errc() || p != v.data() + v.size())
        return bad(problem, k.name, shown(v) + " is not a whole number");
      if (x < rule.min || x > rule.max)
        return bad(problem, k.name,
                   shown(v) + " is out of range [" + std::to_string(rule.min) + ", " +
                       std::to_string(rule.max) + "]");
      out.number = x;
      return {};
    }
    case ConfigKind::flag:
      if (v != "true" && v != "false") return bad(problem, k.name, shown(v) + " is not true or false");
      out.number = v == "true";
      return {};
    case ConfigKind::one_of: {
      const std::string_view given = v.empty() && !rule.empty_is.empty() ? rule.empty_is : v;
      out.text = given;
      out.number = rule.any_case ? choice_index_any_case(rule.choices, given, out.text)
                                 : choice_index(rule.choices, given);
      if (out.number < 0)
        return bad(problem, k.name, shown(v) + " is not one of " + choice_list(rule.choices));
      return {};
    }
    case ConfigKind::list_of:
      out.items = split_list(v);
      for (const auto& name : out.items)
        if (choice_index(rule.choices, name) < 0)
          return bad(problem, k.name, shown(name) + " is not one of " + choice_list(rule.choices));
      if (out.items.empty()) return bad(problem, k.name, "names none of " + choice_list(rule.choices));
      return {};
  }
  return bad(problem, k.name, "has no rule");
}

}  // namespace

const ConfigKey* find_config_key(std::string_view name) {
  for (const auto& k : config_keys())
    if (k.name == name) return &k;
  return nullptr;
}

std::string config_accepts(const ConfigRule& rule) {
  switch (rule.kind) {
    case ConfigKind::text:
      return rule.min > 0 ? "a non-empty string" : "any string";
    case ConfigKind::whole_number:
      return std::to_string(rule.min) + " to " + std::to_string(rule.max);
    case ConfigKind::duration_ms:
      return std::to_string(rule.min) + " to " + std::to_string(rule.max) + " ms";
    case ConfigKind::flag:
      return "true, false";
    case ConfigKind::one_of:
      return choice_list(rule.choices) + (rule.any_case ? " (any case)" : "") +
             (rule.empty_is.empty() ? "" : "; empty: " + std::string(rule.empty_is));
    case ConfigKind::list_of:
      return "a list of " + choice_list(rule.choices);
  }
  return {};
}

std::string_view closest_config_key(std::string_view name) {
  std::string_view best;
  size_t best_d = SIZE_MAX;
  for (const auto& k : config_keys()) {
    const size_t d = edit_distance(name, k.name);
    if (d < best_d) best_d = d, best = k.name;
  }
  // Close enough to be a typo: a third of the name at most.
  return best_d <= std::max<size_t>(2, name.size() / 3) ? best : std::string_view();
}

const std::vector<JavaClientKey>& java_client_keys() {
  static const std::vector<JavaClientKey> keys = {
      {"client.dns.lookup", "use_all_dns_ips",
       "kafkawire connects to each address a broker's name resolves to, in turn: Java's use_all_dns_ips "
       "(its default), the only value it takes"},
      {"ssl.truststore.password", "",
       "a PEM trust store has no password (Java refuses one with ssl.truststore.type=PEM too, and PEM is "
       "the only type kafkawire reads): remove the line"},
      {"ssl.keystore.password", "",
       "a PEM key store has no store password (Java refuses one with ssl.keystore.type=PEM too, and PEM is "
       "the only type kafkawire reads): give the private key's password as ssl.key.password"},
      {"ssl.truststore.certificates", "", "Java's name for the CA certificates as PEM text: use ssl.ca.pem"},
      {"ssl.keystore.certificate.chain", "",
       "Java's name for the client's certificate as PEM text: use ssl.certificate.pem"},
      {"ssl.keystore.key", "", "Java's name for the private key as PEM text: use ssl.key.pem"},
      {"key.serializer",
       "org.apache.kafka.common.serialization.ByteArraySerializer,"
       "org.apache.kafka.common.serialization.StringSerializer",
       "kafkawire sends keys as the bytes it is given (ByteArraySerializer; StringSerializer gives the same "
       "bytes for UTF-8 text) and has no other serializers"},
      {"value.serializer",
       "org.apache.kafka.common.serialization.ByteArraySerializer,"
       "org.apache.kafka.common.serialization.StringSerializer",
       "kafkawire sends values as the bytes it is given (ByteArraySerializer; StringSerializer gives the "
       "same bytes for UTF-8 text) and has no other serializers"},
      {"key.deserializer",
       "org.apache.kafka.common.serialization.ByteArrayDeserializer,"
       "org.apache.kafka.common.serialization.StringDeserializer",
       "kafkawire returns keys as the bytes fetched (ByteArrayDeserializer; StringDeserializer reads the "
       "same bytes as UTF-8 text) and has no other deserializers"},
      {"value.deserializer",
       "org.apache.kafka.common.serialization.ByteArrayDeserializer,"
       "org.apache.kafka.common.serialization.StringDeserializer",
       "kafkawire returns values as the bytes fetched (ByteArrayDeserializer; StringDeserializer reads the "
       "same bytes as UTF-8 text) and has no other deserializers"},
  };
  return keys;
}

std::string redacted(std::string_view secret) {
  // Characters, not bytes: UTF-8 continuation bytes are not counted.
  const auto chars = std::count_if(secret.begin(), secret.end(),
                                   [](char ch) { return (static_cast<unsigned char>(ch) & 0xC0) != 0x80; });
  return "[redacted, " + std::to_string(chars) + (chars == 1 ? " char]" : " chars]");
}

std::string config_value_shown(std::string_view key, std::string_view value) {
  const ConfigKey* k = find_config_key(key);
  if (!k || k->secret == ConfigSecret::none) return std::string(value);
  if (k->secret == ConfigSecret::value) return redacted(value);
  // sasl.jaas.config: the module and the user name stay readable, every other option's value is cut out.
  std::vector<net::JaasOptionSpan> spans;
  if (!net::jaas_option_spans(value, spans)) return redacted(value);
  std::string out;
  size_t done = 0;
  for (const auto& span : spans) {
    if (span.name == "username") continue;
    out.append(value.substr(done, span.begin - done));
    out += redacted(span.value);
    done = span.end;
  }
  out.append(value.substr(done));
  return out;
}

namespace {

constexpr bool is_properties_blank(char ch) { return ch == ' ' || ch == '\t' || ch == '\f'; }

// Java's loadConvert: the escapes of a key or a value. False on a malformed \uXXXX.
bool unescape_property(std::string_view in, std::string& out) {
  out.clear();
  auto put_utf8 = [&](uint32_t cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  };
  auto hex4 = [&](size_t at, uint32_t& unit) {
    if (at + 4 > in.size()) return false;
    auto [p, ec] = std::from_chars(in.data() + at, in.data() + at + 4, unit, 16);
    return ec == std::errc() && p == in.data() + at + 4;
  };
  for (size_t i = 0; i < in.size();) {
    const char ch = in[i++];
    if (ch != '\\') {
      out += ch;
      continue;
    }
    if (i == in.size()) break;  // a lone backslash at the very end: dropped, as Java does
    const char e = in[i++];
    switch (e) {
      case 't':
        out += '\t';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 'f':
        out += '\f';
        break;
      case 'u': {
        uint32_t unit = 0;
        if (!hex4(i, unit)) return false;
        i += 4;
        if (unit >= 0xD800 && unit < 0xDC00) {  // UTF-16: a high surrogate needs its low half next
          uint32_t low = 0;
          if (i + 2 > in.size() || in[i] != '\\' || in[i + 1] != 'u' || !hex4(i + 2, low) || low < 0xDC00 ||
              low >= 0xE000)
            return false;
          i += 6;
          unit = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
        } else if (unit >= 0xDC00 && unit < 0xE000) {
          return false;
        }
        put_utf8(unit);
        break;
      }
      default:
        out += e;  // \\ \= \: \# \! \  and any other character: itself
    }
  }
  return true;
}

}  // namespace

bool parse_java_properties(std::string_view text, std::map<std::string, std::string>& out,
                           std::string& problem) {
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);  // a UTF-8 byte order mark
  // The natural lines, ended by \n, \r or \r\n.
  std::vector<std::string_view> lines;
  for (size_t i = 0; i < text.size();) {
    const size_t end = text.find_first_of("\r\n", i);
    if (end == std::string_view::npos) {
      lines.push_back(text.substr(i));
      break;
    }
    lines.push_back(text.substr(i, end - i));
    i = end + (text[end] == '\r' && end + 1 < text.size() && text[end + 1] == '\n' ? 2 : 1);
  }
  auto skip_blanks = [](std::string_view s) {
    while (!s.empty() && is_properties_blank(s.front())) s.remove_prefix(1);
    return s;
  };
  // An odd number of backslashes at the end: the line goes on.
  auto continues = [](std::string_view s) {
    size_t n = 0;
    while (n < s.size() && s[s.size() - 1 - n] == '\\') ++n;
    return n % 2 == 1;
  };
  for (size_t n = 0; n < lines.size(); ++n) {
    const size_t first_line = n + 1;
    std::string_view part = skip_blanks(lines[n]);
    if (part.empty() || part.front() == '#' || part.front() == '!') continue;  // comments do not continue
    std::string line;
    while (continues(part) && n + 1 < lines.size()) {
      line.append(part.substr(0, part.size() - 1));
      part = skip_blanks(lines[++n]);
    }
    line.append(part);
    // The key ends at the first '=', ':' or blank not escaped; blanks and one '=' or ':' follow it.
    size_t key_end = 0;
    bool escaped = false;
    for (; key_end < line.size(); ++key_end) {
      const char ch = line[key_end];
      if (!escaped && (ch == '=' || ch == ':' || is_properties_blank(ch))) break;
      escaped = ch == '\\' && !escaped;
    }
    size_t value_start = key_end;
    bool separator = false;
    while (value_start < line.size()) {
      const char ch = line[value_start];
      if (!is_properties_blank(ch)) {
        if (separator || (ch != '=' && ch != ':')) break;
        separator = true;
      }
      ++value_start;
    }
    std::string key, value;
    if (!unescape_property(std::string_view(line).substr(0, key_end), key) ||
        !unescape_property(std::string_view(line).substr(value_start), value)) {
      // The line is not shown: it may hold a password.
      problem = "line " + std::to_string(first_line) +
                ": malformed \\uXXXX escape (four hex digits; a UTF-16 surrogate needs its pair)";
      return false;
    }
    // Kafka's ConfigDef trims every value it reads (String.trim: every character up to ' ').
    auto blank = [](char ch) { return static_cast<unsigned char>(ch) <= ' '; };
    while (!value.empty() && blank(value.back())) value.pop_back();
    value.erase(0, static_cast<size_t>(std::find_if_not(value.begin(), value.end(), blank) - value.begin()));
    out[key] = std::move(value);
  }
  return true;
}

std::error_code Config::set(const std::string& key, const std::string& v, std::string& problem) {
  const ConfigKey* k = find_config_key(key);
  if (!k) {
    for (const auto& j : java_client_keys()) {
      if (j.name != key) continue;
      const auto accepted = split_list(j.accepted);
      if (std::find(accepted.begin(), accepted.end(), v) == accepted.end()) {
        problem = key + ": " + std::string(j.why);
        return client_errc::invalid_config;
      }
      values[key] = v;  // what kafkawire does anyway: kept, changes nothing
      return {};
    }
    const auto near = closest_config_key(key);
    problem = "unknown configuration key '" + key + "'" +
              (near.empty() ? std::string() : "; did you mean '" + std::string(near) + "'?");
    return client_errc::invalid_config;
  }
  ConfigValue value;
  if (auto ec = parse_value(*k, v, value, problem)) return ec;
  k->store(*this, value);
  values[key] = v;
  return {};
}

std::vector<std::pair<std::string, std::string>> Config::dump() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& k : config_keys()) {
    const auto it = values.find(std::string(k.name));
    if (it == values.end() && k.default_value.empty()) continue;
    const std::string_view given = it != values.end() ? std::string_view(it->second) : k.default_value;
    std::string effective(given);
    ConfigValue v;
    std::string problem;
    if (!parse_value(k, given, v, problem)) {
      if (k.rule.kind == ConfigKind::one_of) {
        effective = v.text;
      } else if (k.rule.kind == ConfigKind::list_of) {
        effective.clear();
        for (const auto& item : v.items) effective += (effective.empty() ? "" : ",") + item;
      }
    }
    out.emplace_back(k.name, config_value_shown(k.name, effective));
  }
  for (const auto& [key, value] : values)
    if (!find_config_key(key)) out.emplace_back(key, value);
  return out;
}

const Config& Config::defaults() {
  static const Config d = [] {
    Config c{Blank{}};
    for (const auto& k : config_keys()) {
      if (k.default_value.empty()) continue;  // stays empty: required (bootstrap.servers) or optional
      ConfigValue value;
      std::string problem;
      if (parse_value(k, k.default_value, value, problem)) {
        // A table entry whose default breaks its own rule: a bug the unit tests catch first.
        std::fprintf(stderr, "kafkawire: bad default in config_keys(): %s\n", problem.c_str());
        std::abort();
      }
      k.store(c, value);
    }
    return c;
  }();
  return d;
}

Config::Config() : Config(defaults()) {}

std::error_code Config::parse(const std::map<std::string, std::string>& kv, Config& out, std::string& problem,
                              std::string* failed_key) {
  Config c;
  for (const auto& [k, v] : kv)
    if (auto ec = c.set(k, v, problem)) {
      if (failed_key) *failed_key = k;
      return ec;
    }
  if (auto ec = check_group_protocol(c, problem, failed_key)) return ec;
  if (c.heartbeat_interval >= c.session_timeout) {
    problem = "heartbeat.interval.ms (" + std::to_string(c.heartbeat_interval.count()) +
              ") must be lower than session.timeout.ms (" + std::to_string(c.session_timeout.count()) + ")";
    if (failed_key) *failed_key = "heartbeat.interval.ms";
    return client_errc::invalid_config;
  }
  if (auto ec = check_idempotence(c, problem, failed_key)) return ec;
  if (auto ec = check_security(c, problem, failed_key)) return ec;
  out = std::move(c);
  return {};
}

std::error_code Config::check_group_protocol(const Config& c, std::string& problem, std::string* failed_key) {
  // As Java's ConsumerConfig: a key of one protocol set with the other is refused rather than ignored
  // (with the consumer protocol the broker decides the session timeout, the heartbeat interval and the
  // assignment).
  auto refuse = [&](const std::string& key, const std::string& why) {
    problem = key + " " + why;
    if (failed_key) *failed_key = key;
    return make_error_code(client_errc::invalid_config);
  };
  if (c.group_protocol == GroupProtocol::classic) {
    if (c.group_remote_assignor)
      return refuse("group.remote.assignor",
                    "needs group.protocol=consumer (the classic protocol assigns "
                    "on the client: partition.assignment.strategy)");
    return {};
  }
  for (std::string_view key :
       {"session.timeout.ms", "heartbeat.interval.ms", "partition.assignment.strategy"})
    if (c.values.count(std::string(key)))
      return refuse(std::string(key),
                    "is not used with group.protocol=consumer: the broker sets it (group.consumer.* broker "
                    "configs; group.remote.assignor picks the assignor); remove it");
  return {};
}

std::error_code Config::check_idempotence(const Config& c, std::string& problem, std::string* failed_key) {
  // Java's rule: explicitly asked for, idempotence with a setting it cannot keep is an error; by default,
  // such a setting turns it off (idempotent() says which).
  // A transactional producer is idempotent, whatever is set: Java refuses a conflict either way.
  const bool transactional = !c.transactional_id.empty();
  if (transactional && !c.enable_idempotence) {
    problem = "transactional.id needs idempotence, but enable.idempotence=false; remove one of them";
    if (failed_key) *failed_key = "enable.idempotence";
    return client_errc::invalid_config;
  }
  if (!c.enable_idempotence || (!c.values.count("enable.idempotence") && !transactional)) return {};
  std::string key, why;
  if (c.acks != "all") {
    key = "acks";
    why = "acks=" + c.acks + " (idempotence needs acks=all)";
  } else if (c.retries == 0) {
    key = "retries";
    why = "retries=0 (idempotence needs retries > 0)";
  } else if (c.max_in_flight_requests > 5) {
    key = "max.in.flight.requests.per.connection";
    why = "max.in.flight.requests.per.connection=" + std::to_string(c.max_in_flight_requests) +
          " (idempotence allows at most 5: the broker remembers the last 5 batches of a producer)";
  }
  if (key.empty()) return {};
  problem = transactional
                ? "transactional.id needs idempotence, which conflicts with " + why + "; change " + key
                : "enable.idempotence=true conflicts with " + why +
                      "; set enable.idempotence=false or change " + key;
  if (failed_key) *failed_key = key;
  return client_errc::invalid_config;
}

std::error_code Config::check_security(Config& c, std::string& problem, std::string* failed_key) {
  auto refuse = [&](const std::string& key, const std::string& why) {
    problem = key + ": " + why;
    if (failed_key) *failed_key = key;
    return make_error_code(client_errc::invalid_config);
  };
  constexpr std::string_view no_openssl =
      "this kafkawire was built without OpenSSL (CMake option KAFKAWIRE_WITH_OPENSSL, Debian package "
      "libssl-dev)";
  const bool tls = c.security_protocol == "SSL" || c.security_protocol == "SASL_SSL";
  const bool sasl = c.security_protocol == "SASL_PLAINTEXT" || c.security_protocol == "SASL_SSL";
  if (tls && !net::openssl_built_in())
    return refuse("security.protocol", c.security_protocol + " needs TLS, and " + std::string(no_openssl));

  // Each PEM input once: a file or the text, and Java's store names only for PEM stores.
  const std::pair<const char*, const char*> either[] = {{"ssl.ca.location", "ssl.ca.pem"},
                                                        {"ssl.certificate.location", "ssl.certificate.pem"},
                                                        {"ssl.key.location", "ssl.key.pem"},
                                                        {"ssl.truststore.location", "ssl.ca.location"},
                                                        {"ssl.truststore.location", "ssl.ca.pem"},
                                                        {"ssl.keystore.location", "ssl.certificate.location"},
                                                        {"ssl.keystore.location", "ssl.certificate.pem"},
                                                        {"ssl.keystore.location", "ssl.key.location"},
                                                        {"ssl.keystore.location", "ssl.key.pem"}};
  for (const auto& [a, b] : either)
    if (c.values.count(a) && !c.values.at(a).empty() && c.values.count(b) && !c.values.at(b).empty())
      return refuse(b, std::string("set either ") + a + " or " + b + ", not both");
  if (!c.ssl_truststore_location.empty() && c.ssl_truststore_type != "PEM")
    return refuse(
        "ssl.truststore.type",
        "kafkawire reads PEM trust stores only: set ssl.truststore.type=PEM (or use ssl.ca.location)");
  if (!c.ssl_keystore_location.empty() && c.ssl_keystore_type != "PEM")
    return refuse("ssl.keystore.type",
                  "kafkawire reads PEM key stores only: set ssl.keystore.type=PEM (or use "
                  "ssl.certificate.location and ssl.key.location)");

  if (!sasl) return {};
  if ((c.sasl_mechanism == "SCRAM-SHA-256" || c.sasl_mechanism == "SCRAM-SHA-512") &&
      !net::openssl_built_in())
    return refuse("sasl.mechanism",
                  c.sasl_mechanism + " needs OpenSSL's HMAC and PBKDF2, and " + std::string(no_openssl));
  if (!c.sasl_jaas_config.empty() && c.sasl_mechanism != "OAUTHBEARER") {
    std::string user, password, why;
    if (!net::parse_jaas_config(c.sasl_jaas_config, user, password, why))
      return refuse("sasl.jaas.config", why);
    if ((!c.sasl_username.empty() && c.sasl_username != user) ||
        (!c.sasl_password.empty() && c.sasl_password != password))
      return refuse("sasl.jaas.config", "set either it or sasl.username and sasl.password, not both");
    c.sasl_username = user;
    c.sasl_password = password;
  }
  // OAUTHBEARER's token may come from a provider set in code after the Config is made: pool_options()
  // checks that there is one.
  if (c.sasl_mechanism == "OAUTHBEARER") return {};
  if (c.sasl_username.empty())
    return refuse("sasl.username", "SASL " + c.sasl_mechanism +
                                       " needs a user name (sasl.username, or "
                                       "sasl.jaas.config)");
  if (c.sasl_password.empty())
    return refuse("sasl.password", "SASL " + c.sasl_mechanism +
                                       " needs a password (sasl.password, or "
                                       "sasl.jaas.config)");
  return {};
}

bool Config::idempotent() const {
  return enable_idempotence && acks == "all" && retries > 0 && max_in_flight_requests <= 5;
}

Config::Config(const std::map<std::string, std::string>& kv) {
  std::string problem, key;
  if (parse(kv, *this, problem, &key)) throw ConfigError(key, problem);
}

Config::Config(std::initializer_list<std::pair<const std::string, std::string>> kv)
    : Config(std::map<std::string, std::string>(kv)) {}

net::PoolOptions pool_options(const Config& c) {
  net::PoolOptions o;
  std::string problem;
  if (net::parse_bootstrap(c.bootstrap_servers, o.bootstrap, &problem))
    throw ConfigError("bootstrap.servers", problem);
  o.connection.client_id = c.client_id;
  o.connection.receive_message_max_bytes = static_cast<size_t>(c.receive_message_max_bytes);
  o.connection.request_timeout = c.request_timeout;
  o.connection.connect_timeout = c.socket_connection_setup_timeout;
  o.reconnect_backoff = c.reconnect_backoff;
  o.reconnect_backoff_max = c.reconnect_backoff_max;
  o.metadata_max_age = c.metadata_max_age;
  if (c.security_protocol == "SSL" || c.security_protocol == "SASL_SSL") {
    net::TlsOptions t;
    t.ca_location = c.ssl_ca_location;
    t.ca_pem = c.ssl_ca_pem;
    t.certificate_location = c.ssl_certificate_location;
    t.certificate_pem = c.ssl_certificate_pem;
    t.key_location = c.ssl_key_location;
    t.key_pem = c.ssl_key_pem;
    t.key_password = c.ssl_key_password;
    t.verify_hostname = c.ssl_endpoint_identification_algorithm == "https";
    if (!t.ca_pem.empty()) t.ca_key = "ssl.ca.pem";
    if (!t.certificate_pem.empty()) t.certificate_key = "ssl.certificate.pem";
    if (!t.key_pem.empty()) t.key_key = "ssl.key.pem";
    if (!c.ssl_truststore_location.empty()) {
      t.ca_location = c.ssl_truststore_location;
      t.ca_key = "ssl.truststore.location";
    }
    if (!c.ssl_keystore_location.empty()) {  // one PEM file with the certificate and its key
      t.certificate_location = t.key_location = c.ssl_keystore_location;
      t.certificate_key = t.key_key = "ssl.keystore.location";
    }
    std::error_code ec;
    o.connection.tls = net::make_tls_context(t, ec, problem);
    if (!o.connection.tls) {
      const auto colon = problem.find(": ");
      const bool names_key = problem.starts_with("ssl.") && colon != std::string::npos;
      throw ConfigError(names_key ? problem.substr(0, colon) : "security.protocol", problem);
    }
  }
  if (c.security_protocol == "SASL_PLAINTEXT" || c.security_protocol == "SASL_SSL") {
    net::SaslConfig s;
    s.mechanism = c.sasl_mechanism;
    s.username = c.sasl_username;
    s.password = c.sasl_password;
    if (c.sasl_oauthbearer_token_provider) {
      s.token_provider = c.sasl_oauthbearer_token_provider.get;
    } else if (!c.sasl_oauthbearer_token_file.empty()) {
      // Read at each authentication: a token refreshed in the file is used at the next one.
      s.token_provider = [path = c.sasl_oauthbearer_token_file](std::string& token,
                                                                std::string& why) -> std::error_code {
        std::ifstream in(path, std::ios::binary);
        token.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
        while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back()))) token.pop_back();
        if (in.bad() || !in.is_open() || token.empty()) {
          why = "sasl.oauthbearer.token.file: no token in " + path;
          return client_errc::invalid_config;
        }
        return {};
      };
    } else if (!c.sasl_oauthbearer_token.empty() || c.sasl_mechanism != "OAUTHBEARER") {
      s.token = c.sasl_oauthbearer_token;
    } else {
      throw ConfigError("sasl.oauthbearer.token",
                        "sasl.oauthbearer.token: OAUTHBEARER needs a token: sasl.oauthbearer.token, "
                        "sasl.oauthbearer.token.file, or a token provider set in code "
                        "(Config::sasl_oauthbearer_token_provider)");
    }
    o.connection.sasl = std::move(s);
  }
  return o;
}

}  // namespace kafkawire
