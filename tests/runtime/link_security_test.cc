// LinkSecurity's node-facing helpers: a server node's start (keys and the ZAP
// handler), and securing then binding or connecting one socket, with errors
// that name the endpoint or the key file. (The CURVE handshakes themselves
// are tested in tests/runtime/curve_test.cc and across whole clusters.)
#include "runtime/link_security.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "tests/support/temp_dir.h"

namespace scorepipe {
namespace {

namespace fs = std::filesystem;

class LinkSecurityTest : public ::testing::Test {
 protected:
  // A head's key pair, which is also the server key, and an empty authorized folder.
  void SetUp() override {
    ASSERT_TRUE(dir_.ok());
    Result<CurveKeyPair> pair = NewCurveKeyPair();
    ASSERT_TRUE(pair.ok()) << pair.status().message();
    ASSERT_TRUE(WriteKeyPair(prefix_, pair.value()).ok());
    fs::create_directories(dir_.path() / "authorized");
  }

  // The head's curve section.
  SecurityConfig Curve() const {
    SecurityConfig config;
    config.mode = SecurityMode::kCurve;
    config.secret_key = prefix_ + std::string(kSecretKeySuffix);
    config.server_key = prefix_ + std::string(kPublicKeySuffix);
    config.authorized_keys = (dir_.path() / "authorized").string();
    return config;
  }

  scorepipe::testing::TempDir dir_{"scorepipe-link-security"};
  const std::string prefix_ = (dir_.path() / "head").string();
  zmq::context_t context_;
};

TEST_F(LinkSecurityTest, APlainServerNodeHasNoZapHandler) {
  std::unique_ptr<ZapAuthenticator> zap;
  Result<LinkSecurity> security = LoadServerSecurity(SecurityConfig{}, context_, &zap);
  ASSERT_TRUE(security.ok()) << security.status().message();
  EXPECT_FALSE(security->curve());
  EXPECT_EQ(zap, nullptr);
}

TEST_F(LinkSecurityTest, ACurveServerNodeKeepsItsZapHandlerAndServesItsSockets) {
  std::unique_ptr<ZapAuthenticator> zap;
  Result<LinkSecurity> security = LoadServerSecurity(Curve(), context_, &zap);
  ASSERT_TRUE(security.ok()) << security.status().message();
  EXPECT_TRUE(security->curve());
  EXPECT_NE(zap, nullptr);
  const std::string endpoint = "ipc://" + (dir_.path() / "s.ipc").string();
  zmq::socket_t server(context_, zmq::socket_type::rep);
  ASSERT_TRUE(security->BindAsServer(server, endpoint).ok());
  EXPECT_EQ(server.get(zmq::sockopt::curve_server), 1);
  zmq::socket_t client(context_, zmq::socket_type::req);
  client.set(zmq::sockopt::linger, 0);
  ASSERT_TRUE(security->ConnectAsClient(client, endpoint).ok());
  EXPECT_EQ(client.get(zmq::sockopt::curve_serverkey, 41), security->public_key());
}

TEST_F(LinkSecurityTest, ErrorsNameTheEndpointOrTheKeyFile) {
  zmq::socket_t socket(context_, zmq::socket_type::pull);
  Status bound = LinkSecurity().BindAsServer(socket, "tcp://nowhere:notaport");
  ASSERT_FALSE(bound.ok());
  EXPECT_NE(bound.message().find("tcp://nowhere:notaport"), std::string::npos) << bound.message();

  SecurityConfig missing = Curve();
  missing.secret_key = (dir_.path() / "absent.key_secret").string();
  std::unique_ptr<ZapAuthenticator> zap;
  Result<LinkSecurity> security = LoadServerSecurity(missing, context_, &zap);
  ASSERT_FALSE(security.ok());
  EXPECT_NE(security.status().message().find("security.secret_key"), std::string::npos)
      << security.status().message();
  EXPECT_EQ(zap, nullptr);
}

}  // namespace
}  // namespace scorepipe
