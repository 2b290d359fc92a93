// ClusterHarness: what the integration tests need to run a real cluster: a
// temporary directory, a private redis-server on a free port, a topology
// derived from config/local.yaml with ipc:// endpoints in that directory, and
// the real node processes (`scorepipe up`, or single roles by hand).
//
// Owned by one test; the destructor stops every process it started.
#ifndef SCOREPIPE_TESTS_SUPPORT_CLUSTER_HARNESS_H_
#define SCOREPIPE_TESTS_SUPPORT_CLUSTER_HARNESS_H_

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "bridge/redis_client.h"
#include "cli/child_process.h"
#include "cli/local_redis.h"
#include "config/topology.h"
#include "proto/status.h"

namespace scorepipe::testing {

class ClusterHarness {
 public:
  // Starts the private Redis; `workers` goes into the topology.
  static Result<std::unique_ptr<ClusterHarness>> Create(int workers);
  ~ClusterHarness();
  ClusterHarness(const ClusterHarness&) = delete;
  ClusterHarness& operator=(const ClusterHarness&) = delete;

  Topology& topology() { return topology_; }
  const std::filesystem::path& dir() const { return dir_; }
  std::string topology_path() const { return (dir_ / "topology.yaml").string(); }
  RedisClient& redis() { return *redis_; }

  // Writes topology() to topology_path(); Start* call it.
  Status WriteTopology();
  // `scorepipe up` with logs in dir()/logs.
  Status StartUp();
  ChildProcess& up() { return *up_; }
  // One role program (`worker`, `sink`, ...) started by hand.
  Result<ChildProcess> StartRole(const std::string& role, const std::vector<std::string>& extra_args,
                                 const std::string& log_name);

  long long Length(const std::string& list);
  // Every entry of `list` in the order a consumer would pop them.
  std::vector<std::string> Entries(const std::string& list);
  // Waits until output + dead-letter lengths reach `n`; false on timeout.
  bool WaitForOutputs(long long n, std::chrono::seconds timeout);
  std::string ReadLog(const std::string& name) const;

  static std::string BinDir();
  static std::string SourceDir();

 private:
  ClusterHarness() = default;

  std::filesystem::path dir_;
  std::unique_ptr<LocalRedis> redis_server_;
  std::unique_ptr<RedisClient> redis_;
  Topology topology_;
  std::optional<ChildProcess> up_;
};

}  // namespace scorepipe::testing

#endif  // SCOREPIPE_TESTS_SUPPORT_CLUSTER_HARNESS_H_
