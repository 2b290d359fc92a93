// `scorepipe check` (a dry run over a topology and its files), `--version`
// and the exit codes of every program, run as a person runs them.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "cli/demo_command.h"
#include "config/topology.h"
#include "config/topology_writer.h"
#include "runtime/curve.h"
#include "tests/cli/command_test_fixture.h"

namespace scorepipe::testing {
namespace {

namespace fs = std::filesystem;

class CheckCommandTest : public CommandTest {
 protected:
  // The demo topology with CURVE on, its keys made in this test's folder:
  // the head's pair (named as this node's and as the server's) and one
  // authorized worker key.
  Topology CurveTopology() {
    Result<Topology> t = LoadTopologyFile(ClusterHarness::SourceDir() + "/config/local.yaml");
    EXPECT_TRUE(t.ok()) << t.status().message();
    Topology topology = t.value();
    fs::create_directories(File("keys/authorized"));
    EXPECT_TRUE(WriteKeyPair(File("keys/head"), NewCurveKeyPair().value()).ok());
    EXPECT_TRUE(WriteKeyPair(File("keys/authorized/worker-1"), NewCurveKeyPair().value()).ok());
    fs::remove(File("keys/authorized/worker-1.key_secret"));
    topology.security.mode = SecurityMode::kCurve;
    topology.security.secret_key = File("keys/head.key_secret");
    topology.security.server_key = File("keys/head.key");
    topology.security.authorized_keys = File("keys/authorized");
    return topology;
  }

  std::string WriteTopology(const Topology& topology, const std::string& name = "topology.yaml") {
    return Write(name, TopologyToYaml(topology));
  }

