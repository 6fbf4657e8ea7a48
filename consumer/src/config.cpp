#include "kafkawire/consumer/config.hpp"

#include <algorithm>
#include <charconv>

#include "kafkawire/protocol/error.hpp"

namespace kafkawire {

const std::vector<ConfigKey>& config_keys() {
  // Sections: docs/configuration.md groups the keys by them, in this order.
  constexpr std::string_view conn = "connection", cons = "consumer", grp = "group", prod = "producer";
  static const std::vector<ConfigKey> keys = {
      {"bootstrap.servers", "",
       "host:port[,host:port...]: brokers to ask for the cluster's metadata first; after that the client "
       "talks to the brokers the metadata names. Required.",
       conn},
      {"client.id", "kafkawire",
       "sent in every request header; brokers show it in their logs, metrics and quotas", conn},
      {"request.timeout.ms", "30000",
       "how long to wait for a response; then the request fails with client_errc::timeout and the connection "
       "closes (every request in flight on it fails too). A Fetch may take fetch.max.wait.ms longer, a "
       "JoinGroup max.poll.interval.ms longer.",
       conn},
      {"socket.connection.setup.timeout.ms", "10000",
       "how long resolving and connecting to a broker (TCP) may take", conn},
      {"reconnect.backoff.ms", "50",
       "delay before reconnecting to a broker after a failure; doubles per consecutive failure, with jitter",
       conn},
      {"reconnect.backoff.max.ms", "1000", "the longest delay between reconnect attempts to one broker",
       conn},
      {"retry.backoff.ms", "100",
       "delay before retrying a failed request (a leader moved, a coordinator changed, a timeout)", conn},
      {"metadata.max.age.ms", "300000",
       "metadata older than this is fetched again even without an error; also how often a regex "
       "subscription looks for new matching topics",
       conn},
      {"receive.message.max.bytes", "104857600",
       "a response frame larger than this closes the connection (protects against a corrupt size prefix); "
       "keep it above fetch.max.bytes",
       conn},
      {"allow.auto.create.topics", "false",
       "let Metadata requests create missing topics, when the broker allows it (auto.create.topics.enable); "
       "the producer then waits for the new topic up to delivery.timeout.ms",
       conn},
      {"default.api.timeout.ms", "60000",
       "bound on the calls that wait for the cluster: commit, committed, offsets_for_times, list_offsets, "
       "close",
       conn},
      {"group.id", "",
       "the consumer group: needed by subscribe() (group membership) and to commit or read committed offsets",
       cons},
      {"auto.offset.reset", "latest",
       "where to start reading a partition that has no committed offset (or whose offset is out of range): "
       "earliest, latest, or none (poll fails with client_errc::no_offset naming the partition)",
       cons},
      {"enable.auto.commit", "true",
       "commit the positions of what earlier polls returned, at the start of a poll once "
       "auto.commit.interval.ms has passed, and in close(); false: call commit yourself after processing",
       cons},
      {"auto.commit.interval.ms", "5000", "the least time between two automatic commits", cons},
      {"isolation.level", "read_uncommitted",
       "read_committed: skip the records of aborted transactions and the transaction markers, and read no "
       "further than the last stable offset; read_uncommitted: every record up to the high watermark",
       cons},
      {"max.poll.records", "500", "the most records one poll returns; the rest stay buffered for the next",
       cons},
      {"fetch.min.bytes", "1",
       "the broker holds a Fetch until it has this many bytes for the request (or fetch.max.wait.ms passed)",
       cons},
      {"fetch.max.wait.ms", "500",
       "the longest time the broker holds a Fetch waiting for fetch.min.bytes; also how long a poll may wait "
       "for data that is not there",
       cons},
      {"fetch.max.bytes", "52428800",
       "the most data one Fetch response may carry, over all its partitions (the first batch is returned "
       "even when larger)",
       cons},
      {"max.partition.fetch.bytes", "1048576",
       "the most data one Fetch returns for one partition (the first batch is returned even when larger)",
       cons},
      {"queued.max.messages.kbytes", "65536",
       "prefetch bound in KiB (librdkafka's name): a partition's next Fetch goes out while its earlier data "
       "is still being polled, as long as the consumer buffers less than this over all partitions",
       cons},
      {"check.crcs", "true",
       "verify the CRC-32C of every record batch fetched; a mismatch fails the poll naming topic, partition "
       "and offset",
       cons},
      {"group.instance.id", "",
       "static membership (KIP-345): a member that restarts with the same id within session.timeout.ms "
       "gets its partitions back without a rebalance",
       grp},
      {"session.timeout.ms", "45000",
       "the coordinator removes a member it has not heard a heartbeat from for this long, and gives its "
       "partitions to the others",
       grp},
      {"heartbeat.interval.ms", "3000",
       "how often a member heartbeats (it learns of rebalances from the answers); must be lower than "
       "session.timeout.ms",
       grp},
      {"max.poll.interval.ms", "300000",
       "a member that does not call poll for this long leaves the group (its processing is stuck); also "
       "the rebalance timeout sent in JoinGroup",
       grp},
      {"partition.assignment.strategy", "range,cooperative-sticky",
       "assignors this member supports, in order of preference: range, roundrobin, cooperative-sticky "
       "(same results as Java's); the coordinator picks one that every member supports",
       grp},
      {"acks", "all",
       "how many replicas must have a record before the broker answers: 0 (no answer: the offset is "
       "unknown, -1), 1 (the leader) or all (every in-sync replica; also -1)",
       prod},
      {"linger.ms", "5",
       "how long a partition's batch may wait for more records before it is sent (unless batch.size is "
       "reached first or flush is called)",
       prod},
      {"batch.size", "16384",
       "a partition's batch is sent once its records take this many bytes; one batch per partition per "
       "request",
       prod},
      {"compression.type", "none",
       "codec of produced batches: none, gzip, snappy, lz4 or zstd (a codec this build lacks fails with "
       "client_errc::unsupported_compression)",
       prod},
      {"retries", "2147483647",
       "how many times a Produce that failed with a retriable error (leader moved, timeout, disconnect) is "
       "sent again, within delivery.timeout.ms",
       prod},
      {"delivery.timeout.ms", "120000",
       "bound on the time from async_send to the record's delivery result, retries included", prod},
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

std::error_code bad(std::string& problem, const std::string& key, const std::string& text) {
  problem = key + ": " + text;
  return client_errc::invalid_config;
}

std::error_code parse_int(const std::string& key, const std::string& v, int64_t lo, int64_t hi, int64_t& out,
                          std::string& problem) {
  int64_t x = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
  if (ec != std::errc() || p != v.data() + v.size())
    return bad(problem, key, "'" + v + "' is not a whole number");
  if (x < lo || x > hi)
    return bad(problem, key,
               "'" + v + "' is out of range [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  out = x;
  return {};
}

template <class T>
std::error_code set_int(const std::string& key, const std::string& v, int64_t lo, int64_t hi, T& out,
                        std::string& problem) {
  int64_t x = 0;
  if (auto ec = parse_int(key, v, lo, hi, x, problem)) return ec;
  out = static_cast<T>(x);
  return {};
}

std::error_code set_ms(const std::string& key, const std::string& v, int64_t lo,
                       std::chrono::milliseconds& out, std::string& problem) {
  int64_t x = 0;
  if (auto ec = parse_int(key, v, lo, INT32_MAX, x, problem)) return ec;
  out = std::chrono::milliseconds(x);
  return {};
}

std::error_code set_bool(const std::string& key, const std::string& v, bool& out, std::string& problem) {
  if (v == "true") {
    out = true;
  } else if (v == "false") {
    out = false;
  } else {
    return bad(problem, key, "'" + v + "' is not true or false");
  }
  return {};
}

std::error_code set_choice(const std::string& key, const std::string& v,
                           std::initializer_list<std::string_view> choices, size_t& out,
                           std::string& problem) {
  size_t i = 0;
  for (auto c : choices) {
    if (v == c) {
      out = i;
      return {};
    }
    ++i;
  }
  std::string list;
  for (auto c : choices) list += (list.empty() ? "" : ", ") + std::string(c);
  return bad(problem, key, "'" + v + "' is not one of " + list);
}

}  // namespace

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

std::error_code Config::set(const std::string& key, const std::string& v, std::string& problem) {
  size_t choice = 0;
  std::error_code ec;
  if (key == "bootstrap.servers") {
    if (v.empty()) return bad(problem, key, "must not be empty");
    bootstrap_servers = v;
  } else if (key == "client.id") {
    client_id = v;
  } else if (key == "group.id") {
    group_id = v;
  } else if (key == "group.instance.id") {
    if (v.empty())
      group_instance_id.reset();
    else
      group_instance_id = v;
  } else if (key == "enable.auto.commit") {
    ec = set_bool(key, v, enable_auto_commit, problem);
  } else if (key == "auto.commit.interval.ms") {
    ec = set_ms(key, v, 1, auto_commit_interval, problem);
  } else if (key == "auto.offset.reset") {
    if (!(ec = set_choice(key, v, {"earliest", "latest", "none"}, choice, problem)))
      auto_offset_reset = static_cast<OffsetReset>(choice);
  } else if (key == "isolation.level") {
    if (!(ec = set_choice(key, v, {"read_uncommitted", "read_committed"}, choice, problem)))
      isolation_level = static_cast<IsolationLevel>(choice);
  } else if (key == "fetch.min.bytes") {
    ec = set_int(key, v, 0, INT32_MAX, fetch_min_bytes, problem);
  } else if (key == "fetch.max.bytes") {
    ec = set_int(key, v, 1, INT32_MAX, fetch_max_bytes, problem);
  } else if (key == "max.partition.fetch.bytes") {
    ec = set_int(key, v, 1, INT32_MAX, max_partition_fetch_bytes, problem);
  } else if (key == "fetch.max.wait.ms") {
    ec = set_ms(key, v, 0, fetch_max_wait, problem);
  } else if (key == "queued.max.messages.kbytes") {
    ec = set_int(key, v, 1, INT32_MAX / 1024, queued_max_kbytes, problem);
  } else if (key == "max.poll.records") {
    ec = set_int(key, v, 1, INT32_MAX, max_poll_records, problem);
  } else if (key == "check.crcs") {
    ec = set_bool(key, v, check_crcs, problem);
  } else if (key == "session.timeout.ms") {
    ec = set_ms(key, v, 1, session_timeout, problem);
  } else if (key == "heartbeat.interval.ms") {
    ec = set_ms(key, v, 1, heartbeat_interval, problem);
  } else if (key == "max.poll.interval.ms") {
    ec = set_ms(key, v, 1, max_poll_interval, problem);
  } else if (key == "partition.assignment.strategy") {
    std::vector<std::string> list;
    size_t start = 0;
    while (start <= v.size()) {
      const size_t comma = std::min(v.find(',', start), v.size());
      std::string name = v.substr(start, comma - start);
      name.erase(0, name.find_first_not_of(' '));
      name.erase(name.find_last_not_of(' ') + 1);
      if (!name.empty()) {
        if (name != "range" && name != "roundrobin" && name != "cooperative-sticky")
          return bad(problem, key, "'" + name + "' is not one of range, roundrobin, cooperative-sticky");
        list.push_back(name);
      }
      start = comma + 1;
    }
    if (list.empty()) return bad(problem, key, "names no assignor");
    partition_assignment_strategy = std::move(list);
  } else if (key == "receive.message.max.bytes") {
    ec = set_int(key, v, 1000, INT32_MAX, receive_message_max_bytes, problem);
  } else if (key == "request.timeout.ms") {
    ec = set_ms(key, v, 1, request_timeout, problem);
  } else if (key == "socket.connection.setup.timeout.ms") {
    ec = set_ms(key, v, 1, socket_connection_setup_timeout, problem);
  } else if (key == "reconnect.backoff.ms") {
    ec = set_ms(key, v, 0, reconnect_backoff, problem);
  } else if (key == "reconnect.backoff.max.ms") {
    ec = set_ms(key, v, 0, reconnect_backoff_max, problem);
  } else if (key == "metadata.max.age.ms") {
    ec = set_ms(key, v, 0, metadata_max_age, problem);
  } else if (key == "retry.backoff.ms") {
    ec = set_ms(key, v, 0, retry_backoff, problem);
  } else if (key == "default.api.timeout.ms") {
    ec = set_ms(key, v, 0, default_api_timeout, problem);
  } else if (key == "allow.auto.create.topics") {
    ec = set_bool(key, v, allow_auto_create_topics, problem);
  } else if (key == "acks") {
    if (v == "-1")
      acks = "all";
    else if (!(ec = set_choice(key, v, {"0", "1", "all"}, choice, problem)))
      acks = v;
  } else if (key == "linger.ms") {
    ec = set_ms(key, v, 0, linger, problem);
  } else if (key == "batch.size") {
    ec = set_int(key, v, 1, INT32_MAX, batch_size, problem);
  } else if (key == "compression.type") {
    if (!(ec = set_choice(key, v, {"none", "gzip", "snappy", "lz4", "zstd"}, choice, problem)))
      compression_type = v;
  } else if (key == "retries") {
    ec = set_int(key, v, 0, INT32_MAX, retries, problem);
  } else if (key == "delivery.timeout.ms") {
    ec = set_ms(key, v, 1, delivery_timeout, problem);
  } else {
    const auto near = closest_config_key(key);
    problem = "unknown configuration key '" + key + "'" +
              (near.empty() ? std::string() : "; did you mean '" + std::string(near) + "'?");
    return client_errc::invalid_config;
  }
  if (!ec) values[key] = v;
  return ec;
}

std::error_code Config::parse(const std::map<std::string, std::string>& kv, Config& out, std::string& problem,
                              std::string* failed_key) {
  Config c;
  for (const auto& [k, v] : kv)
    if (auto ec = c.set(k, v, problem)) {
      if (failed_key) *failed_key = k;
      return ec;
    }
  if (c.heartbeat_interval >= c.session_timeout) {
    problem = "heartbeat.interval.ms (" + std::to_string(c.heartbeat_interval.count()) +
              ") must be lower than session.timeout.ms (" + std::to_string(c.session_timeout.count()) + ")";
    if (failed_key) *failed_key = "heartbeat.interval.ms";
    return client_errc::invalid_config;
  }
  out = std::move(c);
  return {};
}

Config::Config(const std::map<std::string, std::string>& kv) {
  std::string problem, key;
  if (parse(kv, *this, problem, &key)) throw ConfigError(key, problem);
}

Config::Config(std::initializer_list<std::pair<const std::string, std::string>> kv)
    : Config(std::map<std::string, std::string>(kv)) {}

}  // namespace kafkawire
