// ZeroMQ CURVE between nodes: key files, and real sockets over tcp with the
// ZAP authenticator: a listed client gets through, an unknown one and a
// client that pins the wrong server key get nothing.
#include "runtime/curve.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <thread>
#include <vector>

#include "durable/fault_hook.h"
#include "runtime/node.h"

namespace scorepipe {
namespace {

namespace fs = std::filesystem;
constexpr int kArrivesMs = 3000;  // generous: the machine may be loaded
constexpr int kQuietMs = 500;

class CurveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/scorepipe-curve-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
    fs::create_directories(dir_ / "authorized");
    auto server = NewCurveKeyPair();
    auto client = NewCurveKeyPair();
    ASSERT_TRUE(server.ok() && client.ok());
    server_ = server.value();
    client_ = client.value();
  }
  void TearDown() override { fs::remove_all(dir_); }

  void Authorize(const CurveKeyPair& pair, const std::string& name) {
    std::ofstream(dir_ / "authorized" / (name + ".key")) << pair.public_key << "\n";
  }

  // A CURVE server PULL on tcp://127.0.0.1:<free port>; returns its endpoint.
  std::string BindServer(zmq::socket_t& pull) {
    EXPECT_TRUE(MakeCurveServer(pull, server_).ok());
    pull.set(zmq::sockopt::linger, 0);
    pull.bind("tcp://127.0.0.1:*");
    return pull.get(zmq::sockopt::last_endpoint);
  }

  // Whether a message sent by a client with `own` keys that pins
  // `server_public` arrives at the server.
  bool Arrives(zmq::context_t& context, zmq::socket_t& pull, const std::string& endpoint,
               const CurveKeyPair& own, const std::string& server_public, int wait_ms) {
    zmq::socket_t push(context, zmq::socket_type::push);
    push.set(zmq::sockopt::linger, 0);
    EXPECT_TRUE(MakeCurveClient(push, own, server_public).ok());
    push.connect(endpoint);
    push.send(zmq::buffer(std::string("card 4111")), zmq::send_flags::dontwait);
    return ReceiveFor(pull, wait_ms).has_value();
  }

  // A context with the authenticator (client_ authorized) and a CURVE server PULL.
  struct Server {
    explicit Server(CurveTest& test)
        : auth((test.Authorize(test.client_, "worker-host-1"),
                ZapAuthenticator::Start(context, (test.dir_ / "authorized").string()))),
          pull(context, zmq::socket_type::pull),
          endpoint(test.BindServer(pull)) {}
    ~Server() {
      pull.close();
      if (auth.ok()) auth.value().reset();
    }
    zmq::context_t context;
    Result<std::unique_ptr<ZapAuthenticator>> auth;
    zmq::socket_t pull;
    std::string endpoint;
  };

  fs::path dir_;
  CurveKeyPair server_;
  CurveKeyPair client_;
};

TEST_F(CurveTest, KeygenWritesAPairWithTheSecretForTheOwnerOnlyAndNeverOverwrites) {
  const std::string prefix = (dir_ / "node").string();
  ASSERT_TRUE(WriteKeyPair(prefix, client_).ok());
  struct stat info {};
  ASSERT_EQ(stat((prefix + ".key_secret").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  Result<CurveKeyPair> read = ReadKeyPair(prefix + ".key_secret");
  ASSERT_TRUE(read.ok()) << read.status().message();
  EXPECT_EQ(read->public_key, client_.public_key);
  EXPECT_EQ(read->secret_key, client_.secret_key);

  Status again = WriteKeyPair(prefix, server_);
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.message().find("refusing to overwrite"), std::string::npos) << again.message();
  EXPECT_EQ(ReadKeyPair(prefix + ".key_secret")->secret_key, client_.secret_key) << "untouched";
}

TEST_F(CurveTest, KeygenSyncsBothFilesAndThenTheirFolder) {
  static std::vector<FileStep> steps;
  steps.clear();
  SetFaultHook([](FileStep step, size_t*) {
    if (step == FileStep::kSyncFile || step == FileStep::kSyncDir) steps.push_back(step);
    return 0;
  });
  const Status written = WriteKeyPair((dir_ / "node").string(), client_);
  SetFaultHook(nullptr);
  ASSERT_TRUE(written.ok()) << written.message();
  ASSERT_FALSE(steps.empty());
  EXPECT_EQ(steps.back(), FileStep::kSyncDir) << "the folder is synced after the files";
  EXPECT_EQ(std::count(steps.begin(), steps.end(), FileStep::kSyncFile), 2);
}

TEST_F(CurveTest, AFolderThatCannotBeSyncedFailsKeygen) {
  SetFaultHook([](FileStep step, size_t*) { return step == FileStep::kSyncDir ? EIO : 0; });
  const Status written = WriteKeyPair((dir_ / "node").string(), client_);
  SetFaultHook(nullptr);
  EXPECT_FALSE(written.ok());
}

TEST_F(CurveTest, ASecretOthersCanReadAndAFileWithoutAKeyAreRefused) {
  const std::string prefix = (dir_ / "node").string();
  ASSERT_TRUE(WriteKeyPair(prefix, client_).ok());
  chmod((prefix + ".key_secret").c_str(), 0644);
  Result<CurveKeyPair> open = ReadKeyPair(prefix + ".key_secret");
  ASSERT_FALSE(open.ok());
  EXPECT_NE(open.status().message().find("chmod 600"), std::string::npos) << open.status().message();
  std::ofstream(dir_ / "bad.key") << "not a key\n";
  Result<std::string> bad = ReadKeyFile((dir_ / "bad.key").string());
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("40 Z85 characters"), std::string::npos) << bad.status().message();
}

