// The blocking facade: the same story without an io_context in sight.
#include "helpers.hpp"
#include "kafkawire/consumer/blocking.hpp"

using namespace kafkawire;
using namespace std::chrono_literals;
using kafkawire::testing::bootstrap;
using kafkawire::testing::create_topic;
using kafkawire::testing::unique;

TEST_CASE("blocking producer and consumer: send, poll, commit, committed", "[broker][blocking]") {
  const std::string topic = unique("kw-blocking");
  {
    boost::asio::io_context io;
    create_topic(io, topic, 1);
  }
  BlockingProducer producer{{"bootstrap.servers", bootstrap()}};
  for (int i = 0; i < 10; ++i) {
    auto md = producer.send({topic, 0, std::nullopt, "v" + std::to_string(i), {}, std::nullopt});
    CHECK(md.offset == i);
  }
  const std::string group = unique("kw-blocking-group");
  BlockingConsumer consumer{{"bootstrap.servers", bootstrap()},
                            {"group.id", group},
                            {"auto.offset.reset", "earliest"},
                            {"enable.auto.commit", "false"}};
  consumer.assign({{topic, 0}});
  std::vector<std::string> values;
  for (int i = 0; i < 50 && values.size() < 10; ++i)
    for (const Record& r : consumer.poll(200ms)) values.emplace_back(r.value()->str());
  REQUIRE(values.size() == 10);
  CHECK(values.front() == "v0");
  consumer.commit();
  CHECK(consumer.committed({{topic, 0}})[{topic, 0}] == 10);
  BlockingConsumer bad{{"bootstrap.servers", bootstrap()}};
  bad.assign({{unique("kw-missing"), 0}});
  CHECK_THROWS_AS(bad.poll(2000ms), std::system_error);
}
