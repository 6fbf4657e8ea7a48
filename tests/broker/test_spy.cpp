// `kafkawire spy` in front of the real broker: kafkawire's Producer and Consumer (and kcat, when installed)
// bootstrap from the spy, the rewritten Metadata/FindCoordinator answers keep them talking through it, and
// the spy decodes every frame it forwards.
#include <array>
#include <boost/asio/io_context.hpp>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <map>
#include <sstream>

#include "../../tools/kafkawire/spy_proxy.hpp"
#include "helpers.hpp"
#include "java_peers.hpp"
#include "kafkawire/protocol/apis.hpp"
#include "kafkawire/protocol/explain.hpp"
#include "secured_env.hpp"

namespace asio = boost::asio;
using namespace kafkawire;
using namespace std::chrono_literals;
using kafkawire::testing::create_topic;
using kafkawire::testing::run_until;
using kafkawire::testing::unique;

namespace {

struct Spy {
  // upstream_host: another name for the broker than the one it advertises makes the spy open a listener
  // of its own for the advertised address.
  // upstream_port: another listener of the broker than the plaintext one (0: that one).
  explicit Spy(asio::io_context& io, bool explain = false, std::string upstream_host = "",
               std::ostream* dump = nullptr, uint16_t upstream_port = 0) {
    cli::SpyOptions o;
    o.listen_host = "127.0.0.1";
    o.listen_port = 0;
    std::tie(o.upstream_host, o.upstream_port) = kafkawire::testing::first_broker();
    if (!upstream_host.empty()) o.upstream_host = upstream_host;
    if (upstream_port != 0) o.upstream_port = upstream_port;
    o.explain = explain;
    o.dump = dump;
    o.print = [this](const std::string& line) { lines.push_back(line); };
    proxy = cli::SpyProxy::create(io.get_executor(), o);
    REQUIRE_FALSE(proxy->start());
    address = "127.0.0.1:" + std::to_string(proxy->endpoint().port());
  }
  ~Spy() { proxy->stop(); }

  size_t count(const std::string& what) const {
    return static_cast<size_t>(std::count_if(
        lines.begin(), lines.end(), [&](const std::string& l) { return l.find(what) != std::string::npos; }));
  }
  std::string all() const {
    std::string s;
    for (const auto& l : lines) s += l + "\n";
    return s;
  }

  std::shared_ptr<cli::SpyProxy> proxy;
  std::string address;
  std::vector<std::string> lines;
};

Config via(const std::string& address,
           std::initializer_list<std::pair<const std::string, std::string>> extra = {}) {
  std::map<std::string, std::string> kv{{"bootstrap.servers", address}};
  for (const auto& [k, v] : extra) kv[k] = v;
  return Config(kv);
}

// Runs a shell command on a thread of its own (the io_context must keep serving the spy meanwhile);
// returns its exit status and output.
std::future<std::pair<int, std::string>> run_command(std::string command) {
  return std::async(std::launch::async, [command] {
    std::string out;
    FILE* p = popen((command + " 2>&1").c_str(), "r");
    if (!p) return std::pair<int, std::string>(-1, "popen failed");
    std::array<char, 4096> buf;
    size_t n;
    while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
    const int status = pclose(p);
    return std::pair<int, std::string>(WIFEXITED(status) ? WEXITSTATUS(status) : -1, out);
  });
}

void drain(asio::io_context& io) {
  for (int i = 0; i < 20; ++i) {
    io.restart();
    io.run_for(10ms);
  }
}

}  // namespace

