// ClusterHarness: what the integration and fault tests need to run a real
// cluster: a temporary directory, a private redis-server on a free port (for
// queue.kind http-mq instead: the stand-in for the upstream's HTTP service,
// in the test's process, and a lease journal in that directory), a
// topology derived from config/local.yaml with ipc:// endpoints in that
// directory (or tcp:// ones, for nodes in other network namespaces), and the
// real node processes (`scorepipe up`, or single roles by hand). For the
// fault tests it also stops and restarts that Redis on the same port and
// directory, and reads from `scorepipe up`'s log which pid each node has.
//
// Owned by one test; the destructor stops every process it started. Use from
// the test's thread.
#ifndef SCOREPIPE_TESTS_SUPPORT_CLUSTER_HARNESS_H_
#define SCOREPIPE_TESTS_SUPPORT_CLUSTER_HARNESS_H_

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/topology.h"
#include "local_cluster/child_process.h"
#include "local_cluster/local_redis.h"
#include "proto/messages.h"
#include "proto/status.h"
#include "queue/redis_client.h"
#include "runtime/link_security.h"
#include "tests/support/http_mq_stand_in.h"

namespace scorepipe::testing {

struct ClusterOptions {
  int workers = 2;                               // workers.count: the workers `scorepipe up` starts
  bool append_only = false;                      // Redis AOF persistence, so that a restart keeps every list
  QueueKind queue_kind = QueueKind::kRedisList;  // queue.kind: lists, streams or the HTTP service
  // http-mq: the stand-in's long-poll wait (queue.pull_wait_ms): short, so
  // that a bridge stops soon.
  std::chrono::milliseconds http_pull_wait{1000};
  // Non-empty: Redis requires this password; the topology names its file
  // (queue.redis.password_file).
  std::string redis_password;
  // security.mode: curve (the default: a fresh single-host key pair, so the
  // suites run over CURVE as a real cluster does) or none.
  SecurityMode security = SecurityMode::kCurve;
};

class ClusterHarness {
 public:
  // Starts the private Redis; `workers` goes into the topology.
  static Result<std::unique_ptr<ClusterHarness>> Create(int workers);
  static Result<std::unique_ptr<ClusterHarness>> Create(const ClusterOptions& options);
  ~ClusterHarness();
  ClusterHarness(const ClusterHarness&) = delete;
  ClusterHarness& operator=(const ClusterHarness&) = delete;

  Topology& topology() { return topology_; }
  const std::filesystem::path& dir() const { return dir_; }
  std::string topology_path() const { return (dir_ / "topology.yaml").string(); }
  // The Redis kinds' private Redis.
  RedisClient& redis() { return *redis_; }
  // http-mq's stand-in service.
  HttpMqStandIn& stand_in() { return *stand_in_; }

  // The links' security as a node of this cluster has it (for test clients:
  // status probes, live-feed subscribers, hostile peers with a valid key).
  Result<LinkSecurity> security() const;

  // Writes topology() to topology_path(); Start* call it.
  Status WriteTopology();
  // `scorepipe up` with logs in dir()/logs. Called again after the previous
  // one exited, it starts a new one (the logs are appended to).
  Status StartUp();
  ChildProcess& up() { return *up_; }
  // One role program (`worker`, `sink`, ...) started by hand.
  Result<ChildProcess> StartRole(const std::string& role, const std::vector<std::string>& extra_args,
                                 const std::string& log_name);
  // The command line StartRole runs, for starting it some other way (in a
  // network namespace).
  std::vector<std::string> RoleArgv(const std::string& role,
                                    const std::vector<std::string>& extra_args) const;

  // Every ZeroMQ endpoint becomes tcp://`address`:<a free port> (bound and
  // connected alike), so that nodes in other network namespaces reach them.
  Status UseTcpEndpoints(const std::string& address);

  // Stops the private Redis the way an operator does (SIGTERM: with AOF on, it
  // writes everything out first).
  void StopRedis();
  // Starts it again on the same port, in the same directory, with the same
  // persistence: with AOF on it loads every list back.
  Status RestartRedis();
  pid_t redis_pid() const { return redis_server_ ? redis_server_->pid() : 0; }

  // The pid `scorepipe up` last started node `name` ("sink", "worker-2") with,
  // from its log; 0 when it has not started it yet.
  pid_t NodePid(const std::string& name) const;
  // Waits until `scorepipe up` has started `name` with a pid other than
  // `old_pid`; returns the new pid, or 0 when none came in time.
  pid_t WaitForNodeStart(const std::string& name, pid_t old_pid, std::chrono::milliseconds timeout) const;

  // Length of a list (or stream, when queue.kind is redis-stream; or the
  // service's queue for http-mq); -1 when Redis does not answer.
  long long Length(const std::string& list);
  // Output plus dead-letter lengths; -1 when Redis does not answer.
  long long Outputs();
  // Every entry of `list` in the order a consumer would pop them (of a
  // stream: each entry's queue.stream_field, oldest first).
  std::vector<std::string> Entries(const std::string& list);
  // Whether `pushed` ended as one result each, equal to the model's own
  // prediction: as many results as transactions, no dead letter, nothing
  // left in the input; else what is wrong.
  Status CheckOneCorrectResultEach(const std::vector<Transaction>& pushed);
  // Waits until output + dead-letter lengths reach `n`; false on timeout.
  bool WaitForOutputs(long long n, std::chrono::milliseconds timeout);
  std::string ReadLog(const std::string& name) const;
  // The last `lines` lines of a log, for failure messages.
  std::string LogTail(const std::string& name, size_t lines = 30) const;

  static std::string BinDir();
  static std::string SourceDir();

 private:
  ClusterHarness() = default;

  std::filesystem::path dir_;
  LocalRedisOptions redis_options_;
  std::unique_ptr<LocalRedis> redis_server_;
  std::unique_ptr<RedisClient> redis_;
  std::unique_ptr<HttpMqStandIn> stand_in_;
  Topology topology_;
  std::optional<ChildProcess> up_;
};

}  // namespace scorepipe::testing

#endif  // SCOREPIPE_TESTS_SUPPORT_CLUSTER_HARNESS_H_
