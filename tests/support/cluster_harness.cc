#include "tests/support/cluster_harness.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "config/topology_writer.h"
#include "local_cluster/private_topology.h"
#include "tests/support/result_check.h"
#include "tests/support/wait.h"

namespace scorepipe::testing {
namespace fs = std::filesystem;

std::string ClusterHarness::BinDir() { return SCOREPIPE_BIN_DIR; }
std::string ClusterHarness::SourceDir() { return SCOREPIPE_SOURCE_DIR; }

Result<std::unique_ptr<ClusterHarness>> ClusterHarness::Create(int workers) {
  ClusterOptions options;
  options.workers = workers;
  return Create(options);
}

Result<std::unique_ptr<ClusterHarness>> ClusterHarness::Create(const ClusterOptions& options) {
  std::unique_ptr<ClusterHarness> h(new ClusterHarness());
  std::string pattern = (fs::temp_directory_path() / "scorepipe-test-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) return Status::Error("mkdtemp failed");
  h->dir_ = pattern;
  fs::create_directories(h->dir_ / "logs");

  auto loaded = LoadTopologyFile(SourceDir() + "/config/local.yaml");
  if (!loaded.ok()) return loaded.status();
  if (options.queue_kind == QueueKind::kHttpMq) {
    HttpMqStandInOptions stand_in;
    // The service's own two queues and the shadow queue (made with POST
    // /create); it has no dead-letter queue: dead letters go to the journal.
    stand_in.queues = {loaded->queue.input, loaded->queue.output, loaded->queue.shadow};
    stand_in.pull_wait = options.http_pull_wait;
    auto started = HttpMqStandIn::Start(stand_in);
    if (!started.ok()) return started.status();
    h->stand_in_ = std::move(started.value());
    h->topology_ = PrivateTopology(loaded.value(), loaded->queue.redis.port, h->dir_.string());
    QueueConfig& queue = h->topology_.queue;
    queue.url = h->stand_in_->url();
    queue.journal_dir = (h->dir_ / "journal").string();
    queue.pull_wait_ms = static_cast<int>(options.http_pull_wait.count());
  } else {
    h->redis_options_.dir = h->dir_.string();
    h->redis_options_.append_only = options.append_only;
    h->redis_options_.password = options.redis_password;
    auto server = LocalRedis::Start(h->redis_options_);
    if (!server.ok()) return server.status();
    h->redis_server_ = std::move(server.value());
    h->redis_options_.port = h->redis_server_->port();  // a restart comes back on the same port
    h->topology_ = PrivateTopology(loaded.value(), h->redis_server_->port(), h->dir_.string());
    h->topology_.queue.redis.password_file = h->redis_server_->password_file();
    h->redis_ = std::make_unique<RedisClient>(h->topology_.queue.redis);
  }
  h->topology_.workers.count = options.workers;
  h->topology_.queue.kind = options.queue_kind;
  if (options.security == SecurityMode::kCurve) {
    Result<SecurityConfig> curve = SingleHostCurve(h->dir_.string());
    if (!curve.ok()) return curve.status();
    h->topology_.security = curve.value();
  }
  return h;
}

ClusterHarness::~ClusterHarness() {
  if (up_) up_->Stop(std::chrono::seconds(30));
  redis_.reset();
  redis_server_.reset();
  stand_in_.reset();
  if (std::getenv("SCOREPIPE_KEEP_TEST_DIRS") == nullptr) {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }
}

Result<LinkSecurity> ClusterHarness::security() const { return LinkSecurity::Load(topology_.security); }

Status ClusterHarness::WriteTopology() {
  std::ofstream out(topology_path());
  out << TopologyToYaml(topology_);
  return out ? Status::Ok() : Status::Error("cannot write " + topology_path());
}

Status ClusterHarness::StartUp() {
  if (up_ && up_->Running()) return Status::Error("scorepipe up is still running");
  if (Status s = WriteTopology(); !s.ok()) return s;
  auto up = ChildProcess::Start(
      {BinDir() + "/scorepipe", "up", "-c", topology_path(), "--log-dir", (dir_ / "logs").string()},
      (dir_ / "logs" / "up.log").string());
  if (!up.ok()) return up.status();
  up_.emplace(std::move(up.value()));
  return Status::Ok();
}

std::vector<std::string> ClusterHarness::RoleArgv(const std::string& role,
                                                  const std::vector<std::string>& extra_args) const {
  std::vector<std::string> argv = {BinDir() + "/scorepipe-" + role, "-c", topology_path()};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  return argv;
}

Result<ChildProcess> ClusterHarness::StartRole(const std::string& role,
                                               const std::vector<std::string>& extra_args,
                                               const std::string& log_name) {
  if (Status s = WriteTopology(); !s.ok()) return s;
  return ChildProcess::Start(RoleArgv(role, extra_args), (dir_ / "logs" / (log_name + ".log")).string());
}

Status ClusterHarness::UseTcpEndpoints(const std::string& address) {
  auto tcp = [&](Endpoint* endpoint) -> Status {
    Result<int> port = FindFreePort();
    if (!port.ok()) return port.status();
    endpoint->bind = endpoint->connect = "tcp://" + address + ":" + std::to_string(port.value());
    return Status::Ok();
  };
  for (Endpoint* e : {&topology_.ventilator.workers, &topology_.ventilator.intake,
                      &topology_.ventilator.heartbeat, &topology_.ventilator.status, &topology_.sink.results,
                      &topology_.sink.publish, &topology_.sink.status}) {
    if (Status s = tcp(e); !s.ok()) return s;
  }
  return Status::Ok();
}

void ClusterHarness::StopRedis() {
  if (redis_server_) redis_server_->Stop();
}

Status ClusterHarness::RestartRedis() {
  redis_server_.reset();
  auto server = LocalRedis::Start(redis_options_);
  if (!server.ok())
    return server.status().WithContext("restarting redis-server on port " +
                                       std::to_string(redis_options_.port));
  redis_server_ = std::move(server.value());
  return Status::Ok();
}

pid_t ClusterHarness::NodePid(const std::string& name) const {
  const std::string log = ReadLog("up");
  const std::string marker = "started " + name + " (pid ";
  const size_t at = log.rfind(marker);
  if (at == std::string::npos) return 0;
  return static_cast<pid_t>(std::atol(log.c_str() + at + marker.size()));
}

pid_t ClusterHarness::WaitForNodeStart(const std::string& name, pid_t old_pid,
                                       std::chrono::milliseconds timeout) const {
  pid_t pid = 0;
  WaitUntil(
      [&] {
        pid = NodePid(name);
        return pid != 0 && pid != old_pid;
      },
      timeout);
  return pid != old_pid ? pid : 0;
}

long long ClusterHarness::Length(const std::string& list) {
  if (stand_in_ && list == topology_.queue.dead_letter) return static_cast<long long>(Entries(list).size());
  if (stand_in_) return static_cast<long long>(stand_in_->Size(list));
  const bool stream = topology_.queue.kind == QueueKind::kRedisStream;
  auto reply = redis_->Command({stream ? "XLEN" : "LLEN", list});
  return reply.ok() ? reply.value()->integer : -1;
}

long long ClusterHarness::Outputs() {
  const long long results = Length(topology_.queue.output);
  const long long dead = Length(topology_.queue.dead_letter);
  return results < 0 || dead < 0 ? -1 : results + dead;
}

std::vector<std::string> ClusterHarness::Entries(const std::string& list) {
  if (stand_in_ && list == topology_.queue.dead_letter) {
    // http-mq: the journal's dead-letter file, one entry a line.
    std::vector<std::string> lines;
    std::ifstream file(topology_.queue.journal_dir + "/dead_letters.jsonl");
    for (std::string line; std::getline(file, line);) lines.push_back(std::move(line));
    return lines;
  }
  if (stand_in_) return stand_in_->Peek(list);
  std::vector<std::string> out;
  if (topology_.queue.kind == QueueKind::kRedisStream) {
    // Each entry: [id, [field, value, ...]]; the message is the stream_field's value.
    auto reply = redis_->Command({"XRANGE", list, "-", "+"});
    if (!reply.ok()) return out;
    for (size_t i = 0; i < reply.value()->elements; ++i) {
      const redisReply* entry = reply.value()->element[i];
      if (entry->elements < 2) continue;
      const redisReply* fields = entry->element[1];
      for (size_t f = 0; f + 1 < fields->elements; f += 2) {
        if (ReplyText(fields->element[f]) == topology_.queue.stream_field) {
          out.emplace_back(ReplyText(fields->element[f + 1]));
        }
      }
    }
    return out;
  }
  auto reply = redis_->Command({"LRANGE", list, "0", "-1"});
  if (!reply.ok()) return out;
  for (size_t i = reply.value()->elements; i-- > 0;) out.emplace_back(ReplyText(reply.value()->element[i]));
  return out;
}

Status ClusterHarness::CheckOneCorrectResultEach(const std::vector<Transaction>& pushed) {
  const std::vector<std::string> results = Entries(topology_.queue.output);
  if (results.size() != pushed.size()) {
    return Status::Error(std::to_string(results.size()) + " results for " + std::to_string(pushed.size()) +
                         " transactions");
  }
  if (const long long dead = Length(topology_.queue.dead_letter); dead != 0) {
    return Status::Error(std::to_string(dead) + " dead letters");
  }
  if (const long long left = Length(topology_.queue.input); left != 0) {
    return Status::Error(std::to_string(left) + " transactions left in the input");
  }
  return CheckAgainstModel(results, pushed, topology_path());
}

bool ClusterHarness::WaitForOutputs(long long n, std::chrono::milliseconds timeout) {
  return WaitUntil([&] { return Outputs() >= n; }, timeout);
}

std::string ClusterHarness::ReadLog(const std::string& name) const {
  std::ifstream in(dir_ / "logs" / (name + ".log"));
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string ClusterHarness::LogTail(const std::string& name, size_t lines) const {
  const std::string log = ReadLog(name);
  size_t at = log.size();
  for (size_t n = 0; n <= lines && at > 0; ++n) {
    const size_t newline = log.rfind('\n', at - 1);
    if (newline == std::string::npos) return "--- " + name + ".log\n" + log;
    at = newline;
  }
  return "--- " + name + ".log (last " + std::to_string(lines) + " lines)" + log.substr(at);
}

}  // namespace scorepipe::testing