TEST_CASE("spy: producer and consumer through the spy, every frame decoded", "[broker][spy]") {
  asio::io_context io;
  const std::string topic = unique("kw-spy");
  const std::string group = unique("kw-spy-group");
  create_topic(io, topic, 2);  // directly, not through the spy
  // Bootstrap through "localhost" while the broker advertises 127.0.0.1: the advertised address gets a
  // listener of its own, and the clients' later connections must go there.
  Spy spy(io, false, kafkawire::testing::first_broker().first == "127.0.0.1" ? "localhost" : "");

  {
    Producer producer(io.get_executor(),
                      via(spy.address, {{"compression.type", "zstd"}, {"linger.ms", "5"}}));
    std::vector<std::future<std::tuple<std::error_code, RecordMetadata>>> sent;
    for (int i = 0; i < 40; ++i)
      sent.push_back(producer.async_send(
          ProducerRecord{
              topic, i % 2, "key-" + std::to_string(i), "value-" + std::to_string(i), {}, std::nullopt},
          asio::use_future));
    for (auto& f : sent) {
      auto [ec, md] = run_until(io, f);
      INFO(producer.error_text());
      REQUIRE_FALSE(ec);
    }
    auto c = producer.async_close(asio::use_future);
    run_until(io, c);
  }
  {
    Consumer consumer(io.get_executor(), via(spy.address, {{"group.id", group},
                                                           {"auto.offset.reset", "earliest"},
                                                           {"enable.auto.commit", "false"}}));
    consumer.subscribe({topic});
    size_t received = 0;
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    while (received < 40 && std::chrono::steady_clock::now() < deadline) {
      auto f = consumer.async_poll(200ms, asio::use_future);
      auto [ec, records] = run_until(io, f);
      INFO(consumer.error_text());
      REQUIRE_FALSE(ec);
      for (const auto& r : records) {
        CHECK(r.value()->str() == "value-" + std::string(r.key()->str().substr(4)));
        ++received;
      }
    }
    REQUIRE(received == 40);
    auto commit = consumer.async_commit(asio::use_future);
    REQUIRE_FALSE(run_until(io, commit));
    auto close = consumer.async_close(asio::use_future);
    run_until(io, close);
  }
  drain(io);

  INFO(spy.all());
  const cli::SpyStats& s = spy.proxy->stats();
  CHECK(s.decode_errors == 0);
  CHECK(s.undecoded == 0);
  CHECK(s.reencode_diffs == 0);
  CHECK(s.rewritten >= 2);  // Metadata at least once for each client
  CHECK(s.requests >= 10);
  // Metadata rewriting made the clients open connections to the broker's own listener on the spy: more
  // connections than the two bootstraps, and a listener besides the bootstrap one.
  CHECK(s.connections > 2);
  if (kafkawire::testing::first_broker().first == "127.0.0.1") {
    CHECK(spy.proxy->mappings().size() >= 2);
    CHECK(spy.count("spy: broker ") >= 1);
  }
  // Summary lines of the main APIs, with the records counted.
  CHECK(spy.count("Metadata v") >= 2);
  CHECK(spy.count("[rewritten: ") >= 2);
  CHECK(spy.count("Produce v") >= 1);
  CHECK(spy.count("Fetch v") >= 1);
  CHECK(spy.count(" records") >= 1);
  CHECK(spy.count("FindCoordinator v") >= 1);
  CHECK(spy.count("JoinGroup v") + spy.count("ConsumerGroupHeartbeat v") >= 1);
  CHECK(spy.count("OffsetCommit v") >= 1);
  CHECK(spy.count("decode error") == 0);
}

TEST_CASE("spy: --explain prints the tree of every frame", "[broker][spy]") {
  asio::io_context io;
  Spy spy(io, true);
  net::PoolOptions opts;
  REQUIRE_FALSE(net::parse_bootstrap(spy.address, opts.bootstrap));
  auto pool = net::Pool::create(io.get_executor(), opts);
  auto m = pool->async_refresh_metadata(std::vector<std::string>{}, asio::use_future);
  REQUIRE_FALSE(run_until(io, m));
  drain(io);
  INFO(spy.all());
  CHECK(spy.proxy->stats().decode_errors == 0);
  const std::string all = spy.all();
  CHECK(all.find("ApiVersionsRequest v") != std::string::npos);
  CHECK(all.find("MetadataResponse v") != std::string::npos);
  CHECK(all.find("CorrelationId") != std::string::npos);
  // The tree of a rewritten Metadata response shows the spy's address, not the broker's.
  CHECK(all.find("\"127.0.0.1\"") != std::string::npos);
  bool port_rewritten = false;
  std::istringstream tree(all);
  for (std::string line; std::getline(tree, line);)
    if (line.find(" Port ") != std::string::npos &&
        line.ends_with(" " + std::to_string(spy.proxy->endpoint().port())))
      port_rewritten = true;
  CHECK(port_rewritten);
}

