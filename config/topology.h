// The cluster's shape: one YAML file describes every node (see
// config/local.yaml and config/cluster.example.yaml). LoadTopologyFile()
// reads it, rejects unknown keys and bad values with one line
// "file:line:column: dotted.key: what is wrong; allowed: ...", and resolves
// relative model paths against the file's own directory, so a node finds its
// model wherever it is started from.
//
// The YAML keys mirror these structs, with two exceptions: each Endpoint is
// spelled as two flat keys (ventilator.bind/connect -> VentilatorConfig.workers,
// ventilator.intake_bind/intake_connect -> intake, likewise heartbeat_bind/
// heartbeat_connect, status_bind/status_connect and gateway_bind/gateway_connect, sink.bind/connect ->
// SinkConfig.results, sink.publish_bind/publish_connect -> publish,
// sink.status_bind/status_connect -> status), and enums
// are spelled as in their comments (redis-list, redis-stream, http-mq; xgboost, linear;
// include, omit; curve, none). Every key is optional except security.mode and
// either model.path and model.features or model.registry and model.name (and
// queue.journal_dir for http-mq, the security files for curve).
// The ranges in the comments below are what ValidateTopology() enforces.
//
// Value types, loaded once at start and then read-only; any thread may read.
// The loader functions keep no state and may be called from any thread.
#ifndef SCOREPIPE_CONFIG_TOPOLOGY_H_
#define SCOREPIPE_CONFIG_TOPOLOGY_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "proto/status.h"

namespace scorepipe {

enum class QueueKind {
  kRedisList,    // the upstream's Redis lists: producers LPUSH, we RPOP
  kRedisStream,  // Redis Streams: producers XADD, we XREADGROUP in a consumer group
  kHttpMq,       // the upstream's HTTP message_queue service: GET /pull-n, POST /push-n,
                 // leases kept in a local journal (queue/http_mq_queue.h)
};

struct RedisConfig {
  std::string host = "127.0.0.1";  // name or address, non-empty, no whitespace
  int port = 6379;                 // 1..65535
  int db = 0;                      // 0..15
  int connect_timeout_ms = 2000;   // 1..600000
  // Credentials (Redis AUTH), never in the YAML itself: the password is
  // read, at each connect, from the file `password_file` names (relative to
  // this file's directory; its first line) or from the environment variable
  // `password_env` names; at most one of the two. `user` is an ACL user
  // (Redis 6+); empty: the default user. All empty: no AUTH.
  std::string user;
  std::string password_file;
  std::string password_env;
};

struct QueueConfig {
  QueueKind kind = QueueKind::kRedisList;
  RedisConfig redis;  // redis-list and redis-stream; ignored for http-mq
  // Queue names (Redis lists, streams for redis-stream, the service's queues
  // for http-mq): non-empty, no whitespace, all four different.
  std::string input = "transactions_queue";
  std::string output = "results_queue";
  std::string dead_letter = "transactions_dead";
  // Where the sink appends the scores of the version in shadow, one JSON per
  // transaction (docs/models.md, "Shadow scoring"); never read by scorepipe
  // itself except by `scorepipe model shadow-report`.
  std::string shadow = "results_shadow";
  // redis-stream: the consumer group, and the entry field that holds a
  // message (non-empty, no whitespace).
  std::string group = "scorepipe";
  std::string stream_field = "message";
  // A lease older than this is reclaimed: its holder is taken to be dead or
  // stuck and its messages go round again, 100..86400000. Keep it well above
  // the time a batch needs end to end, or work is done twice (harmless: the
  // duplicate publishes nothing) under load.
  int inflight_timeout_ms = 30000;
  // How many times the messages of one lease are handed out (a take, then
  // each reclaim of the lease; counted in the queue, so the count survives
  // every process) before the bridge gives up on them: past this, a
  // reclaimed lease's messages go to the dead letters with "poison:
  // delivered N times" and are never sent again. 1..1000.
  int max_deliveries = 5;