TEST_F(CurveTest, AnAuthorizedClientGetsThroughAndAnUnknownOneGetsNothing) {
  Server server(*this);
  ASSERT_TRUE(server.auth.ok()) << server.auth.status().message();

  EXPECT_TRUE(Arrives(server.context, server.pull, server.endpoint, client_, server_.public_key, kArrivesMs));
  EXPECT_GE(server.auth.value()->accepted(), 1u);

  auto stranger = NewCurveKeyPair();
  ASSERT_TRUE(stranger.ok());
  EXPECT_FALSE(
      Arrives(server.context, server.pull, server.endpoint, stranger.value(), server_.public_key, kQuietMs));
  EXPECT_GE(server.auth.value()->refused(), 1u);

  // Its key added to the folder, the same client gets in on its next connection: no restart.
  Authorize(stranger.value(), "worker-host-2");
  EXPECT_TRUE(Arrives(server.context, server.pull, server.endpoint, stranger.value(), server_.public_key,
                      kArrivesMs));
}

TEST_F(CurveTest, AClientPinningAnotherServerKeyDoesNotConnect) {
  Server server(*this);
  ASSERT_TRUE(server.auth.ok()) << server.auth.status().message();
  auto impostor = NewCurveKeyPair();
  ASSERT_TRUE(impostor.ok());
  EXPECT_FALSE(
      Arrives(server.context, server.pull, server.endpoint, client_, impostor->public_key, kQuietMs));
  EXPECT_EQ(server.auth.value()->accepted(), 0u);
}

// What a client's HandshakeWatch says after trying `server_public` with `own`.
std::optional<std::string> WatchedFailure(zmq::context_t& context, const std::string& endpoint,
                                          const CurveKeyPair& own, const std::string& server_public) {
  zmq::socket_t push(context, zmq::socket_type::push);
  push.set(zmq::sockopt::linger, 0);
  EXPECT_TRUE(MakeCurveClient(push, own, server_public).ok());
  std::optional<std::string> failure;
  {
    HandshakeWatch watch;
    EXPECT_TRUE(watch.Watch(push, "the test server", own.public_key).ok());
    push.connect(endpoint);
    push.send(zmq::buffer(std::string("card 4111")), zmq::send_flags::dontwait);
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(kArrivesMs);
    while (!(failure = watch.Failure()) && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  return failure;
}

TEST_F(CurveTest, AHandshakeWatchTellsARefusedKeyFromAWrongServerKey) {
  Server server(*this);
  ASSERT_TRUE(server.auth.ok()) << server.auth.status().message();
  EXPECT_EQ(WatchedFailure(server.context, server.endpoint, client_, server_.public_key), std::nullopt);

  auto stranger = NewCurveKeyPair();
  ASSERT_TRUE(stranger.ok());
  const auto refused = WatchedFailure(server.context, server.endpoint, stranger.value(), server_.public_key);
  ASSERT_TRUE(refused.has_value());
  EXPECT_NE(refused->find("the test server at " + server.endpoint + " refused this host's CURVE key " +
                          stranger->public_key + " (status 400)"),
            std::string::npos)
      << *refused;

  const auto misled = WatchedFailure(server.context, server.endpoint, client_, stranger->public_key);
  ASSERT_TRUE(misled.has_value());
  EXPECT_NE(misled->find("broke off: the server there does not hold the secret half"), std::string::npos)
      << *misled;
}

TEST_F(CurveTest, AMissingAuthorizedFolderIsAnError) {
  zmq::context_t context;
  auto auth = ZapAuthenticator::Start(context, (dir_ / "nowhere").string());
  ASSERT_FALSE(auth.ok());
  EXPECT_NE(auth.status().message().find("nowhere"), std::string::npos);
}

}  // namespace
}  // namespace scorepipe