TEST_CASE("spy: --dump writes every frame as it came, and explain reads each one", "[broker][spy]") {
  asio::io_context io;
  const std::string topic = unique("kw-spy-dump");
  create_topic(io, topic, 1);
  std::ostringstream dump;
  Spy spy(io, false, "", &dump);
  {
    Producer producer(io.get_executor(), via(spy.address));
    auto f = producer.async_send(ProducerRecord{topic, 0, "k", "v", {}, std::nullopt}, asio::use_future);
    auto [ec, md] = run_until(io, f);
    INFO(producer.error_text());
    REQUIRE_FALSE(ec);
    auto c = producer.async_close(asio::use_future);
    run_until(io, c);
  }
  drain(io);
  INFO(spy.all());
  INFO(dump.str());

  struct Frame {
    std::string direction;
    int16_t key = -1, version = -1;
    int32_t corr = 0;
    std::vector<uint8_t> bytes;
  };
  std::map<std::pair<uint64_t, int32_t>, Frame> requests, responses;
  std::istringstream in(dump.str());
  size_t lines = 0;
  for (std::string line; std::getline(in, line);) {
    ++lines;
    INFO(line.substr(0, 120));
    REQUIRE_FALSE(line.starts_with("#"));  // comments are only for frames over --max-frame
    std::istringstream l(line);
    uint64_t conn = 0;
    Frame f;
    std::string hex;
    REQUIRE(l >> conn >> f.direction >> f.key >> f.version >> f.corr >> hex);
    REQUIRE(hex.size() % 2 == 0);
    for (size_t i = 0; i < hex.size(); i += 2)
      f.bytes.push_back(static_cast<uint8_t>(std::stoi(hex.substr(i, 2), nullptr, 16)));
    // The whole frame, its size included; the columns say what its header says.
    REQUIRE(f.bytes.size() >= 8);
    const auto be32 = [&](size_t at) {
      return static_cast<int32_t>(uint32_t{f.bytes[at]} << 24 | uint32_t{f.bytes[at + 1]} << 16 |
                                  uint32_t{f.bytes[at + 2]} << 8 | f.bytes[at + 3]);
    };
    CHECK(static_cast<size_t>(be32(0)) == f.bytes.size() - 4);
    if (f.direction == "request") {
      CHECK(static_cast<int16_t>(f.bytes[4] << 8 | f.bytes[5]) == f.key);
      CHECK(static_cast<int16_t>(f.bytes[6] << 8 | f.bytes[7]) == f.version);
      CHECK(be32(8) == f.corr);
      const auto e = protocol::explain_frame(protocol::Bytes(f.bytes), protocol::FrameOptions::request());
      CHECK(e.errors().empty());
      requests[{conn, f.corr}] = std::move(f);
    } else {
      REQUIRE(f.direction == "response");
      CHECK(be32(4) == f.corr);
      const auto e = protocol::explain_frame(protocol::Bytes(f.bytes),
                                             protocol::FrameOptions::response(f.key, f.version));
      CHECK(e.errors().empty());
      responses[{conn, f.corr}] = std::move(f);
    }
  }
  CHECK(lines == spy.proxy->stats().requests + spy.proxy->stats().responses);
  // Every response is the answer to a request of the same connection, with that request's api and version.
  CHECK(responses.size() == requests.size());
  for (const auto& [id, r] : responses) {
    REQUIRE(requests.count(id));
    CHECK(requests[id].key == r.key);
    CHECK(requests[id].version == r.version);
  }
  // Responses are dumped as the broker sent them: the Metadata answer names the broker's own port, while the
  // client got the spy's (the spy said it rewrote it).
  CHECK(spy.count("[rewritten: ") >= 1);
  const std::string broker_port = std::to_string(kafkawire::testing::first_broker().second);
  bool broker_address_seen = false;
  for (const auto& [id, r] : responses) {
    if (r.key != protocol::MetadataResponse::api_key) continue;
    const std::string tree = protocol::to_text(protocol::explain_frame(
        protocol::Bytes(r.bytes), protocol::FrameOptions::response(r.key, r.version)));
    std::istringstream t(tree);
    for (std::string line; std::getline(t, line);)
      if (line.find(" Port ") != std::string::npos && line.ends_with(" " + broker_port))
        broker_address_seen = true;
  }
  CHECK(broker_address_seen);
  CHECK(cli::dump_line(3, false, 1, 17, 9, std::vector<uint8_t>{0, 0, 0, 4, 0, 0, 0, 9}.data(), 8) ==
        "3 response 1 17 9 0000000400000009");
}

