// Hostile peers: garbage, truncated, foreign, wrong-version, multipart and
// oversized frames sent to every socket a running cluster binds (ventilator
// intake, work, heartbeat and status; sink results). No node dies or
// restarts, and the cluster then scores as before, every transaction once.
#include <gtest/gtest.h>

#include <msgpack.hpp>
#include <random>
#include <zmq.hpp>

#include "local_cluster/synthetic_push.h"
#include "proto/codec.h"
#include "tests/support/cluster_harness.h"
#include "tests/support/metrics_scrape.h"
#include "tests/support/wait.h"
#include "training/synthetic.h"

namespace scorepipe::testing {
namespace {

// A well-formed envelope around `body`, with any magic and version.
std::string Envelope(std::string_view magic, uint32_t version, uint8_t kind, const std::string& body) {
  msgpack::sbuffer buffer;
  msgpack::packer<msgpack::sbuffer> p(buffer);
  p.pack_array(4);
  p.pack(std::string(magic));
  p.pack(version);
  p.pack(kind);
  p.pack(body);
  return std::string(buffer.data(), buffer.size());
}

// Every kind of frame a node must refuse without falling over.
std::vector<std::string> HostileFrames() {
  std::mt19937 random(20261123);
  std::vector<std::string> frames = {"", "\x00", "SCPW", std::string(1, '\xc1'), "{\"id\":1}"};
  for (int i = 0; i < 40; ++i) {
    std::string noise(random() % 4096, '\0');
    for (char& c : noise) c = static_cast<char>(random());
    frames.push_back(noise);
  }
  TransactionBatch batch;
  batch.batch_id = 7;
  batch.lease = "not-a-lease";
  SyntheticTransactions generator(3, 1);
  for (int i = 0; i < 50; ++i) batch.transactions.push_back(generator.Next().parsed);
  const std::string valid = Encode(batch);
  for (size_t cut : {size_t{1}, size_t{5}, valid.size() / 3, valid.size() / 2, valid.size() - 1}) {
    frames.push_back(valid.substr(0, cut));  // truncated
  }
  frames.push_back(Envelope(kWireMagic, kWireVersion + 1, 1, "later version"));
  frames.push_back(Envelope(kWireMagic, 0, 1, "older version"));
  frames.push_back(Envelope("XXXX", kWireVersion, 1, "foreign"));
  frames.push_back(Envelope(kWireMagic, kWireVersion, 200, "unknown kind"));
  for (uint8_t kind = 1; kind <= 5; ++kind) {
    frames.push_back(Envelope(kWireMagic, kWireVersion, kind, "wrong body"));  // right envelope, bad body
  }
  ResultBatch forged;  // a well-formed result for a lease that does not exist
  forged.lease = "1 2 3";
  forged.results.push_back(ScoreResult{1, 0.0, 0, 1.0, "", ""});
  frames.push_back(Encode(forged));
  return frames;
}

// Sends `frames` as a client holding `security`'s key: with the cluster's own
// key the frames reach the node's decoders (the worst case: a host whose key
// is authorized, compromised); with none they die in the CURVE handshake.
void Barrage(zmq::context_t& context, const LinkSecurity& security, zmq::socket_type type,
             const std::string& endpoint, const std::vector<std::string>& frames) {
  zmq::socket_t socket(context, type);
  socket.set(zmq::sockopt::linger, 2000);
  socket.set(zmq::sockopt::sndhwm, 100000);
  ASSERT_TRUE(security.Client(socket).ok());
  socket.connect(endpoint);
  for (const std::string& f : frames) socket.send(zmq::buffer(f), zmq::send_flags::dontwait);
  // Multipart: several parts where one is expected.
  socket.send(zmq::buffer(std::string("part one")), zmq::send_flags::sndmore | zmq::send_flags::dontwait);
  socket.send(zmq::buffer(std::string("part two")), zmq::send_flags::dontwait);
}

TEST(HostileInputTest, NoFrameSentToAnySocketTakesANodeDown) {
  auto created = ClusterHarness::Create(2);
  ASSERT_TRUE(created.ok()) << created.status().message();
  ClusterHarness& h = *created.value();
  ASSERT_TRUE(h.StartUp().ok());

  // Up and scoring first, so that every node has a pid to compare with.
  SyntheticTransactions generator(41, 1);
  std::vector<std::string> first;
  for (int i = 0; i < 500; ++i) first.push_back(generator.Next().json);
  ASSERT_TRUE(PushMessages(h.redis(), h.topology().queue.input, first).ok());
  ASSERT_TRUE(h.WaitForOutputs(500, std::chrono::seconds(60))) << h.LogTail("bridge");
  const std::vector<std::string> nodes = {"bridge", "ventilator", "sink", "worker-1", "worker-2"};
  std::map<std::string, pid_t> pids;
  for (const std::string& n : nodes) pids[n] = h.NodePid(n);

  const std::vector<std::string> frames = HostileFrames();
  const std::string oversized(kMaxFrameBytes + 1, 'x');
  zmq::context_t context;
  const Topology& t = h.topology();
  auto authorized = h.security();
  ASSERT_TRUE(authorized.ok()) << authorized.status().message();
  for (const LinkSecurity& security : {authorized.value(), LinkSecurity()}) {
    Barrage(context, security, zmq::socket_type::push, t.ventilator.intake.connect, frames);
    Barrage(context, security, zmq::socket_type::dealer, t.ventilator.workers.connect, frames);
    Barrage(context, security, zmq::socket_type::dealer, t.ventilator.heartbeat.connect, frames);
    Barrage(context, security, zmq::socket_type::dealer, t.ventilator.status.connect, frames);
    Barrage(context, security, zmq::socket_type::push, t.sink.results.connect, frames);
    Barrage(context, security, zmq::socket_type::push, t.sink.results.connect, {oversized});
    Barrage(context, security, zmq::socket_type::push, t.ventilator.intake.connect, {oversized});
  }

  // The cluster still scores, every transaction exactly once.
  std::vector<std::string> second;
  for (int i = 0; i < 2000; ++i) second.push_back(generator.Next().json);
  ASSERT_TRUE(PushMessages(h.redis(), t.queue.input, second).ok());
  ASSERT_TRUE(h.WaitForOutputs(2500, std::chrono::seconds(60)))
      << h.LogTail("ventilator") << h.LogTail("sink");
  EXPECT_EQ(h.Length(t.queue.output), 2500);
  EXPECT_EQ(h.Length(t.queue.dead_letter), 0) << "garbage never becomes a dead letter of a real lease";
  for (const std::string& n : nodes) EXPECT_EQ(h.NodePid(n), pids[n]) << n << " was restarted";

  // And says what it refused (the counters follow about once a second).
  auto refused = [&](int port, const char* sample) {
    double value = 0;
    WaitUntil(
        [&] {
          auto scraped = ScrapeMetrics("127.0.0.1", port);
          value = scraped.ok() ? SampleValue(scraped.value(), sample).value_or(0) : 0;
          return value > 0;
        },
        std::chrono::seconds(10), std::chrono::milliseconds(200));
    return value;
  };
  EXPECT_GT(refused(t.metrics.ventilator_port, "scorepipe_ventilator_frames_refused_total"), 0);
  EXPECT_GT(refused(t.metrics.sink_port, "scorepipe_sink_frames_refused_total"), 0);
}

}  // namespace
}  // namespace scorepipe::testing
