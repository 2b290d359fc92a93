// The cluster's shape: one YAML file describes every node (see
// config/local.yaml). LoadTopologyFile() reads it, rejects unknown keys and
// bad values with "file:line:column: key: what is wrong; allowed: ...", and
// resolves relative paths against the file's own directory, so a node finds
// its model wherever it is started from.
//
// Value types, loaded once at start and then read-only; any thread may read.
#ifndef SCOREPIPE_CONFIG_TOPOLOGY_H_
#define SCOREPIPE_CONFIG_TOPOLOGY_H_

#include <cstdint>
#include <string>

#include "proto/status.h"

namespace scorepipe {

enum class QueueKind {
  kRedisList,  // the upstream's Redis lists: producers LPUSH, we RPOP
};

struct RedisConfig {
  std::string host = "127.0.0.1";
  int port = 6379;                    // 1..65535
  int db = 0;                         // 0..15
  int connect_timeout_ms = 2000;      // 1..600000
};

struct QueueConfig {
  QueueKind kind = QueueKind::kRedisList;
  RedisConfig redis;
  std::string input = "transactions_queue";     // non-empty
  std::string output = "results_queue";         // non-empty
  std::string dead_letter = "transactions_dead";  // non-empty, differs from input
};

struct BridgeConfig {
  int batch_size = 512;            // transactions per batch, 1..65536
  int linger_ms = 2;               // longest wait to fill a batch, 0..60000
  int block_timeout_ms = 500;      // BRPOP wait on an empty list, 1..60000
  int max_message_bytes = 65536;   // larger queue messages are dead-lettered, 64..16777216
};

// A ZeroMQ endpoint seen from both ends: the server binds `bind`
// ("tcp://*:5557"), clients connect to `connect` ("tcp://head:5557").
struct Endpoint {
  std::string bind;
  std::string connect;
};

struct VentilatorConfig {
  Endpoint workers{"tcp://*:5557", "tcp://127.0.0.1:5557"};  // PUSH to workers
  Endpoint intake{"tcp://*:5556", "tcp://127.0.0.1:5556"};   // PULL from the bridge
  int send_hwm = 64;  // batches queued per worker pipe, 1..100000
};

struct SinkConfig {
  Endpoint results{"tcp://*:5558", "tcp://127.0.0.1:5558"};  // PULL from workers
  Endpoint publish{"tcp://*:5559", "tcp://127.0.0.1:5559"};  // PUB of live results
};

struct WorkersConfig {
  int count = 2;  // workers `scorepipe up` starts on this host, 0..256
};

enum class ModelFormat {
  kXgboost,  // an XGBoost JSON model, scored through libxgboost
  kLinear,   // a logistic-regression YAML (weights, bias), scored with Eigen
};

struct ModelConfig {
  std::string path;            // model file; absolute after loading
  ModelFormat format = ModelFormat::kXgboost;
  std::string features;        // features.yaml; absolute after loading
  double threshold = 0.5;      // is_fraudulent when P(fraud) >= threshold, [0, 1]
  std::string version;         // reported with results; default: model file name
};

struct LoggingConfig {
  std::string level = "info";  // trace | debug | info | warn | error | off
};

struct Topology {
  std::string source;  // the file it was loaded from, for messages
  QueueConfig queue;
  BridgeConfig bridge;
  VentilatorConfig ventilator;
  SinkConfig sink;
  WorkersConfig workers;
  ModelConfig model;
  LoggingConfig logging;
};

// Loads and validates a topology file.
Result<Topology> LoadTopologyFile(const std::string& path);
// Same, from text; `name` stands for the file in messages and `base_dir`
// anchors relative paths.
Result<Topology> LoadTopologyString(const std::string& text, const std::string& name,
                                    const std::string& base_dir);

}  // namespace scorepipe

#endif  // SCOREPIPE_CONFIG_TOPOLOGY_H_
