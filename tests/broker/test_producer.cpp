// The Producer against the real broker: what reaches the log, counted from the log's offsets.
#include <boost/asio/io_context.hpp>

#include "helpers.hpp"

namespace asio = boost::asio;
using namespace kafkawire;
using namespace std::chrono_literals;
using kafkawire::testing::base_config;
using kafkawire::testing::create_topic;
using kafkawire::testing::run_until;
using kafkawire::testing::unique;

TEST_CASE("producer: 1,000 partitions and a broker slower than the application: every record once in the log",
          "[broker][producer]") {
  // The log holds exactly what was sent. Before the Produce pipeline was bounded (in bytes per request and
  // requests per broker), 400,000 records sent here with request.timeout.ms=5000 left 659,716 in the log:
  // the last of an ever longer pipeline of requests timed out and every request on the connection was
  // sent again (tests/net has the same in small, deterministic). With the default timeout it took 2 M
  // records. Counted from the log's offsets, so nothing the client reports is taken on trust.
  asio::io_context io;
  const std::string topic = unique("produce-once");
  constexpr int32_t partitions = 1000;
  constexpr int64_t count = 300000;
  create_topic(io, topic, partitions);
  Producer producer(io.get_executor(), base_config());
  int64_t sent = 0, done = 0, failed = 0;
  std::string first_error;
  const std::string value(100, 'v');
  while (done < count) {
    while (sent < count && sent - done < 100000) {
      producer.async_send(ProducerRecord{.topic = topic,
                                         .partition = static_cast<int32_t>(sent % partitions),
                                         .key = "key-" + std::to_string(sent),
                                         .value = value},
                          [&](std::error_code ec, RecordMetadata) {
                            ++done;
                            if (ec && failed++ == 0)
                              first_error = ec.message() + " (" + producer.error_text() + ")";
                          });
      ++sent;
    }
    io.run_one_for(100ms);
  }
  INFO(first_error);
  REQUIRE(failed == 0);

  Consumer consumer(io.get_executor(), base_config());
  std::vector<TopicPartition> all;
  for (int32_t p = 0; p < partitions; ++p) all.push_back({topic, p});
  auto f = consumer.async_list_offsets(all, -1, asio::use_future);
  auto [ec, latest] = run_until(io, f);
  INFO(consumer.error_text());
  REQUIRE_FALSE(ec);
  REQUIRE(latest.size() == static_cast<size_t>(partitions));
  int64_t in_log = 0;
  for (const auto& [tp, offset] : latest) {
    INFO(to_string(tp));
    CHECK(offset == count / partitions);  // round robin: the same number in every partition
    in_log += offset;
  }
  CHECK(in_log == count);
}

TEST_CASE("idempotent producer: a request.timeout.ms short enough to force retries leaves each record once",
          "[broker][producer][idempotence]") {
  // Requests time out while the broker is still writing them; the connection closes and the batches are
  // sent again. Without idempotence that wrote whole requests twice (416,727 records in the log for 400,000
  // sent, request.timeout.ms=5000, on a loaded machine); with it, the resent batches carry their sequence
  // numbers and the broker drops the ones it has. Counted from the log's offsets. (Measured on the local
  // 4.4 broker: 1,338 batches resent and exactly 200,000 in the log; the same run with
  // enable.idempotence=false resent 1,105 and left 343,913.) It left 200,525 in CI, and then 1 run in 5
  // here: a later batch was written before an earlier one, whose resend then came back out of order, and
  // the epoch bump wrote the later one twice (producer_session.hpp says how it can no longer happen).
  asio::io_context io;
  const std::string topic = unique("produce-idempotent");
  constexpr int32_t partitions = 50;
  constexpr int64_t count = 200000;
  create_topic(io, topic, partitions);
  Producer producer(io.get_executor(), base_config({{"request.timeout.ms", "40"},
                                                    {"linger.ms", "5"},
                                                    {"batch.size", "65536"},
                                                    {"retry.backoff.ms", "10"}}));
  int64_t sent = 0, done = 0, failed = 0;
  std::string first_error;
  const std::string value(100, 'v');
  while (done < count) {
    while (sent < count && sent - done < 100000) {
      producer.async_send(ProducerRecord{.topic = topic,
                                         .partition = static_cast<int32_t>(sent % partitions),
                                         .key = "key-" + std::to_string(sent),
                                         .value = value},
                          [&](std::error_code ec, RecordMetadata) {
                            ++done;
                            if (ec && failed++ == 0)
                              first_error = ec.message() + " (" + producer.error_text() + ")";
                          });
      ++sent;
    }
    io.run_one_for(100ms);
  }
  INFO(first_error);
  REQUIRE(failed == 0);
  INFO("batches sent again: " << producer.batches_resent());
  CHECK(producer.batches_resent() > 0);  // the timeout did force retries

  Consumer consumer(io.get_executor(), base_config());
  std::vector<TopicPartition> all;
  for (int32_t p = 0; p < partitions; ++p) all.push_back({topic, p});
  auto f = consumer.async_list_offsets(all, -1, asio::use_future);
  auto [ec, latest] = run_until(io, f);
  INFO(consumer.error_text());
  REQUIRE_FALSE(ec);
  int64_t in_log = 0;
  for (const auto& [tp, offset] : latest) {
    INFO(to_string(tp));
    CHECK(offset == count / partitions);
    in_log += offset;
  }
  CHECK(in_log == count);
}
