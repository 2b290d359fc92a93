// `scorepipe keygen` as a person runs it: a key pair the nodes can read, and
// never an overwritten one.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "local_cluster/child_process.h"
#include "runtime/curve.h"
#include "tests/support/cluster_harness.h"
#include "tests/support/run_command.h"

namespace scorepipe {
namespace {

namespace fs = std::filesystem;
using testing::ClusterHarness;

int RunScorepipe(const std::vector<std::string>& args, const std::string& log, std::string* out) {
  std::vector<std::string> argv = {ClusterHarness::BinDir() + "/scorepipe"};
  argv.insert(argv.end(), args.begin(), args.end());
  return testing::RunCommand(argv, log, out);
}

TEST(KeygenCommandTest, WritesAReadablePairOnceAndRefusesToOverwrite) {
  char dir[] = "/tmp/scorepipe-keygen-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string prefix = std::string(dir) + "/worker-host-1";
  std::string out;
  ASSERT_EQ(RunScorepipe({"keygen", prefix}, std::string(dir) + "/1.log", &out), 0) << out;
  Result<CurveKeyPair> pair = ReadKeyPair(prefix + ".key_secret");
  ASSERT_TRUE(pair.ok()) << pair.status().message();
  EXPECT_NE(out.find(pair->public_key), std::string::npos) << out;
  EXPECT_EQ(out.find(pair->secret_key), std::string::npos) << "the secret is never printed";

  EXPECT_EQ(RunScorepipe({"keygen", prefix}, std::string(dir) + "/2.log", &out), 1);
  EXPECT_NE(out.find("refusing to overwrite"), std::string::npos) << out;
  EXPECT_EQ(ReadKeyPair(prefix + ".key_secret")->secret_key, pair->secret_key);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace scorepipe
