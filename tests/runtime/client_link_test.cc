// ClientLink: a client socket that recovers from a refused handshake. A
// worker key authorized on the head after the worker started must work
// without a restart, which a plain ZeroMQ socket never does (it drops a
// refused connection for good: the control case below shows it).
#include "runtime/client_link.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "tests/support/temp_dir.h"

namespace scorepipe {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using LinkState = ClientLink::LinkState;

constexpr auto kWait = std::chrono::seconds(10);

class ClientLinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(dir_.ok());
    Result<CurveKeyPair> head = NewCurveKeyPair();
    Result<CurveKeyPair> worker = NewCurveKeyPair();
    ASSERT_TRUE(head.ok() && worker.ok());
    head_ = head.value();
    worker_ = worker.value();
    ASSERT_TRUE(WriteKeyPair(Path("head"), head_).ok());
    ASSERT_TRUE(WriteKeyPair(Path("worker"), worker_).ok());
    fs::create_directories(Path("authorized"));
  }

  std::string Path(const std::string& name) const { return (dir_.path() / name).string(); }

  SecurityConfig Curve(const std::string& own, const std::string& server) const {
    SecurityConfig config;
    config.mode = SecurityMode::kCurve;
    config.secret_key = Path(own) + std::string(kSecretKeySuffix);
    config.server_key = Path(server) + std::string(kPublicKeySuffix);
    config.authorized_keys = Path("authorized");
    return config;
  }

  void Authorize(const CurveKeyPair& pair) {
    std::ofstream(Path("authorized/late.key")) << pair.public_key << "\n";
  }

  // A head's PULL socket behind its ZAP handler, on a free port.
  struct Head {
    explicit Head(ClientLinkTest& t) {
      security = LoadServerSecurity(t.Curve("head", "head"), context, &zap);
      if (!security.ok()) return;
      pull.set(zmq::sockopt::linger, 0);
      if (security->BindAsServer(pull, "tcp://127.0.0.1:*").ok())
        endpoint = pull.get(zmq::sockopt::last_endpoint);
    }
    zmq::context_t context;
    std::unique_ptr<ZapAuthenticator> zap;
    Result<LinkSecurity> security = Status::Error("not loaded");
    zmq::socket_t pull{context, zmq::socket_type::pull};
    std::string endpoint;
  };

  // Tends `link` until it reaches `state` or kWait passes.
  static bool Reaches(ClientLink& link, LinkState state) {
    const auto until = Clock::now() + kWait;
    while (Clock::now() < until) {
      link.Tend();
      if (link.State() == state) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

  static bool Arrives(zmq::socket_t& pull, const std::string& text, std::chrono::milliseconds within) {
    zmq::pollitem_t item{pull.handle(), 0, ZMQ_POLLIN, 0};
    zmq::poll(&item, 1, within);
    zmq::message_t got;
    return pull.recv(got, zmq::recv_flags::dontwait) && got.to_string() == text;
  }

  static ClientLink::Setup Push() {
    return [](zmq::socket_t& s) { s.set(zmq::sockopt::linger, 0); };
  }

  scorepipe::testing::TempDir dir_{"scorepipe-client-link"};
  CurveKeyPair head_;
  CurveKeyPair worker_;
};

TEST_F(ClientLinkTest, APlainLinkComesUpAndCarriesFrames) {
  zmq::context_t context;
  zmq::socket_t pull(context, zmq::socket_type::pull);
  pull.set(zmq::sockopt::linger, 0);
  pull.bind("tcp://127.0.0.1:*");
  LinkSecurity plain;
  ClientLink link(context, zmq::socket_type::push, plain, pull.get(zmq::sockopt::last_endpoint), "the sink",
                  Push());
  ASSERT_TRUE(link.Open().ok());
  ASSERT_TRUE(Reaches(link, LinkState::kUp));
  link.socket().send(zmq::buffer(std::string("result")), zmq::send_flags::dontwait);
  EXPECT_TRUE(Arrives(pull, "result", kWait));
  EXPECT_EQ(link.Failure(), std::nullopt);
}

TEST_F(ClientLinkTest, AServerThatIsNotUpYetLeavesTheLinkConnectingNotRefused) {
  zmq::context_t context;
  LinkSecurity plain;
  ClientLink link(context, zmq::socket_type::push, plain, "tcp://127.0.0.1:1", "the sink", Push());
  ASSERT_TRUE(link.Open().ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  link.Tend();
  EXPECT_EQ(link.State(), LinkState::kConnecting);
  EXPECT_EQ(link.rebuilds(), 0u);
}

TEST_F(ClientLinkTest, AKeyAuthorizedAfterTheClientStartedWorksWithoutARestart) {
  Head head(*this);
  ASSERT_TRUE(head.security.ok()) << head.security.status().message();
  ASSERT_FALSE(head.endpoint.empty());
  Result<LinkSecurity> security = LinkSecurity::Load(Curve("worker", "head"));
  ASSERT_TRUE(security.ok()) << security.status().message();

  ClientLink link(head.context, zmq::socket_type::push, security.value(), head.endpoint, "the sink", Push());
  ASSERT_TRUE(link.Open().ok());
  // The control: a plain ZeroMQ socket refused the same way.
  zmq::socket_t control(head.context, zmq::socket_type::push);
  control.set(zmq::sockopt::linger, 0);
  ASSERT_TRUE(security->ConnectAsClient(control, head.endpoint).ok());
  ASSERT_TRUE(Reaches(link, LinkState::kRefused));
  EXPECT_NE(link.Failure().value_or("").find("refused this host's CURVE key " + worker_.public_key),
            std::string::npos)
      << link.Failure().value_or("");
  EXPECT_NE(LinkProblem(link).find("the sink: "), std::string::npos);

  Authorize(worker_);
  control.send(zmq::buffer(std::string("control")), zmq::send_flags::dontwait);
  ASSERT_TRUE(Reaches(link, LinkState::kUp)) << LinkProblem(link);
  EXPECT_GE(link.rebuilds(), 1u);
  EXPECT_EQ(LinkProblem(link), "");
  link.socket().send(zmq::buffer(std::string("result")), zmq::send_flags::dontwait);
  EXPECT_TRUE(Arrives(head.pull, "result", kWait));
  // The plain socket never connects again: its frame never comes.
  EXPECT_FALSE(Arrives(head.pull, "control", std::chrono::milliseconds(1500)));
}

TEST_F(ClientLinkTest, AWrongServerKeyIsRefusedAndSaysSo) {
  Head head(*this);
  ASSERT_TRUE(head.security.ok()) << head.security.status().message();
  Authorize(worker_);
  // The worker pins its own key as the server's: not the head's.
  Result<LinkSecurity> security = LinkSecurity::Load(Curve("worker", "worker"));
  ASSERT_TRUE(security.ok()) << security.status().message();
  ClientLink link(head.context, zmq::socket_type::push, security.value(), head.endpoint, "the sink", Push());
  ASSERT_TRUE(link.Open().ok());
  ASSERT_TRUE(Reaches(link, LinkState::kRefused));
  EXPECT_NE(LinkProblem(link).find("does not hold the secret half"), std::string::npos) << LinkProblem(link);
  // It keeps trying (a new socket after each back-off) and stays refused.
  const auto until = Clock::now() + std::chrono::milliseconds(1500);
  while (Clock::now() < until) {
    link.Tend();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_GE(link.rebuilds(), 1u);
  EXPECT_NE(link.State(), LinkState::kUp);
}

}  // namespace
}  // namespace scorepipe