  // http-mq: the upstream's message_queue service, and where scorepipe keeps
  // the leases that its pull-n cannot (it removes what it returns).
  // Base URL: http:// or https://, a host, an optional :port (1..65535) and
  // path prefix; no user info, query or fragment.
  std::string url = "http://127.0.0.1:8003";
  // The lease journal's directory (queue/lease_journal.h), required for
  // http-mq; absolute after loading (relative: to the topology file's
  // directory). The bridge and the sink of one cluster share it, so both run
  // on one host (the head), on a local file system; workers run anywhere.
  std::string journal_dir;
  // How long the service's GET /pull-n waits for a first message (30 s
  // upstream), 0..600000. A pull is never cut short: the client waits this
  // plus http_timeout_ms for the answer, and a stopping bridge as long.
  int pull_wait_ms = 30000;
  // One HTTP request's limit (connecting included) beyond the service's own
  // wait, 100..600000.
  int http_timeout_ms = 10000;
  // How long one settlement (or push) retries push-n while the service
  // answers 409 (queue full) or fails, with back-off and jitter, before it
  // returns an error; the sink then tries again, so nothing is dropped.
  // 100..3600000.
  int push_retry_ms = 5000;
};

struct BridgeConfig {
  int batch_size = 512;  // transactions per batch, 1..65536
  // Longest wait to fill a batch, 0..60000. 0 sends what the queue holds at
  // once: under load batches fill by themselves (messages pile up in the
  // queue while credit-based back-pressure holds the bridge), so waiting
  // would only add latency at low rates.
  int linger_ms = 0;
  int block_timeout_ms = 500;     // wait on an empty queue, 1..60000, below queue.inflight_timeout_ms / 2
  int max_message_bytes = 65536;  // larger queue messages are dead-lettered, 64..16777216
};

// A ZeroMQ endpoint seen from both ends: the server binds `bind`
// ("tcp://*:5557"), clients connect to `connect` ("tcp://head:5557").
// bind: tcp://host:port, tcp://*:port, ipc://path or inproc://name.
// connect: the same transport as bind; tcp needs a concrete host (not *), and
// ipc/inproc must name exactly what bind names. Ports are 1..65535. The
// endpoints of different roles never coincide (nor do two tcp binds share a
// port on the same interface).
struct Endpoint {
  std::string bind;
  std::string connect;
};

struct VentilatorConfig {
  Endpoint workers{"tcp://*:5557", "tcp://127.0.0.1:5557"};    // ROUTER: batches to workers, credits back
  Endpoint intake{"tcp://*:5556", "tcp://127.0.0.1:5556"};     // PULL from the bridge
  Endpoint heartbeat{"tcp://*:5560", "tcp://127.0.0.1:5560"};  // ROUTER: heartbeats both ways
  Endpoint status{"tcp://*:5561", "tcp://127.0.0.1:5561"};     // REP: `scorepipe status`
  // ROUTER: gateways (any number) send online batches in and get their
  // results back here (docs/architecture.md, "Online scoring").
  Endpoint gateways{"tcp://*:5563", "tcp://127.0.0.1:5563"};
  // Batches queued per worker pipe, 1..100000; at least workers.credit.
  int send_hwm = 4;
  // A batch a worker has not finished this long after it was sent goes to
  // another worker, 100..3600000.
  int batch_timeout_ms = 10000;
};

// Liveness between workers and the ventilator (the Paranoid Pirate pattern):
// each side sends a heartbeat every `interval_ms`; a peer silent for
// `liveness` intervals is dead (the ventilator re-dispatches the worker's
// batches; a worker reconnects and announces itself again).
struct HeartbeatConfig {
  int interval_ms = 1000;  // 10..60000
  int liveness = 3;        // 1..100
};

// Whether each result JSON names the model that scored it (an extra
// "model" and "model_version" field; the upstream schema allows extra fields).
enum class ModelFields {
  kInclude,  // {"transaction_id":1,...,"confidence":0.95,"model":"fraud","model_version":"v2"}
  kOmit,     // exactly the upstream's four fields
};

struct SinkConfig {
  Endpoint results{"tcp://*:5558", "tcp://127.0.0.1:5558"};  // PULL from workers
  // PUB of live results; both strings empty means "no live feed".
  Endpoint publish{"tcp://*:5559", "tcp://127.0.0.1:5559"};
  // REP: evaluation runs (`scorepipe evaluate --cluster` starts one and asks
  // how far it is; docs/models.md).
  Endpoint status{"tcp://*:5562", "tcp://127.0.0.1:5562"};
  ModelFields model_fields = ModelFields::kInclude;
};

// How the gateway's HTTP port is secured: TLS with bearer tokens, or
// neither (a single-host demo), under the same explicit rule as CURVE.
enum class GatewaySecurity {
  kTls,   // HTTPS only; every request needs a bearer token from tokens_file
  kNone,  // plain HTTP without tokens: a single-host demo; the gateway warns at start
};

// The gateway role (gateway/): online scoring over HTTP into the same
// cluster. Any number of gateways run, each connecting to the ventilator's
// `gateways` endpoint; a load balancer spreads callers over them.
struct GatewayConfig {
  std::string address = "0.0.0.0";  // listen address: an IP or host name
  int port = 8080;                  // the HTTP(S) port, 1..65535
  int threads = 0;                  // event-loop threads, each with its own link to the head, 0..64;
                                    // 0: one per CPU core
  // Dynamic batching: concurrent requests share a batch, sent when it holds
  // max_batch_size transactions or max_queue_delay_us after its first one
  // (0: at the end of the event-loop turn that filled it).
  int max_batch_size = 64;     // 1..65536; bridge.batch_size caps it (every node's frame limit)
  int max_queue_delay_us = 0;  // 0..1000000
  // A request not answered this long gets 504, 10..600000; keep it above a
  // dead worker's re-dispatch time (heartbeat.interval_ms x liveness).
  int request_timeout_ms = 15000;
  int max_request_items = 4096;        // transactions (or tensor rows) per request, 1..1000000
  int max_body_bytes = 8 << 20;        // a larger body gets 413, 1024..1073741824
  int max_header_bytes = 16 << 10;     // larger headers get 431, 1024..1048576
  int read_timeout_ms = 10000;         // a request's headers and body must arrive within, 100..3600000
  int idle_timeout_ms = 60000;         // a keep-alive connection idle this long is closed, 100..3600000
  int max_connections = 20000;         // more are closed at accept, 1..1000000
  int max_concurrent_requests = 8192;  // past this, 503 with Retry-After, 1..1000000
  GatewaySecurity security = GatewaySecurity::kTls;
  // TLS (security tls): PEM certificate chain and private key; relative
  // paths start at the topology file's directory.
  std::string tls_cert_file;
  std::string tls_key_file;
  // Bearer tokens (security tls), one per line, never in the YAML: callers
  // send "Authorization: Bearer <token>". admin_tokens_file's tokens may also
  // promote and roll back models; empty: model administration is off.
  std::string tokens_file;
  std::string admin_tokens_file;
  // Asynchronous tasks (POST /v1/tasks): a finished task's results are kept
  // this long, 1..2592000 s. Tasks live in the queue's Redis (queue.redis;
  // queue.kind redis-list or redis-stream), each leased like a queue message
  // (queue.inflight_timeout_ms, queue.max_deliveries).
  int task_ttl_s = 3600;
};

struct WorkersConfig {
  int count = 2;  // workers `scorepipe up` starts on this host, 0..256
  // Batches one worker holds at a time (its credit with the ventilator), 1..64:
  // one being scored and the next one ready.
  int credit = 2;
};

enum class ModelFormat {
  kXgboost,  // an XGBoost JSON model, scored through libxgboost
  kLinear,   // a logistic-regression YAML (weights, bias), scored with Eigen
};

// Which model the workers run: either one model's files (path, features,
// format, version), or the live version of a model in a registry
// (registry, name; scoring/model_registry.h), which workers follow while they
// run: a promotion or a roll-back reaches every worker within about
// watch_ms, without a restart. Not both.
//
// The loader resolves relative paths against the YAML file's directory and
// normalises them, but does not check that the files exist: the worker opens
// them and says what is wrong with them.
struct ModelConfig {
  std::string path;  // model file, required without registry; absolute after loading
  ModelFormat format = ModelFormat::kXgboost;  // with registry: from the version's meta.yaml
  std::string features;    // features.yaml, required without registry; absolute after loading
  double threshold = 0.5;  // is_fraudulent when P(fraud) >= threshold, [0, 1]
  std::string version;     // reported with results; the loader's default is the model file's
                           // name without extension; with registry: the live version
  // The registry's root folder; absolute after loading. Workers on other
  // hosts need it at the same path (a shared or synced folder).
  std::string registry;
  // The model's name, reported with results: required with registry (the
  // model's folder there); else the loader's default is the name of the
  // folder that holds the model file.
  std::string name;
  // With registry: how often a worker looks for a new live version,
  // 100..3600000.
  int watch_ms = 1000;
};

enum class LogFormat {
  kText,  // "<time> <role>[<id>] <level> <message>", for people
  kJson,  // one JSON object per line (time, level, role, id, message), for log shippers
};

struct LoggingConfig {
  std::string level = "info";  // trace | debug | info | warn | error | off
  LogFormat format = LogFormat::kText;
};

// Every node serves Prometheus metrics over HTTP at
// http://<address>:<port>/metrics. Ports are per role, 1..65535, or 0 for
// no endpoint; bridge, ventilator and sink ports differ from each other and
// from the workers' range. Workers share hosts, so a worker takes the first
// free port of worker_port .. worker_port + kWorkerMetricsPorts - 1.
struct MetricsConfig {
  std::string address = "0.0.0.0";  // listen address: an IP or host name ("0.0.0.0": every interface)
  int bridge_port = 9101;
  int ventilator_port = 9102;
  int sink_port = 9103;
  int worker_port = 9104;
  int gateway_port = 9168;
};
constexpr int kWorkerMetricsPorts = 64;

// How the nodes' ZeroMQ links are secured (runtime/curve.h). A topology file
// must say which (security.mode has no default there); a Topology built in
// code starts at kNone.
enum class SecurityMode {
  kCurve,  // CURVE: encrypted links; servers let in only the listed client keys
  kNone,   // plain TCP, for a single-host demo; every node warns at start
};

// The files a CURVE cluster reads (absolute after loading; relative: to the
// topology file's directory). One topology serves every host, so each host
// keeps its own key pair at the same path. All three are required for curve.
struct SecurityConfig {
  SecurityMode mode = SecurityMode::kNone;
  // This host's secret key file (`<name>.key_secret`, mode 0600, from
  // `scorepipe keygen`); its public key `<name>.key` lies beside it.
  std::string secret_key;
  // The head's public key file: clients accept only a server holding it.
  std::string server_key;
  // The head's folder of client public keys (`*.key`) it lets in, read on
  // every new connection. The head's own key is always let in.
  std::string authorized_keys;
};

struct Topology {
  std::string source;  // the file it was loaded from, for messages; may be empty
  // Where the file sets each key: dotted key -> where its value starts
  // (empty for a Topology built in code). KeyPlace() and
  // RewriteTopologyValues() (topology_writer.h) use it.
  struct TextSpot {
    int line = 0;    // 1-based
    int column = 0;  // 0-based byte offset in the line
  };
  std::map<std::string, TextSpot, std::less<>> spots;
  QueueConfig queue;
  BridgeConfig bridge;
  VentilatorConfig ventilator;
  HeartbeatConfig heartbeat;
  SinkConfig sink;
  WorkersConfig workers;
  GatewayConfig gateway;
  ModelConfig model;
  MetricsConfig metrics;
  LoggingConfig logging;
  SecurityConfig security;
};

// Where `key` is set, for a message about what it names: "source:line:
// key" when the file sets it, "source: key" when it is loaded from a file
// that leaves it out, else "key".
std::string KeyPlace(const Topology& topology, std::string_view key);

// Every key a topology file may hold, dotted ("queue.redis.port"), in the
// order of config/local.yaml (docs/configuration.md documents each).
std::vector<std::string> TopologyKeys();
// The keys every topology file must set (security.mode); model.path and
// model.features are required only without model.registry.
std::vector<std::string> RequiredTopologyKeys();

// The largest topology text the loaders read; a real one is a few KiB.
inline constexpr size_t kMaxTopologyBytes = 1 << 20;

// Loads and validates a topology file. `path` is used as given in messages
// and as Topology::source. A file above kMaxTopologyBytes is refused unread
// past that limit.
Result<Topology> LoadTopologyFile(const std::string& path);
// Same, from text; `name` stands for the file in messages and `base_dir`
// anchors relative paths (itself taken relative to the working directory).
Result<Topology> LoadTopologyString(const std::string& text, const std::string& name,
                                    const std::string& base_dir);

// Checks every value of a topology, loaded or built in code, against the
// ranges above and the cross-field rules (distinct queues and endpoints).
// The first problem comes back as "dotted.key: what is wrong; allowed: ...",
// prefixed with "source: " when `topology.source` is set; the loaders report
// the same problems with the file's line and column instead.
Status ValidateTopology(const Topology& topology);

}  // namespace scorepipe

#endif  // SCOREPIPE_CONFIG_TOPOLOGY_H_
