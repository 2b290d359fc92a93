// The topology's schema (internal to config/): every YAML key, the field it
// fills and the rule for its value, listed once in VisitFields(). The YAML
// reader (topology_yaml.cc) walks it to know the keys and to read values,
// the checks (topology_checks.cc) walk it to check them, and TopologyKeys()
// to list them. Type errors (a list where a number belongs) can only happen
// while reading YAML, so they live in the reader; every check of a value
// lives in FindProblem() (topology_checks.h).
//
// Constants and stateless functions; any thread.
#ifndef SCOREPIPE_CONFIG_TOPOLOGY_SCHEMA_H_
#define SCOREPIPE_CONFIG_TOPOLOGY_SCHEMA_H_

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "config/topology.h"

namespace scorepipe::topology_internal {

// One thing wrong with a topology, before it is given a place in a file.
struct Problem {
  std::string key;      // dotted YAML key ("queue.redis.port"); empty for the whole file
  std::string what;     // "70000 is out of range"
  std::string allowed;  // "1..65535"
};

// "key: what; allowed: allowed" (without the key when it is empty).
std::string Format(const Problem& problem);

// ---------------------------------------------------------------------------
// Rules: what a field accepts. `allowed` is quoted in every message about it.

struct IntRule {
  int min;
  int max;
};

struct DoubleRule {
  double min;
  double max;
};

struct StringRule {
  const char* allowed;
  // What is wrong with the value ("is empty"), or nothing.
  std::optional<std::string> (*check)(const std::string& value);
};

template <typename E>
struct EnumName {
  std::string_view name;
  E value;
};

// Whether a key may be left out of the file.
enum class Presence {
  kOptional,                 // left out: the struct's default stands
  kRequired,                 // left out: an error
  kRequiredWithoutRegistry,  // left out: an error unless model.registry is set
};

inline constexpr EnumName<QueueKind> kQueueKinds[] = {
    {"redis-list", QueueKind::kRedisList},
    {"redis-stream", QueueKind::kRedisStream},
    {"http-mq", QueueKind::kHttpMq},
};
inline constexpr EnumName<LogFormat> kLogFormats[] = {
    {"text", LogFormat::kText},
    {"json", LogFormat::kJson},
};
inline constexpr EnumName<SecurityMode> kSecurityModes[] = {
    {"curve", SecurityMode::kCurve},
    {"none", SecurityMode::kNone},
};
inline constexpr EnumName<ModelFormat> kModelFormats[] = {
    {"xgboost", ModelFormat::kXgboost},
    {"linear", ModelFormat::kLinear},
};
inline constexpr EnumName<GatewaySecurity> kGatewaySecurities[] = {
    {"tls", GatewaySecurity::kTls},
    {"none", GatewaySecurity::kNone},
};
inline constexpr EnumName<ModelFields> kModelFieldsNames[] = {
    {"include", ModelFields::kInclude},
    {"omit", ModelFields::kOmit},
};

template <typename E, size_t N>
std::span<const EnumName<E>> Names(const EnumName<E> (&names)[N]) {
  return names;
}

// `value` in its shortest form that reads back the same ("0.5").
std::string DoubleText(double value);

std::string Allowed(IntRule rule);
std::string Allowed(DoubleRule rule);
template <typename E>
std::string Allowed(std::span<const EnumName<E>> names) {
  std::string out;
  for (const auto& name : names) out += (out.empty() ? "" : ", ") + std::string(name.name);
  return out;
}

// The checks behind the string rules below: what is wrong with the value
// ("is empty"), or nothing.
std::optional<std::string> CheckWord(const std::string& value);
std::optional<std::string> CheckNonEmpty(const std::string& value);
std::optional<std::string> CheckOptionalWord(const std::string& value);
std::optional<std::string> CheckOptionalFilePath(const std::string& value);
std::optional<std::string> CheckEnvName(const std::string& value);
std::optional<std::string> CheckLogLevel(const std::string& value);
std::optional<std::string> CheckBind(const std::string& value);
std::optional<std::string> CheckConnect(const std::string& value);
std::optional<std::string> CheckOptionalBind(const std::string& value);
std::optional<std::string> CheckOptionalConnect(const std::string& value);
// An http:// or https:// base URL with a host, optional :port and path.
std::optional<std::string> CheckHttpUrl(const std::string& value);
// Any path, or '' (the rules between fields say when it is required).
std::optional<std::string> CheckAnyPath(const std::string& value);
// '' only: set beside model.registry, a value is wrong.
std::optional<std::string> CheckEmpty(const std::string& value);

// A ZeroMQ endpoint taken apart.
struct EndpointParts {
  std::string_view transport;  // "tcp", "ipc" or "inproc"
  std::string_view host;       // tcp only; "*" is every interface
  int port = 0;                // tcp only
};

// Fills `parts` from `endpoint`, or says what is wrong with it.
std::optional<std::string> SplitEndpoint(std::string_view endpoint, EndpointParts* parts);

inline constexpr StringRule kHostRule{"a host name or address, non-empty, no whitespace", CheckWord};
inline constexpr StringRule kQueueNameRule{
    "a queue name (a Redis list, a stream for redis-stream, a queue of the service for http-mq), "
    "non-empty, no whitespace",
    CheckWord};
inline constexpr StringRule kUrlRule{
    "an http:// or https:// base URL with a host, an optional :port (1..65535) and path, "
    "no user info, query or fragment",
    CheckHttpUrl};
inline constexpr char kJournalDirAllowed[] =
    "a directory path, absolute or relative to this file's directory; required for queue.kind http-mq";
inline constexpr StringRule kJournalDirRule{kJournalDirAllowed, CheckAnyPath};
inline constexpr StringRule kGroupRule{"a consumer group name, non-empty, no whitespace", CheckWord};
inline constexpr StringRule kFieldRule{"a stream entry field name, non-empty, no whitespace", CheckWord};
inline constexpr StringRule kBindRule{
    "tcp://host:port, tcp://*:port, ipc://path or inproc://name, port 1..65535", CheckBind};
inline constexpr StringRule kConnectRule{
    "tcp://host:port with a concrete host (not *), ipc://path or inproc://name, port 1..65535", CheckConnect};
inline constexpr StringRule kOptionalBindRule{
    "tcp://host:port, tcp://*:port, ipc://path or inproc://name, port 1..65535; "
    "or '' for no live feed",
    CheckOptionalBind};
inline constexpr StringRule kOptionalConnectRule{
    "tcp://host:port with a concrete host (not *), ipc://path or inproc://name, port 1..65535; "
    "or '' for no live feed",
    CheckOptionalConnect};
inline constexpr StringRule kOptionalWordRule{"a name without whitespace, or '' for none", CheckOptionalWord};
inline constexpr StringRule kOptionalFileRule{
    "a file path, absolute or relative to this file's directory, or '' for none", CheckOptionalFilePath};
inline constexpr StringRule kEnvNameRule{"an environment variable name (letters, digits, _), or '' for none",
                                         CheckEnvName};
// Empty passes the rule: FindProblem() requires the files only without a registry.
inline constexpr StringRule kModelFileRule{
    "a file path, absolute or relative to this file's directory; required unless model.registry is set",
    CheckOptionalFilePath};
inline constexpr StringRule kVersionRule{"a non-empty version label", CheckNonEmpty};
// A registry model's version is the live one, found by the worker.
inline constexpr StringRule kRegistryVersionRule{"empty: the registry's live version", CheckEmpty};
inline constexpr StringRule kRegistryRule{
    "a folder path, absolute or relative to this file's directory, or '' for none", CheckAnyPath};
inline constexpr StringRule kModelNameRule{
    "a model name without whitespace; required with model.registry; default: the model file's folder name",
    CheckOptionalWord};
inline constexpr char kKeyFileAllowed[] =
    "a key file path, absolute or relative to this file's directory; required for security.mode curve";
inline constexpr char kKeyFolderAllowed[] =
    "a folder path, absolute or relative to this file's directory; required for security.mode curve";
inline constexpr StringRule kKeyFileRule{kKeyFileAllowed, CheckAnyPath};
inline constexpr StringRule kKeyFolderRule{kKeyFolderAllowed, CheckAnyPath};
inline constexpr StringRule kLogLevelRule{"trace, debug, info, warn, error, off", CheckLogLevel};

// ---------------------------------------------------------------------------
// The schema. `TopologyT` is Topology for the reader and const Topology for
// the checks, so both walk the same list. Keys are in the order of
// config/local.yaml, which is also the order of the "allowed:" key lists.

template <typename TopologyT, typename Visitor>
void VisitFields(TopologyT& t, Visitor& v) {
  v.Enum("queue.kind", t.queue.kind, Names(kQueueKinds));
  v.String("queue.redis.host", t.queue.redis.host, kHostRule);
  v.Int("queue.redis.port", t.queue.redis.port, IntRule{1, 65535});
  v.Int("queue.redis.db", t.queue.redis.db, IntRule{0, 15});
  v.Int("queue.redis.connect_timeout_ms", t.queue.redis.connect_timeout_ms, IntRule{1, 600000});
  v.String("queue.redis.user", t.queue.redis.user, kOptionalWordRule);
  v.String("queue.redis.password_file", t.queue.redis.password_file, kOptionalFileRule);
  v.String("queue.redis.password_env", t.queue.redis.password_env, kEnvNameRule);
  v.String("queue.input", t.queue.input, kQueueNameRule);
  v.String("queue.output", t.queue.output, kQueueNameRule);
  v.String("queue.dead_letter", t.queue.dead_letter, kQueueNameRule);
  v.String("queue.shadow", t.queue.shadow, kQueueNameRule);
  v.String("queue.group", t.queue.group, kGroupRule);
  v.String("queue.stream_field", t.queue.stream_field, kFieldRule);
  v.Int("queue.inflight_timeout_ms", t.queue.inflight_timeout_ms, IntRule{100, 86400000});
  v.Int("queue.max_deliveries", t.queue.max_deliveries, IntRule{1, 1000});
  v.String("queue.url", t.queue.url, kUrlRule);
  v.String("queue.journal_dir", t.queue.journal_dir, kJournalDirRule);
  v.Int("queue.pull_wait_ms", t.queue.pull_wait_ms, IntRule{0, 600000});
  v.Int("queue.http_timeout_ms", t.queue.http_timeout_ms, IntRule{100, 600000});
  v.Int("queue.push_retry_ms", t.queue.push_retry_ms, IntRule{100, 3600000});

  v.Int("bridge.batch_size", t.bridge.batch_size, IntRule{1, 65536});
  v.Int("bridge.linger_ms", t.bridge.linger_ms, IntRule{0, 60000});
  v.Int("bridge.block_timeout_ms", t.bridge.block_timeout_ms, IntRule{1, 60000});
  v.Int("bridge.max_message_bytes", t.bridge.max_message_bytes, IntRule{64, 16777216});

  v.String("ventilator.bind", t.ventilator.workers.bind, kBindRule);
  v.String("ventilator.connect", t.ventilator.workers.connect, kConnectRule);
  v.String("ventilator.intake_bind", t.ventilator.intake.bind, kBindRule);
  v.String("ventilator.intake_connect", t.ventilator.intake.connect, kConnectRule);
  v.String("ventilator.heartbeat_bind", t.ventilator.heartbeat.bind, kBindRule);
  v.String("ventilator.heartbeat_connect", t.ventilator.heartbeat.connect, kConnectRule);
  v.String("ventilator.status_bind", t.ventilator.status.bind, kBindRule);
  v.String("ventilator.status_connect", t.ventilator.status.connect, kConnectRule);
  v.String("ventilator.gateway_bind", t.ventilator.gateways.bind, kBindRule);
  v.String("ventilator.gateway_connect", t.ventilator.gateways.connect, kConnectRule);
  v.Int("ventilator.send_hwm", t.ventilator.send_hwm, IntRule{1, 100000});
  v.Int("ventilator.batch_timeout_ms", t.ventilator.batch_timeout_ms, IntRule{100, 3600000});

  v.Int("heartbeat.interval_ms", t.heartbeat.interval_ms, IntRule{10, 60000});
  v.Int("heartbeat.liveness", t.heartbeat.liveness, IntRule{1, 100});

  v.String("sink.bind", t.sink.results.bind, kBindRule);
  v.String("sink.connect", t.sink.results.connect, kConnectRule);
  v.String("sink.publish_bind", t.sink.publish.bind, kOptionalBindRule);
  v.String("sink.publish_connect", t.sink.publish.connect, kOptionalConnectRule);
  v.String("sink.status_bind", t.sink.status.bind, kBindRule);
  v.String("sink.status_connect", t.sink.status.connect, kConnectRule);
  v.Enum("sink.model_fields", t.sink.model_fields, Names(kModelFieldsNames));

  v.Int("workers.count", t.workers.count, IntRule{0, 256});
  v.Int("workers.credit", t.workers.credit, IntRule{1, 64});

  v.String("gateway.address", t.gateway.address, kHostRule);
  v.Int("gateway.port", t.gateway.port, IntRule{1, 65535});
  v.Int("gateway.threads", t.gateway.threads, IntRule{0, 64});
  v.Int("gateway.max_batch_size", t.gateway.max_batch_size, IntRule{1, 65536});
  v.Int("gateway.max_queue_delay_us", t.gateway.max_queue_delay_us, IntRule{0, 1000000});
  v.Int("gateway.request_timeout_ms", t.gateway.request_timeout_ms, IntRule{10, 600000});
  v.Int("gateway.max_request_items", t.gateway.max_request_items, IntRule{1, 1000000});
  v.Int("gateway.max_body_bytes", t.gateway.max_body_bytes, IntRule{1024, 1073741824});
  v.Int("gateway.max_header_bytes", t.gateway.max_header_bytes, IntRule{1024, 1048576});
  v.Int("gateway.read_timeout_ms", t.gateway.read_timeout_ms, IntRule{100, 3600000});
  v.Int("gateway.idle_timeout_ms", t.gateway.idle_timeout_ms, IntRule{100, 3600000});
  v.Int("gateway.max_connections", t.gateway.max_connections, IntRule{1, 1000000});
  v.Int("gateway.max_concurrent_requests", t.gateway.max_concurrent_requests, IntRule{1, 1000000});
  v.Enum("gateway.security", t.gateway.security, Names(kGatewaySecurities));
  v.String("gateway.tls_cert_file", t.gateway.tls_cert_file, kOptionalFileRule);
  v.String("gateway.tls_key_file", t.gateway.tls_key_file, kOptionalFileRule);
  v.String("gateway.tokens_file", t.gateway.tokens_file, kOptionalFileRule);
  v.String("gateway.admin_tokens_file", t.gateway.admin_tokens_file, kOptionalFileRule);
  v.Int("gateway.task_ttl_s", t.gateway.task_ttl_s, IntRule{1, 2592000});

  v.String("model.path", t.model.path, kModelFileRule, Presence::kRequiredWithoutRegistry);
  v.Enum("model.format", t.model.format, Names(kModelFormats));
  v.String("model.features", t.model.features, kModelFileRule, Presence::kRequiredWithoutRegistry);
  v.Double("model.threshold", t.model.threshold, DoubleRule{0.0, 1.0});
  v.String("model.version", t.model.version, t.model.registry.empty() ? kVersionRule : kRegistryVersionRule);
  v.String("model.registry", t.model.registry, kRegistryRule);
  v.String("model.name", t.model.name, kModelNameRule);
  v.Int("model.watch_ms", t.model.watch_ms, IntRule{100, 3600000});

  v.String("metrics.address", t.metrics.address, kHostRule);
  v.Int("metrics.bridge_port", t.metrics.bridge_port, IntRule{0, 65535});
  v.Int("metrics.ventilator_port", t.metrics.ventilator_port, IntRule{0, 65535});
  v.Int("metrics.sink_port", t.metrics.sink_port, IntRule{0, 65535});
  v.Int("metrics.worker_port", t.metrics.worker_port, IntRule{0, 65535 - (kWorkerMetricsPorts - 1)});
  v.Int("metrics.gateway_port", t.metrics.gateway_port, IntRule{0, 65535});

  v.String("logging.level", t.logging.level, kLogLevelRule);
  v.Enum("logging.format", t.logging.format, Names(kLogFormats));

  v.Enum("security.mode", t.security.mode, Names(kSecurityModes), Presence::kRequired);
  v.String("security.secret_key", t.security.secret_key, kKeyFileRule);
  v.String("security.server_key", t.security.server_key, kKeyFileRule);
  v.String("security.authorized_keys", t.security.authorized_keys, kKeyFolderRule);
}

}  // namespace scorepipe::topology_internal

#endif  // SCOREPIPE_CONFIG_TOPOLOGY_SCHEMA_H_