  // The 1-based line of the first line of `file` that starts (after
  // indentation) with `key_prefix`.
  static int LineOf(const std::string& file, const std::string& key_prefix) {
    std::ifstream in(file);
    int n = 0;
    for (std::string line; std::getline(in, line);) {
      ++n;
      const size_t first = line.find_first_not_of(' ');
      if (first != std::string::npos && line.compare(first, key_prefix.size(), key_prefix) == 0) return n;
    }
    return 0;
  }
};

TEST_F(CheckCommandTest, TheDemoTopologyIsFine) {
  std::string out;
  EXPECT_EQ(Scorepipe({"check", "-c", ClusterHarness::SourceDir() + "/config/local.yaml"}, &out), 0) << out;
  EXPECT_NE(out.find("ok for every role"), std::string::npos) << out;
  EXPECT_NE(out.find("security.mode is none"), std::string::npos) << out;
}

TEST_F(CheckCommandTest, ACurveTopologyWithItsKeysInPlaceIsFine) {
  const std::string path = WriteTopology(CurveTopology());
  std::string out;
  EXPECT_EQ(Scorepipe({"check", "-c", path}, &out), 0) << out;
  EXPECT_EQ(out, path + ": ok for every role (topology, key files, model)\n");
}

// Every problem at once, each at its key's line in the file.
TEST_F(CheckCommandTest, ListsEveryProblemAtItsTopologyKey) {
  Topology t = CurveTopology();
  fs::create_directories(File("a-folder"));
  t.model.path = File("a-folder");
  t.security.secret_key = File("keys/head.key");  // the public half
  t.security.server_key = File("keys/no-such.key");
  t.security.authorized_keys = File("keys/missing-folder");
  const std::string path = WriteTopology(t);
  std::string out;
  EXPECT_EQ(Scorepipe({"check", "-c", path}, &out), 1) << out;
  const auto expect_at = [&](const std::string& key, const std::string& leaf, const std::string& what) {
    const std::string place = path + ":" + std::to_string(LineOf(path, leaf + ":")) + ": " + key + ": ";
    EXPECT_NE(out.find(place), std::string::npos) << place << " in\n" << out;
    EXPECT_NE(out.find(what), std::string::npos) << what << " in\n" << out;
  };
  expect_at("model.path", "path", File("a-folder") + " is a directory, not a file");
  expect_at("security.secret_key", "secret_key",
            File("keys/head.key") + " is a public key file, not a secret one: name its secret half, " +
                File("keys/head.key_secret"));
  expect_at("security.server_key", "server_key", "cannot read key file " + File("keys/no-such.key"));
  expect_at("security.authorized_keys", "authorized_keys", File("keys/missing-folder") + " does not exist");
  EXPECT_NE(out.find("4 problems in " + path + " for every role"), std::string::npos) << out;
}

TEST_F(CheckCommandTest, KeyFilesThatDoNotHoldAPairOrAreOpenToOthersAreProblems) {
  Topology t = CurveTopology();
  // The public key beside the secret one is another pair's.
  ASSERT_TRUE(WriteKeyPair(File("keys/other"), NewCurveKeyPair().value()).ok());
  fs::copy_file(File("keys/other.key"), File("keys/head.key"), fs::copy_options::overwrite_existing);
  std::string out;
  EXPECT_EQ(Scorepipe({"check", "-c", WriteTopology(t)}, &out), 1) << out;
  EXPECT_NE(out.find("is not the public half of " + File("keys/head.key_secret")), std::string::npos) << out;

  ASSERT_EQ(::chmod(File("keys/other.key_secret").c_str(), 0644), 0);
  t.security.secret_key = File("keys/other.key_secret");
  t.security.server_key = File("keys/other.key");
  EXPECT_EQ(Scorepipe({"check", "-c", WriteTopology(t), "--role", "worker"}, &out), 1) << out;
  EXPECT_NE(out.find("security.secret_key: secret key file " + File("keys/other.key_secret") +
                     " is readable by others; chmod 600 it"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("1 problem in"), std::string::npos) << out;
}

// A worker host has no authorized-keys folder and need not; the head's
// own pair must be the server's.
TEST_F(CheckCommandTest, TheRoleSaysWhichFilesMatter) {
  Topology t = CurveTopology();
  ASSERT_TRUE(WriteKeyPair(File("keys/worker-host"), NewCurveKeyPair().value()).ok());
  t.security.secret_key = File("keys/worker-host.key_secret");
  t.security.authorized_keys = File("keys/not-on-this-host");
  const std::string path = WriteTopology(t);
  std::string out;
  EXPECT_EQ(Scorepipe({"check", "-c", path, "--role", "worker"}, &out), 0) << out;
  EXPECT_NE(out.find("ok for a worker"), std::string::npos) << out;
  EXPECT_EQ(Scorepipe({"check", "-c", path, "--role", "head"}, &out), 1) << out;
  EXPECT_NE(out.find("is not the one security.server_key names"), std::string::npos) << out;
  EXPECT_NE(out.find("not-on-this-host does not exist"), std::string::npos) << out;
}

TEST_F(CheckCommandTest, AModelThatDoesNotLoadIsAProblem) {
  Topology t = CurveTopology();
  t.model.path = Write("broken.json", "{\"learner\": [not a model");
  std::string out;
  EXPECT_EQ(Scorepipe({"check", "-c", WriteTopology(t)}, &out), 1) << out;
  EXPECT_NE(out.find("model.path: cannot load the model: "), std::string::npos) << out;
  EXPECT_NE(out.find("broken.json"), std::string::npos) << out;
  // Only the head runs here: the model is not its business.
  EXPECT_EQ(Scorepipe({"check", "-c", WriteTopology(t), "--role", "head"}, &out), 0) << out;
}

// The shipped example copied into another folder: its relative model paths
// now point nowhere, and check says where they start.
TEST_F(CheckCommandTest, ACopiedExampleSaysWhereItsRelativePathsStart) {
  const std::string copy = File("cluster.yaml");
  fs::copy_file(ClusterHarness::SourceDir() + "/config/cluster.example.yaml", copy);
  std::string out;
  EXPECT_EQ(Scorepipe({"check", "-c", copy, "--role", "worker"}, &out), 1) << out;
  const std::string folder = fs::path(copy).parent_path().string();
  for (const std::string key : {"path", "features"}) {
    const std::string file =
        (fs::path(folder).parent_path() / "models/demo" / (key == "path" ? "model.json" : "features.yaml"))
            .string();
    const std::string expected =
        copy + ":" + std::to_string(LineOf(copy, key + ":")) + ": model." + key + ": " + file +
        " does not exist (relative paths start at the topology file's folder, " + folder + ")";
    EXPECT_NE(out.find(expected), std::string::npos) << expected << " in\n" << out;
  }
}

TEST_F(CheckCommandTest, ATopologyThatDoesNotLoadIsOneProblem) {
  const std::string path = Write("bad.yaml", "queue: {kind: redis}\nnosuch: 1\n");
  std::string out;
  EXPECT_EQ(Scorepipe({"check", "-c", path}, &out), 1) << out;
  EXPECT_NE(out.find(path + ":2:1: nosuch: unknown key"), std::string::npos) << out;
  EXPECT_NE(out.find("1 problem: the topology does not load"), std::string::npos) << out;
}

// Usage errors exit 2 in every program; --help and --version exit 0.
TEST_F(CheckCommandTest, EveryProgramSaysItsVersionAndExitsTwoOnBadUsage) {
  std::string out;
  EXPECT_EQ(Scorepipe({"check"}, &out), 2) << out;
  EXPECT_EQ(Scorepipe({"check", "-c", "x", "--role", "nosuch"}, &out), 2) << out;
  EXPECT_EQ(Scorepipe({"nosuch"}, &out), 2) << out;
  EXPECT_EQ(Scorepipe({"--version"}, &out), 0) << out;
  const std::regex version(
      R"(scorepipe [0-9]+\.[0-9]+\.[0-9]+ \(commit ([0-9a-f]{12}(\+dirty)?|unknown), \w+\)\n)");
  EXPECT_TRUE(std::regex_match(out, version)) << out;
  for (const std::string program : {"bridge", "ventilator", "worker", "sink", "gateway", "train-demo"}) {
    SCOPED_TRACE(program);
    const std::string path = ClusterHarness::BinDir() + "/scorepipe-" + program;
    EXPECT_EQ(Run({path, "--version"}, &out), 0) << out;
    EXPECT_TRUE(
        std::regex_match(out, std::regex("scorepipe-" + program + R"( [0-9.]+ \(commit [^,]+, \w+\)\n)")))
        << out;
    EXPECT_EQ(Run({path, "--help"}, &out), 0) << out;
    EXPECT_EQ(Run({path, "--no-such-flag"}, &out), 2) << out;
    if (program != "train-demo") {
      EXPECT_EQ(Run({path}, &out), 2) << out;  // -c is required
    }
  }
  const std::string worker = ClusterHarness::BinDir() + "/scorepipe-worker";
  const std::string local = ClusterHarness::SourceDir() + "/config/local.yaml";
  for (const std::string slot : {"0", "65", "x"}) {
    EXPECT_EQ(Run({worker, "-c", local, "--slot", slot}, &out), 2) << slot << ": " << out;
  }
  // `scorepipe worker ...` runs the same program.
  EXPECT_EQ(Scorepipe({"worker", "--version"}, &out), 0) << out;
  EXPECT_EQ(out.rfind("scorepipe-worker ", 0), 0u) << out;
}

// --- A gateway host ---------------------------------------------------------

class GatewayCheckTest : public CheckCommandTest {
 protected:
  // The demo topology with the gateway on TLS, its certificate, key and
  // tokens made in this test's folder (`name`.crt, `name`.pem).
  Topology TlsTopology() {
    Result<Topology> t = LoadTopologyFile(ClusterHarness::SourceDir() + "/config/local.yaml");
    EXPECT_TRUE(t.ok()) << t.status().message();
    Topology topology = t.value();
    MakeCertificate("gw");
    GatewayConfig& g = topology.gateway;
    g.security = GatewaySecurity::kTls;
    g.tls_cert_file = File("gw.crt");
    g.tls_key_file = File("gw.pem");
    g.tokens_file = Write("tokens", "# callers\nsecret-one\n");
    return topology;
  }

  void MakeCertificate(const std::string& name) {
    std::string out;
    ASSERT_EQ(Run({"/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                   File(name + ".pem"), "-out", File(name + ".crt"), "-days", "1", "-subj", "/CN=127.0.0.1"},
                  &out),
              0)
        << out;
  }

  // `scorepipe check` of `t` for every role: what it printed, its exit code in *code.
  std::string CheckAll(const Topology& t, int* code) {
    std::string out;
    *code = Scorepipe({"check", "-c", WriteTopology(t)}, &out);
    return out;
  }
};

TEST_F(GatewayCheckTest, ATlsGatewayWithItsFilesInPlaceIsFine) {
  int code = 0;
  const std::string out = CheckAll(TlsTopology(), &code);
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("ok for every role"), std::string::npos) << out;
}

TEST_F(GatewayCheckTest, TlsWithoutItsFilesSaysWhichAreMissing) {
  Topology t = TlsTopology();
  t.gateway.tls_key_file.clear();
  t.gateway.tokens_file.clear();
  int code = 0;
  const std::string out = CheckAll(t, &code);
  EXPECT_EQ(code, 1) << out;
  EXPECT_NE(out.find(": gateway.security: tls needs gateway.tls_key_file, gateway.tokens_file (or "
                     "gateway.security: none, for a single-host demo)\n"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("1 problem in "), std::string::npos) << out;
}

TEST_F(GatewayCheckTest, ACertificateOrKeyThatCannotBeReadOrIsNotPemIsAProblemAtItsKey) {
  Topology t = TlsTopology();
  t.gateway.tls_cert_file = File("nowhere.crt");
  t.gateway.tls_key_file = Write("garbage.pem", "not a key\n");
  int code = 0;
  std::string out = CheckAll(t, &code);
  EXPECT_EQ(code, 1) << out;
  EXPECT_NE(
      out.find(": gateway.tls_cert_file: cannot read " + File("nowhere.crt") + ": No such file or directory"),
      std::string::npos)
      << out;
  EXPECT_NE(out.find(": gateway.tls_key_file: " + File("garbage.pem") + " holds no PEM private key"),
            std::string::npos)
      << out;

  t = TlsTopology();
  t.gateway.tls_cert_file = File("gw.pem");  // the key where the certificate belongs
  out = CheckAll(t, &code);
  EXPECT_EQ(code, 1) << out;
  EXPECT_NE(out.find(": gateway.tls_cert_file: " + File("gw.pem") + " holds no PEM certificate"),
            std::string::npos)
      << out;
}

TEST_F(GatewayCheckTest, AKeyThatIsNotTheCertificatesIsAProblem) {
  Topology t = TlsTopology();
  MakeCertificate("other");
  t.gateway.tls_key_file = File("other.pem");
  int code = 0;
  const std::string out = CheckAll(t, &code);
  EXPECT_EQ(code, 1) << out;
  EXPECT_NE(out.find(": gateway.tls_key_file: the key in " + File("other.pem") +
                     " is not the one of the certificate in " + File("gw.crt")),
            std::string::npos)
      << out;
}

TEST_F(GatewayCheckTest, AnExpiredCertificateIsAProblem) {
  Topology t = TlsTopology();
  // The same key, in a certificate whose time ran out yesterday.
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> key_file(std::fopen(File("gw.pem").c_str(), "r"),
                                                           &std::fclose);
  ASSERT_TRUE(key_file);
  EVP_PKEY* key = PEM_read_PrivateKey(key_file.get(), nullptr, nullptr, nullptr);
  ASSERT_NE(key, nullptr);
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 7);
  X509_gmtime_adj(X509_getm_notBefore(cert), -2 * 86400);
  X509_gmtime_adj(X509_getm_notAfter(cert), -86400);
  X509_set_pubkey(cert, key);
  X509_NAME_add_entry_by_txt(X509_get_subject_name(cert), "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("127.0.0.1"), -1, -1, 0);
  X509_set_issuer_name(cert, X509_get_subject_name(cert));
  ASSERT_GT(X509_sign(cert, key, EVP_sha256()), 0);
  {
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> out(std::fopen(File("expired.crt").c_str(), "w"),
                                                        &std::fclose);
    ASSERT_EQ(PEM_write_X509(out.get(), cert), 1);
  }
  X509_free(cert);
  EVP_PKEY_free(key);
  t.gateway.tls_cert_file = File("expired.crt");
  int code = 0;
  const std::string out = CheckAll(t, &code);
  EXPECT_EQ(code, 1) << out;
  EXPECT_NE(out.find(": gateway.tls_cert_file: the certificate in " + File("expired.crt") + " has expired"),
            std::string::npos)
      << out;
}

TEST_F(GatewayCheckTest, ATokensFileWithoutATokenOrAnAdminFileThatCannotBeReadIsAProblem) {
  Topology t = TlsTopology();
  t.gateway.tokens_file = Write("empty-tokens", "# none yet\n\n");
  t.gateway.admin_tokens_file = File("no-admins");
  int code = 0;
  const std::string out = CheckAll(t, &code);
  EXPECT_EQ(code, 1) << out;
  EXPECT_NE(out.find(": gateway.tokens_file: the token file " + File("empty-tokens") + " holds no token"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find(": gateway.admin_tokens_file: cannot read the admin token file " + File("no-admins")),
            std::string::npos)
      << out;
  // An admin file read as the gateway reads it, and only with a registry.
  t.gateway.admin_tokens_file = Write("bad-admins", "ana tok extra\n");
  const std::string bad = CheckAll(t, &code);
  EXPECT_NE(bad.find(File("bad-admins") + ":1: expected \"<token>\" or \"<name> <token>\""),
            std::string::npos)
      << bad;
  EXPECT_NE(bad.find("model administration works on a registry, and model.registry is not set"),
            std::string::npos)
      << bad;
}

// The gateway's files matter to a gateway host (and to `all`), not to a
// head or a worker host.
TEST_F(GatewayCheckTest, OnlyAGatewayHostLooksAtTheGatewaysFiles) {
  Topology t = TlsTopology();
  t.gateway.tokens_file = File("nowhere");
  const std::string path = WriteTopology(t);
  std::string out;
  EXPECT_EQ(Scorepipe({"check", "-c", path, "--role", "head"}, &out), 0) << out;
  EXPECT_EQ(Scorepipe({"check", "-c", path, "--role", "worker"}, &out), 0) << out;
  EXPECT_EQ(Scorepipe({"check", "-c", path, "--role", "gateway"}, &out), 1) << out;
  EXPECT_NE(out.find(": gateway.tokens_file: cannot read the token file"), std::string::npos) << out;
  EXPECT_NE(out.find("for a gateway"), std::string::npos) << out;
}

// A gateway host's head runs elsewhere and must answer now; its port must
// be free. Here no ventilator runs and something holds the port.
TEST_F(GatewayCheckTest, AGatewayHostProbesItsPortAndTheHead) {
  Topology t = TlsTopology();
  const int holder = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(holder, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(holder, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(::listen(holder, 1), 0);
  socklen_t size = sizeof address;
  ASSERT_EQ(::getsockname(holder, reinterpret_cast<sockaddr*>(&address), &size), 0);
  t.gateway.address = "127.0.0.1";
  t.gateway.port = ntohs(address.sin_port);
  t.ventilator.gateways.bind = "ipc://" + File("no-ventilator.ipc");
  t.ventilator.gateways.connect = t.ventilator.gateways.bind;
  std::string out;
  EXPECT_EQ(Scorepipe({"check", "-c", WriteTopology(t), "--role", "gateway"}, &out), 1) << out;
  ::close(holder);
  EXPECT_NE(out.find(": gateway.port: cannot bind 127.0.0.1:" + std::to_string(t.gateway.port) +
                     ": Address already in use"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find(": ventilator.gateway_connect: the ventilator at ipc://" + File("no-ventilator.ipc") +
                     " did not answer a gateway's heartbeat within 2000 ms"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("2 problems in "), std::string::npos) << out;
}

// `scorepipe demo` outside the repository finds the topology of the source
// tree it was built from, or says where it looked and what to give.
TEST_F(CheckCommandTest, TheDemoFindsItsTopologyOrSaysHow) {
  Result<std::string> found = FindDemoTopology(ClusterHarness::BinDir());
  ASSERT_TRUE(found.ok()) << found.status().message();
  if (!fs::exists("config/local.yaml")) {  // not run from the repository itself
    EXPECT_EQ(found.value(),
              fs::weakly_canonical(ClusterHarness::SourceDir() + "/config/local.yaml").string());
  }
  if (fs::exists("/usr/share/scorepipe/config/local.yaml")) GTEST_SKIP() << "an installed package answers";
  Result<std::string> lost = FindDemoTopology(File("no/bin"));
  if (fs::exists("config/local.yaml")) return;
  ASSERT_FALSE(lost.ok());
  EXPECT_NE(lost.status().message().find("no topology to start from (looked for config/local.yaml, " +
                                         File("config/local.yaml")),
            std::string::npos)
      << lost.status().message();
  EXPECT_NE(lost.status().message().find("give -c FILE"), std::string::npos) << lost.status().message();
}

}  // namespace
}  // namespace scorepipe::testing