TEST_CASE("spy: --dump keeps SASL exchanges with the password, proof and signature replaced",
          "[broker][spy][security]") {
  using kafkawire::testing::env;
  if (!kafkawire::testing::have_secured_broker()) return;
  std::string host;
  uint16_t port = 0;
  const std::string bootstrap = env("KAFKAWIRE_SASL_PLAINTEXT_BOOTSTRAP");
  REQUIRE(cli::parse_host_port(bootstrap.substr(0, bootstrap.find(',')), host, port));
  const std::string password = env("KAFKAWIRE_SASL_PASSWORD");
  asio::io_context io;
  const std::string topic = unique("kw-spy-sasl");
  create_topic(io, topic, 1);
  for (const std::string mechanism : {"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"}) {
    DYNAMIC_SECTION(mechanism) {
      std::ostringstream dump;
      Spy spy(io, false, host, &dump, port);
      {
        Producer producer(io.get_executor(), via(spy.address, {{"security.protocol", "SASL_PLAINTEXT"},
                                                               {"sasl.mechanism", mechanism},
                                                               {"sasl.username", env("KAFKAWIRE_SASL_USER")},
                                                               {"sasl.password", password}}));
        auto f = producer.async_send(ProducerRecord{topic, 0, "k", "v", {}, std::nullopt}, asio::use_future);
        auto [ec, md] = run_until(io, f);
        INFO(producer.error_text());
        REQUIRE_FALSE(ec);  // the redaction is in the dump only: the broker got the real bytes
        auto c = producer.async_close(asio::use_future);
        run_until(io, c);
      }
      drain(io);
      INFO(spy.all());
      INFO(dump.str());
      CHECK(spy.count("SaslHandshake v1 corr=") >= 1);
      CHECK(spy.count("mechanism " + mechanism) >= 1);
      // The password is nowhere in the dump, neither as text nor in hex.
      std::string password_hex;
      for (unsigned char ch : password)
        password_hex += "0123456789abcdef"[ch >> 4], password_hex += "0123456789abcdef"[ch & 15];
      CHECK(dump.str().find(password) == std::string::npos);
      CHECK(dump.str().find(password_hex) == std::string::npos);
      // Every SaslAuthenticate frame is there, after a comment saying what was replaced in it; it still
      // decodes, and its auth bytes hold the '*' filler where the secret was, as long as the secret.
      std::istringstream in(dump.str());
      std::string comment;
      std::vector<std::string> replaced;
      size_t sasl_frames = 0;
      for (std::string line; std::getline(in, line);) {
        if (line.starts_with("#")) {
          comment = line;
          continue;
        }
        std::istringstream l(line);
        uint64_t conn = 0;
        std::string direction, hex;
        int16_t key = -1, version = -1;
        int32_t corr = 0;
        REQUIRE(l >> conn >> direction >> key >> version >> corr >> hex);
        if (key != protocol::SaslAuthenticateRequest::api_key) continue;
        ++sasl_frames;
        INFO(comment);
        REQUIRE(comment.starts_with("# " + std::to_string(conn) + " " + direction + " 36 "));
        CHECK(comment.find("SaslAuthenticate (" + mechanism + "), auth bytes: ") != std::string::npos);
        replaced.push_back(comment.substr(comment.find("auth bytes: ") + 12));
        std::vector<uint8_t> bytes;
        for (size_t i = 0; i + 1 < hex.size(); i += 2)
          bytes.push_back(static_cast<uint8_t>(std::stoi(hex.substr(i, 2), nullptr, 16)));
        const auto e = protocol::explain_frame(
            protocol::Bytes(bytes), direction == "request" ? protocol::FrameOptions::request()
                                                           : protocol::FrameOptions::response(key, version));
        CHECK(e.errors().empty());
        const std::string text(bytes.begin(), bytes.end());
        if (comment.find("the password replaced") != std::string::npos)
          CHECK(text.find(env("KAFKAWIRE_SASL_USER") + '\0' + std::string(password.size(), '*')) !=
                std::string::npos);
        // A SCRAM proof and signature are the base64 of a SHA-256 (44 characters) or SHA-512 (88) HMAC.
        const std::string stars(mechanism == "SCRAM-SHA-512" ? 88 : 44, '*');
        if (comment.find("the proof (p=) replaced") != std::string::npos)
          CHECK(text.find(",p=" + stars) != std::string::npos);
        if (comment.find("the server signature (v=) replaced") != std::string::npos)
          CHECK(text.find("v=" + stars) != std::string::npos);
      }
      const auto said = [&](const std::string& what) {
        return std::count_if(replaced.begin(), replaced.end(),
                             [&](const std::string& r) { return r.starts_with(what); });
      };
      // Per connection (the producer has two: the bootstrap and the partition leader's).
      const long n = static_cast<long>(sasl_frames);
      if (mechanism == "PLAIN") {
        CHECK(n >= 2);  // one message each way
        CHECK(n % 2 == 0);
        CHECK(said("the password replaced by '*', same length") == n / 2);
        CHECK(said("nothing (no secret in this message)") == n / 2);  // the broker's empty answer
      } else {
        CHECK(n >= 4);  // client-first, server-first, client-final, server-final
        CHECK(n % 4 == 0);
        CHECK(said("the proof (p=) replaced by '*', same length") == n / 4);
        CHECK(said("the server signature (v=) replaced by '*', same length") == n / 4);
        CHECK(said("nothing (no secret in this message)") == n / 2);
      }
    }
  }
}

