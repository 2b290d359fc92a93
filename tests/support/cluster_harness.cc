#include "tests/support/cluster_harness.h"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "cli/demo.h"
#include "config/topology_writer.h"

namespace scorepipe::testing {
namespace fs = std::filesystem;

std::string ClusterHarness::BinDir() { return SCOREPIPE_BIN_DIR; }
std::string ClusterHarness::SourceDir() { return SCOREPIPE_SOURCE_DIR; }

Result<std::unique_ptr<ClusterHarness>> ClusterHarness::Create(int workers) {
  std::unique_ptr<ClusterHarness> h(new ClusterHarness());
  std::string pattern = (fs::temp_directory_path() / "scorepipe-test-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) return Status::Error("mkdtemp failed");
  h->dir_ = pattern;
  fs::create_directories(h->dir_ / "logs");

  LocalRedisOptions options;
  options.dir = h->dir_.string();
  auto server = LocalRedis::Start(options);
  if (!server.ok()) return server.status();
  h->redis_server_ = std::move(server.value());

  auto loaded = LoadTopologyFile(SourceDir() + "/config/local.yaml");
  if (!loaded.ok()) return loaded.status();
  h->topology_ = PrivateTopology(loaded.value(), h->redis_server_->port(), h->dir_.string());
  h->topology_.workers.count = workers;
  h->redis_ = std::make_unique<RedisClient>(h->topology_.queue.redis);
  return h;
}

ClusterHarness::~ClusterHarness() {
  if (up_) up_->Stop(std::chrono::seconds(30));
  redis_.reset();
  redis_server_.reset();
  if (std::getenv("SCOREPIPE_KEEP_TEST_DIRS") == nullptr) {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }
}

Status ClusterHarness::WriteTopology() {
  std::ofstream out(topology_path());
  out << TopologyToYaml(topology_);
  return out ? Status::Ok() : Status::Error("cannot write " + topology_path());
}

Status ClusterHarness::StartUp() {
  if (Status s = WriteTopology(); !s.ok()) return s;
  auto up = ChildProcess::Start({BinDir() + "/scorepipe", "up", "-c", topology_path(), "--log-dir",
                                 (dir_ / "logs").string()},
                                (dir_ / "logs" / "up.log").string());
  if (!up.ok()) return up.status();
  up_.emplace(std::move(up.value()));
  return Status::Ok();
}

Result<ChildProcess> ClusterHarness::StartRole(const std::string& role, const std::vector<std::string>& extra_args,
                                               const std::string& log_name) {
  if (Status s = WriteTopology(); !s.ok()) return s;
  std::vector<std::string> argv = {BinDir() + "/scorepipe-" + role, "-c", topology_path()};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  return ChildProcess::Start(argv, (dir_ / "logs" / (log_name + ".log")).string());
}

long long ClusterHarness::Length(const std::string& list) {
  auto reply = redis_->Command({"LLEN", list});
  return reply.ok() ? reply.value()->integer : -1;
}

std::vector<std::string> ClusterHarness::Entries(const std::string& list) {
  std::vector<std::string> out;
  auto reply = redis_->Command({"LRANGE", list, "0", "-1"});
  if (!reply.ok()) return out;
  for (size_t i = reply.value()->elements; i-- > 0;) out.emplace_back(ReplyText(reply.value()->element[i]));
  return out;
}

bool ClusterHarness::WaitForOutputs(long long n, std::chrono::seconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    if (Length(topology_.queue.output) + Length(topology_.queue.dead_letter) >= n) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

std::string ClusterHarness::ReadLog(const std::string& name) const {
  std::ifstream in(dir_ / "logs" / (name + ".log"));
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace scorepipe::testing