TEST_CASE("spy: the Java producer's transactions through the spy, each one's end decoded",
          "[broker][spy][transactions]") {
  const std::string cp = kafkawire::testing::java_peers_classpath();  // built before the spy runs
  REQUIRE_FALSE(cp.empty());
  asio::io_context io;
  const std::string topic = unique("kw-spy-txn");
  create_topic(io, topic, 1);
  Spy spy(io);

  // Three transactions (commit, abort, commit) by kafka-clients 4.4 through the spy.
  auto run = run_command("timeout 120 java -Xmx256m -cp '" + cp + "' kafkawire.peer.TxnProducer " +
                         spy.address + " " + topic);
  auto [rc, out] = run_until(io, run, 130000ms);
  INFO(out);
  REQUIRE(rc == 0);
  drain(io);

  INFO(spy.all());
  const cli::SpyStats& s = spy.proxy->stats();
  CHECK(s.decode_errors == 0);
  CHECK(s.reencode_diffs == 0);
  const std::string txn = "kafkawire-txn-" + topic + " (producer ";
  CHECK(spy.count("FindCoordinator v") >= 1);
  CHECK(spy.count("InitProducerId v") >= 1);
  CHECK(spy.count("EndTxn v") == 3);
  CHECK(spy.count("commit " + txn) == 2);
  CHECK(spy.count("abort " + txn) == 1);
  // Under transactions v2 (Kafka 4.x) every EndTxn answer hands out the next epoch; under v1 the producer
  // names each partition with AddPartitionsToTxn first.
  CHECK(spy.count("next: producer ") + spy.count("AddPartitionsToTxn v") >= 3);
}

TEST_CASE("spy: kcat -L and kcat -C through the spy", "[broker][spy]") {
  if (std::system("command -v kcat >/dev/null 2>&1") != 0) {
    WARN("kcat is not installed: skipped (apt-get install kcat)");
    return;
  }
  asio::io_context io;
  const std::string topic = unique("kw-spy-kcat");
  create_topic(io, topic, 1);
  kafkawire::testing::produce(io, topic, 1, 25);
  Spy spy(io);

  auto list = run_command("timeout 60 kcat -b " + spy.address + " -L -t " + topic);
  auto [lrc, lout] = run_until(io, list, 70000ms);
  INFO(lout);
  CHECK(lrc == 0);
  CHECK(lout.find("topic \"" + topic + "\"") != std::string::npos);
  // kcat prints the brokers as the spy advertised them.
  CHECK(lout.find("127.0.0.1:" + std::to_string(spy.proxy->endpoint().port())) != std::string::npos);

  auto consume = run_command("timeout 60 kcat -b " + spy.address + " -C -t " + topic +
                             " -o beginning -e -q -f '%k=%s\\n'");
  auto [crc, cout] = run_until(io, consume, 70000ms);
  INFO(cout);
  CHECK(crc == 0);
  std::istringstream in(cout);
  std::string line;
  int n = 0;
  while (std::getline(in, line))
    if (line.rfind("key-", 0) == 0) ++n;
  CHECK(n == 25);
  drain(io);

  INFO(spy.all());
  const cli::SpyStats& s = spy.proxy->stats();
  CHECK(s.decode_errors == 0);
  CHECK(s.rewritten >= 1);
  CHECK(spy.count("Fetch v") >= 1);
  if (s.undecoded) WARN(s.undecoded << " frames of APIs kafkawire does not speak were forwarded undecoded");
}
