// Loading and validating the topology (see topology.h).
//
// VisitFields() below is the schema: every YAML key, the field it fills and
// the rule for its value, listed once. The loader walks it to know the keys
// and to read values; ValidateTopology() walks it to check them. Type errors
// (a list where a number belongs) can only happen while reading YAML, so they
// live in the reader; every check of a value lives in FindProblem(), which the
// loader runs after reading and which places its message at the value's line.
#include "config/topology.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace scorepipe {
namespace {

namespace fs = std::filesystem;

// One thing wrong with a topology, before it is given a place in a file.
struct Problem {
  std::string key;      // dotted YAML key ("queue.redis.port"); empty for the whole file
  std::string what;     // "70000 is out of range"
  std::string allowed;  // "1..65535"
};

std::string Format(const Problem& problem) {
  std::string out = problem.key.empty() ? "" : problem.key + ": ";
  return out + problem.what + "; allowed: " + problem.allowed;
}

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
  kOptional,  // left out: the struct's default stands
  kRequired,  // left out: an error
  kRequiredWithoutRegistry,  // left out: an error unless model.registry is set
};

constexpr EnumName<QueueKind> kQueueKinds[] = {
    {"redis-list", QueueKind::kRedisList},
    {"redis-stream", QueueKind::kRedisStream},
    {"http-mq", QueueKind::kHttpMq},
};
constexpr EnumName<LogFormat> kLogFormats[] = {
    {"text", LogFormat::kText},
    {"json", LogFormat::kJson},
};
constexpr EnumName<SecurityMode> kSecurityModes[] = {
    {"curve", SecurityMode::kCurve},
    {"none", SecurityMode::kNone},
};
constexpr EnumName<ModelFormat> kModelFormats[] = {
    {"xgboost", ModelFormat::kXgboost},
    {"linear", ModelFormat::kLinear},
};
constexpr EnumName<ModelFields> kModelFieldsNames[] = {
    {"include", ModelFields::kInclude},
    {"omit", ModelFields::kOmit},
};

template <typename E, size_t N>
std::span<const EnumName<E>> Names(const EnumName<E> (&names)[N]) {
  return names;
}

std::string DoubleText(double value) {
  char buffer[64];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  return ec == std::errc() ? std::string(buffer, end) : "?";
}

std::string Allowed(IntRule rule) { return std::to_string(rule.min) + ".." + std::to_string(rule.max); }
std::string Allowed(DoubleRule rule) { return DoubleText(rule.min) + ".." + DoubleText(rule.max); }
template <typename E>
std::string Allowed(std::span<const EnumName<E>> names) {
  std::string out;
  for (const auto& name : names) out += (out.empty() ? "" : ", ") + std::string(name.name);
  return out;
}

bool HasWhitespace(std::string_view text) {
  return text.find_first_of(" \t\r\n\v\f") != std::string_view::npos;
}

std::optional<std::string> CheckWord(const std::string& value) {
  if (value.empty()) return "is empty";
  if (HasWhitespace(value)) return "contains whitespace";
  return std::nullopt;
}

std::optional<std::string> CheckNonEmpty(const std::string& value) {
  if (value.empty()) return "is empty";
  return std::nullopt;
}

std::optional<std::string> CheckFilePath(const std::string& value) {
  if (value.empty()) return "is empty";
  if (!fs::path(value).has_filename()) return "names a directory, not a file";
  return std::nullopt;
}

std::optional<std::string> CheckOptionalWord(const std::string& value) {
  return value.empty() ? std::nullopt : CheckWord(value);
}

std::optional<std::string> CheckOptionalFilePath(const std::string& value) {
  return value.empty() ? std::nullopt : CheckFilePath(value);
}

std::optional<std::string> CheckEnvName(const std::string& value) {
  for (size_t i = 0; i < value.size(); ++i) {
    const char c = value[i];
    const bool letter = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
    if (!letter && !(i > 0 && c >= '0' && c <= '9')) return "is not an environment variable name";
  }
  return std::nullopt;
}

std::optional<std::string> CheckLogLevel(const std::string& value) {
  for (std::string_view level : {"trace", "debug", "info", "warn", "error", "off"}) {
    if (value == level) return std::nullopt;
  }
  return "is not a log level";
}

// A ZeroMQ endpoint taken apart.
struct EndpointParts {
  std::string_view transport;  // "tcp", "ipc" or "inproc"
  std::string_view host;       // tcp only; "*" is every interface
  int port = 0;                // tcp only
};

// Fills `parts` from `endpoint`, or says what is wrong with it.
std::optional<std::string> SplitEndpoint(std::string_view endpoint, EndpointParts* parts) {
  if (endpoint.empty()) return "is empty";
  const size_t scheme_end = endpoint.find("://");
  if (scheme_end == std::string_view::npos) return "is not an endpoint";
  if (HasWhitespace(endpoint)) return "contains whitespace";
  parts->transport = endpoint.substr(0, scheme_end);
  const std::string_view address = endpoint.substr(scheme_end + 3);
  if (parts->transport == "ipc" || parts->transport == "inproc") {
    if (address.empty()) return "names no " + std::string(parts->transport == "ipc" ? "path" : "name");
    return std::nullopt;
  }
  if (parts->transport != "tcp") return "uses transport '" + std::string(parts->transport) + "'";
  const size_t colon = address.rfind(':');
  if (colon == std::string_view::npos) return "has no port";
  parts->host = address.substr(0, colon);
  if (parts->host.empty()) return "has no host";
  const std::string_view port = address.substr(colon + 1);
  long long number = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), number);
  if (port.empty() || end != port.data() + port.size() ||
      (ec != std::errc() && ec != std::errc::result_out_of_range)) {
    return "has port '" + std::string(port) + "', not a number";
  }
  if (ec != std::errc() || number < 1 || number > 65535) {
    return "has port " + std::string(port) + ", out of range";
  }
  parts->port = static_cast<int>(number);
  return std::nullopt;
}

std::optional<std::string> CheckBind(const std::string& value) {
  EndpointParts parts;
  return SplitEndpoint(value, &parts);
}

std::optional<std::string> CheckConnect(const std::string& value) {
  EndpointParts parts;
  if (auto what = SplitEndpoint(value, &parts)) return what;
  if (parts.host == "*") return "has host '*', which only a bind may use";
  return std::nullopt;
}

std::optional<std::string> CheckOptionalBind(const std::string& value) {
  return value.empty() ? std::nullopt : CheckBind(value);
}

std::optional<std::string> CheckOptionalConnect(const std::string& value) {
  return value.empty() ? std::nullopt : CheckConnect(value);
}

// An http:// or https:// base URL with a host, optional :port and path.
std::optional<std::string> CheckHttpUrl(const std::string& value) {
  if (value.empty()) return "is empty";
  if (HasWhitespace(value)) return "contains whitespace";
  std::string_view rest = value;
  if (rest.starts_with("http://")) {
    rest.remove_prefix(7);
  } else if (rest.starts_with("https://")) {
    rest.remove_prefix(8);
  } else {
    return "is not an http:// or https:// URL";
  }
  if (rest.find_first_of("?#") != std::string_view::npos) return "has a query or fragment";
  const std::string_view authority = rest.substr(0, rest.find('/'));
  if (authority.find('@') != std::string_view::npos) return "has user info";
  // The port follows the last ':' outside an IPv6 address's brackets.
  const size_t bracket = authority.rfind(']');
  const size_t colon = authority.rfind(':');
  const bool has_port = colon != std::string_view::npos && (bracket == std::string_view::npos || colon > bracket);
  const std::string_view host = has_port ? authority.substr(0, colon) : authority;
  if (host.empty() || host == "[]") return "has no host";
  if (!has_port) return std::nullopt;
  const std::string_view port = authority.substr(colon + 1);
  int number = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), number);
  if (port.empty() || end != port.data() + port.size() || ec != std::errc() || number < 1 || number > 65535) {
    return "has port '" + std::string(port) + "', not 1..65535";
  }
  return std::nullopt;
}

// Any path, or '' (the rules between fields say when it is required).
std::optional<std::string> CheckAnyPath(const std::string& /*value*/) { return std::nullopt; }

std::optional<std::string> CheckEmpty(const std::string& value) {
  if (value.empty()) return std::nullopt;
  return "is set beside model.registry";
}

constexpr StringRule kHostRule{"a host name or address, non-empty, no whitespace", CheckWord};
constexpr StringRule kQueueNameRule{
    "a queue name (a Redis list, a stream for redis-stream, a queue of the service for http-mq), "
    "non-empty, no whitespace",
    CheckWord};
constexpr StringRule kUrlRule{
    "an http:// or https:// base URL with a host, an optional :port (1..65535) and path, "
    "no user info, query or fragment",
    CheckHttpUrl};
constexpr char kJournalDirAllowed[] =
    "a directory path, absolute or relative to this file's directory; required for queue.kind http-mq";
constexpr StringRule kJournalDirRule{kJournalDirAllowed, CheckAnyPath};
constexpr StringRule kGroupRule{"a consumer group name, non-empty, no whitespace", CheckWord};
constexpr StringRule kFieldRule{"a stream entry field name, non-empty, no whitespace", CheckWord};
constexpr StringRule kBindRule{
    "tcp://host:port, tcp://*:port, ipc://path or inproc://name, port 1..65535", CheckBind};
constexpr StringRule kConnectRule{
    "tcp://host:port with a concrete host (not *), ipc://path or inproc://name, port 1..65535",
    CheckConnect};
constexpr StringRule kOptionalBindRule{
    "tcp://host:port, tcp://*:port, ipc://path or inproc://name, port 1..65535; "
    "or '' for no live feed",
    CheckOptionalBind};
constexpr StringRule kOptionalConnectRule{
    "tcp://host:port with a concrete host (not *), ipc://path or inproc://name, port 1..65535; "
    "or '' for no live feed",
    CheckOptionalConnect};
constexpr StringRule kOptionalWordRule{"a name without whitespace, or '' for none", CheckOptionalWord};
constexpr StringRule kOptionalFileRule{"a file path, absolute or relative to this file's directory, or '' for none",
                                       CheckOptionalFilePath};
constexpr StringRule kEnvNameRule{"an environment variable name (letters, digits, _), or '' for none", CheckEnvName};
// Empty passes the rule: FindProblem() requires the files only without a registry.
constexpr StringRule kModelFileRule{
    "a file path, absolute or relative to this file's directory; required unless model.registry is set",
    CheckOptionalFilePath};
constexpr StringRule kVersionRule{"a non-empty version label", CheckNonEmpty};
// A registry model's version is the live one, found by the worker.
constexpr StringRule kRegistryVersionRule{"empty: the registry's live version", CheckEmpty};
constexpr StringRule kRegistryRule{"a folder path, absolute or relative to this file's directory, or '' for none",
                                   CheckAnyPath};
constexpr StringRule kModelNameRule{
    "a model name without whitespace; required with model.registry; default: the model file's folder name",
    CheckOptionalWord};
constexpr char kKeyFileAllowed[] =
    "a key file path, absolute or relative to this file's directory; required for security.mode curve";
constexpr char kKeyFolderAllowed[] =
    "a folder path, absolute or relative to this file's directory; required for security.mode curve";
constexpr StringRule kKeyFileRule{kKeyFileAllowed, CheckAnyPath};
constexpr StringRule kKeyFolderRule{kKeyFolderAllowed, CheckAnyPath};
constexpr StringRule kLogLevelRule{"trace, debug, info, warn, error, off", CheckLogLevel};

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

  v.String("logging.level", t.logging.level, kLogLevelRule);
  v.Enum("logging.format", t.logging.format, Names(kLogFormats));

  v.Enum("security.mode", t.security.mode, Names(kSecurityModes), Presence::kRequired);
  v.String("security.secret_key", t.security.secret_key, kKeyFileRule);
  v.String("security.server_key", t.security.server_key, kKeyFileRule);
  v.String("security.authorized_keys", t.security.authorized_keys, kKeyFolderRule);
}

// ---------------------------------------------------------------------------
// Checks of values, for loaded and code-built topologies alike.

// Runs each field's own rule; stops at the first problem.
class RuleChecker {
 public:
  void Int(std::string_view key, int value, IntRule rule) {
    if (problem_ || (value >= rule.min && value <= rule.max)) return;
    problem_ = Problem{std::string(key), std::to_string(value) + " is out of range", Allowed(rule)};
  }
  void Double(std::string_view key, double value, DoubleRule rule) {
    if (problem_ || (value >= rule.min && value <= rule.max)) return;  // false for NaN
    problem_ = Problem{std::string(key), DoubleText(value) + " is out of range", Allowed(rule)};
  }
  void String(std::string_view key, const std::string& value, const StringRule& rule,
              Presence /*presence*/ = Presence::kOptional) {
    if (problem_) return;
    if (auto what = rule.check(value)) {
      problem_ = Problem{std::string(key), "'" + value + "' " + *what, rule.allowed};
    }
  }
  template <typename E>
  void Enum(std::string_view key, E value, std::span<const EnumName<E>> names,
            Presence /*presence*/ = Presence::kOptional) {
    if (problem_) return;
    for (const auto& name : names) {
      if (name.value == value) return;
    }
    problem_ = Problem{std::string(key),
                       std::to_string(static_cast<int>(value)) + " is not a known value",
                       Allowed(names)};
  }

  const std::optional<Problem>& problem() const { return problem_; }

 private:
  std::optional<Problem> problem_;
};

// Says whether the file being loaded set a key. A problem between two keys is
// reported at the one the file set, so the line shown is one the user wrote.
using InFile = std::function<bool(const std::string& key)>;

struct NamedValue {
  std::string key;
  std::string value;
};

// A problem between two keys: "'<its value>' <relation> <other key>
// ('<other value>')", named at the later key unless only the earlier one comes
// from the file.
Problem Conflict(const NamedValue& earlier, const NamedValue& later, std::string_view relation,
                 std::string allowed, const InFile& in_file) {
  const bool later_blamed = in_file(later.key) || !in_file(earlier.key);
  const NamedValue& blamed = later_blamed ? later : earlier;
  const NamedValue& other = later_blamed ? earlier : later;
  return Problem{blamed.key,
                 "'" + blamed.value + "' " + std::string(relation) + " " + other.key + " ('" +
                     other.value + "')",
                 std::move(allowed)};
}

// A broken order between two keys ("a must be below b"), worded from the side
// it is reported at: `small` unless only `large` comes from the file.
Problem OrderConflict(const NamedValue& small, std::string_view small_relation, const NamedValue& large,
                      std::string_view large_relation, std::string allowed, const InFile& in_file) {
  const bool small_blamed = in_file(small.key) || !in_file(large.key);
  const NamedValue& blamed = small_blamed ? small : large;
  const NamedValue& other = small_blamed ? large : small;
  return Problem{blamed.key,
                 "'" + blamed.value + "' " + std::string(small_blamed ? small_relation : large_relation) + " " +
                     other.key + " ('" + other.value + "')",
                 std::move(allowed)};
}

// Two binds on one host that ZeroMQ cannot both hold.
bool BindsCollide(const std::string& a, const std::string& b) {
  if (a == b) return true;
  EndpointParts pa, pb;
  if (SplitEndpoint(a, &pa) || SplitEndpoint(b, &pb)) return false;
  return pa.transport == "tcp" && pb.transport == "tcp" && pa.port == pb.port &&
         (pa.host == pb.host || pa.host == "*" || pb.host == "*");
}

// The first problem with `t`, or nothing. Field rules come first, then the
// rules between fields.
// Either a model's files or a registry model, not both.
std::optional<Problem> FindModelProblem(const ModelConfig& m, const InFile& in_file) {
  if (m.registry.empty()) {
    if (m.path.empty()) return Problem{"model.path", "'' is empty", kModelFileRule.allowed};
    if (m.features.empty()) return Problem{"model.features", "'' is empty", kModelFileRule.allowed};
    return std::nullopt;
  }
  if (m.name.empty()) {
    return Problem{"model.name", "'' is empty", "the model's name in model.registry; required with model.registry"};
  }
  const NamedValue files_only[] = {{"model.path", m.path}, {"model.features", m.features}};
  for (const NamedValue& key : files_only) {
    if (key.value.empty()) continue;
    return Conflict(key, {"model.registry", m.registry}, "is set beside",
                    "either model.path and model.features, or model.registry and model.name", in_file);
  }
  if (in_file("model.format")) {
    return Problem{"model.format", "is set beside model.registry",
                   "no model.format with model.registry: each version's meta.yaml says its format"};
  }
  return std::nullopt;
}

std::optional<Problem> FindProblem(const Topology& t, const InFile& in_file) {
  // First, as the version's default comes from the model file.
  if (auto problem = FindModelProblem(t.model, in_file)) return problem;
  RuleChecker checker;
  VisitFields(t, checker);
  if (checker.problem()) return checker.problem();

  const NamedValue queues[] = {{"queue.input", t.queue.input},
                               {"queue.output", t.queue.output},
                               {"queue.dead_letter", t.queue.dead_letter},
                               {"queue.shadow", t.queue.shadow}};
  for (size_t j = 1; j < std::size(queues); ++j) {
    for (size_t i = 0; i < j; ++i) {
      if (queues[i].value != queues[j].value) continue;
      return Conflict(queues[i], queues[j], "is also",
                      "four different names for queue.input, queue.output, queue.dead_letter and "
                      "queue.shadow",
                      in_file);
    }
  }

  if (!t.queue.redis.password_file.empty() && !t.queue.redis.password_env.empty()) {
    return Conflict({"queue.redis.password_file", t.queue.redis.password_file},
                    {"queue.redis.password_env", t.queue.redis.password_env}, "is set beside",
                    "at most one of queue.redis.password_file and queue.redis.password_env", in_file);
  }

  if (t.queue.kind == QueueKind::kHttpMq && t.queue.journal_dir.empty()) {
    return Problem{"queue.journal_dir", "'' is empty", kJournalDirAllowed};
  }

  if (t.security.mode == SecurityMode::kCurve) {
    const NamedValue files[] = {{"security.secret_key", t.security.secret_key},
                                {"security.server_key", t.security.server_key},
                                {"security.authorized_keys", t.security.authorized_keys}};
    for (const auto& file : files) {
      if (!file.value.empty()) continue;
      return Problem{file.key, "'' is empty",
                     file.key == "security.authorized_keys" ? kKeyFolderAllowed : kKeyFileAllowed};
    }
  }

  if (t.bridge.block_timeout_ms * 2 >= t.queue.inflight_timeout_ms) {
    return OrderConflict({"bridge.block_timeout_ms", std::to_string(t.bridge.block_timeout_ms)},
                         "is not below half of",
                         {"queue.inflight_timeout_ms", std::to_string(t.queue.inflight_timeout_ms)},
                         "is not above twice", "bridge.block_timeout_ms < queue.inflight_timeout_ms / 2",
                         in_file);
  }
  if (t.ventilator.send_hwm < t.workers.credit) {
    return OrderConflict({"ventilator.send_hwm", std::to_string(t.ventilator.send_hwm)}, "is below",
                         {"workers.credit", std::to_string(t.workers.credit)}, "is above",
                         "ventilator.send_hwm >= workers.credit", in_file);
  }

  // Metrics ports: the head's roles share a host, and workers may share it too.
  const NamedValue metrics_ports[] = {{"metrics.bridge_port", std::to_string(t.metrics.bridge_port)},
                                      {"metrics.ventilator_port", std::to_string(t.metrics.ventilator_port)},
                                      {"metrics.sink_port", std::to_string(t.metrics.sink_port)}};
  for (size_t j = 0; j < std::size(metrics_ports); ++j) {
    const int port = std::stoi(metrics_ports[j].value);
    if (port == 0) continue;
    for (size_t i = 0; i < j; ++i) {
      if (metrics_ports[i].value == metrics_ports[j].value) {
        return Conflict(metrics_ports[i], metrics_ports[j], "is also", "a different port per role (or 0: off)",
                        in_file);
      }
    }
    if (t.metrics.worker_port != 0 && port >= t.metrics.worker_port &&
        port < t.metrics.worker_port + kWorkerMetricsPorts) {
      const std::string range = std::to_string(t.metrics.worker_port) + ".." +
                                std::to_string(t.metrics.worker_port + kWorkerMetricsPorts - 1);
      return Problem{metrics_ports[j].key,
                     "'" + metrics_ports[j].value + "' is in the workers' range " + range + " (metrics.worker_port)",
                     "a port outside " + range + ", or 0 (off)"};
    }
  }

  struct EndpointKeys {
    std::string bind_key;
    std::string connect_key;
    const Endpoint& endpoint;
  };
  const EndpointKeys endpoints[] = {
      {"ventilator.bind", "ventilator.connect", t.ventilator.workers},
      {"ventilator.intake_bind", "ventilator.intake_connect", t.ventilator.intake},
      {"ventilator.heartbeat_bind", "ventilator.heartbeat_connect", t.ventilator.heartbeat},
      {"ventilator.status_bind", "ventilator.status_connect", t.ventilator.status},
      {"sink.bind", "sink.connect", t.sink.results},
      {"sink.publish_bind", "sink.publish_connect", t.sink.publish},
      {"sink.status_bind", "sink.status_connect", t.sink.status},
  };
  for (const auto& e : endpoints) {
    const NamedValue bind{e.bind_key, e.endpoint.bind};
    const NamedValue connect{e.connect_key, e.endpoint.connect};
    if (bind.value.empty() != connect.value.empty()) {  // only the live feed may be off
      return Conflict(bind, connect, "does not pair with",
                      "both empty (no live feed) or both set", in_file);
    }
    if (bind.value.empty()) continue;
    EndpointParts bind_parts, connect_parts;
    SplitEndpoint(bind.value, &bind_parts);  // both passed the field rules
    SplitEndpoint(connect.value, &connect_parts);
    if (bind_parts.transport != connect_parts.transport) {
      return Conflict(bind, connect, "uses another transport than",
                      "one transport for " + bind.key + " and " + connect.key, in_file);
    }
    if (bind_parts.transport != "tcp" && bind.value != connect.value) {
      return Conflict(bind, connect, "is not the address of",
                      "for ipc and inproc, one endpoint for " + bind.key + " and " + connect.key,
                      in_file);
    }
  }

  for (size_t j = 1; j < std::size(endpoints); ++j) {
    for (size_t i = 0; i < j; ++i) {
      const NamedValue earlier_bind{endpoints[i].bind_key, endpoints[i].endpoint.bind};
      const NamedValue later_bind{endpoints[j].bind_key, endpoints[j].endpoint.bind};
      if (!earlier_bind.value.empty() && !later_bind.value.empty() &&
          BindsCollide(earlier_bind.value, later_bind.value)) {
        return Conflict(earlier_bind, later_bind, "collides with",
                        "an endpoint (a tcp port) that no other role binds", in_file);
      }
      const NamedValue earlier_connect{endpoints[i].connect_key, endpoints[i].endpoint.connect};
      const NamedValue later_connect{endpoints[j].connect_key, endpoints[j].endpoint.connect};
      if (!earlier_connect.value.empty() && earlier_connect.value == later_connect.value) {
        return Conflict(earlier_connect, later_connect, "is also",
                        "an endpoint that no other role connects to", in_file);
      }
    }
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------
// Reading YAML.

std::string Join(const std::string& section, std::string_view name) {
  return section.empty() ? std::string(name) : section + "." + std::string(name);
}

std::string Parent(const std::string& key) {
  const size_t dot = key.rfind('.');
  return dot == std::string::npos ? "" : key.substr(0, dot);
}

// The keys VisitFields() names and the sections ("queue", "queue.redis")
// that hold them.
class Schema {
 public:
  Schema() {
    const Topology defaults;
    VisitFields(defaults, *this);
  }

  bool IsLeaf(const std::string& key) const { return leaves_.contains(key); }
  bool IsSection(const std::string& key) const { return children_.contains(key) && !key.empty(); }
  // "kind, redis, input, output, dead_letter, shadow" for "queue".
  std::string Children(const std::string& section) const {
    std::string out;
    for (const auto& child : children_.at(section)) out += (out.empty() ? "" : ", ") + child;
    return out;
  }

  // The visitor interface, used by the constructor only.
  void Int(std::string_view key, int, IntRule) { Add(std::string(key)); }
  void Double(std::string_view key, double, DoubleRule) { Add(std::string(key)); }
  void String(std::string_view key, const std::string&, const StringRule&,
              Presence = Presence::kOptional) {
    Add(std::string(key));
  }
  template <typename E>
  void Enum(std::string_view key, E, std::span<const EnumName<E>>, Presence = Presence::kOptional) {
    Add(std::string(key));
  }

 private:
  void Add(const std::string& key) {
    leaves_.insert(key);
    // Registers `key` with its section and each section with its parent.
    for (std::string child = key; !child.empty(); child = Parent(child)) {
      auto& siblings = children_[Parent(child)];
      const std::string name = child.substr(child.rfind('.') + 1);
      bool known = false;
      for (const auto& sibling : siblings) known = known || sibling == name;
      if (!known) siblings.push_back(name);
    }
  }

  std::set<std::string> leaves_;
  std::map<std::string, std::vector<std::string>> children_;  // by section; "" is the top
};

// Lists the keys VisitFields() names, in its order, and the required ones.
class KeyLister {
 public:
  void Int(std::string_view key, int, IntRule) { keys.emplace_back(key); }
  void Double(std::string_view key, double, DoubleRule) { keys.emplace_back(key); }
  void String(std::string_view key, const std::string&, const StringRule&, Presence presence = Presence::kOptional) {
    Add(key, presence);
  }
  template <typename E>
  void Enum(std::string_view key, E, std::span<const EnumName<E>>, Presence presence = Presence::kOptional) {
    Add(key, presence);
  }

  std::vector<std::string> keys;
  std::vector<std::string> required;

 private:
  void Add(std::string_view key, Presence presence) {
    keys.emplace_back(key);
    if (presence == Presence::kRequired) required.emplace_back(key);
  }
};

// A place in a file, 0-based as yaml-cpp gives it.
std::string Place(const std::string& name, const YAML::Mark& mark) {
  if (mark.is_null()) return name;
  return name + ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1);
}

// How a node looks in a message: "'abc'", "a list", "a map".
std::string Describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Scalar:
      return "'" + node.Scalar() + "'";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a map";
    default:
      return "nothing";
  }
}

// "'abc' is not an integer", or "the value is missing" for `port:`.
std::string IsNot(const YAML::Node& node, std::string_view expected) {
  if (node.IsNull()) return "the value is missing";
  if (node.IsScalar() && node.Tag() == "!") {  // "!" marks a quoted scalar
    return "'" + node.Scalar() + "' is quoted, so a string, not " + std::string(expected);
  }
  return Describe(node) + " is not " + std::string(expected);
}

// Takes a stream's events and keeps only where the last document started.
class DocumentStart final : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark& mark) override { mark_ = mark; }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}

  const YAML::Mark& mark() const { return mark_; }

 private:
  YAML::Mark mark_;
};

// Where yaml-cpp's parser stops moving through `text`, if it does. A token
// that cannot start a value (a ',' where a document's value belongs) is read
// as an empty document and left unconsumed, so yaml-cpp 0.7's LoadAll()
// appends empty documents forever until memory runs out (upstream issue
// 1040). Walked with events only, which build no nodes; each document must
// start past the previous one. Throws YAML::Exception on syntax errors.
std::optional<YAML::Mark> FindStall(const std::string& text) {
  std::istringstream stream(text);
  YAML::Parser parser(stream);
  DocumentStart start;
  std::optional<int> previous_pos;
  while (parser.HandleNextDocument(start)) {
    if (previous_pos == start.mark().pos) return start.mark();
    previous_pos = start.mark().pos;
  }
  return std::nullopt;
}

// A key found in the file.
struct Entry {
  YAML::Node value;
  YAML::Mark mark;  // of the value, or of the key when the value is empty
};

// One load: walks the document against the schema, reads the values into a
// Topology and places every problem at its line.
class Loader {
 public:
  explicit Loader(std::string name, fs::path base_dir) : name_(std::move(name)), base_dir_(std::move(base_dir)) {}

  Result<Topology> Load(const std::string& text) {
    std::vector<YAML::Node> documents;
    try {
      if (auto stall = FindStall(text)) {
        const size_t pos = static_cast<size_t>(stall->pos);
        const char c = pos < text.size() ? text[pos] : '\0';
        const std::string token = c > ' ' && c < 0x7f ? "'" + std::string(1, c) + "'" : "character";
        return Status::Error(Place(name_, *stall) + ": syntax error: unexpected " + token);
      }
      documents = YAML::LoadAll(text);
    } catch (const YAML::Exception& e) {
      return Status::Error(Place(name_, e.mark) + ": syntax error: " + e.msg);
    }
    const std::string sections = "a map of " + schema_.Children("");
    if (documents.empty() || documents[0].IsNull()) {
      return Status::Error(Place(name_, YAML::Mark()) + ": the file is empty; allowed: " + sections);
    }
    if (documents.size() > 1) {
      return Status::Error(Place(name_, documents[1].Mark()) +
                           ": a second YAML document; allowed: one document");
    }
    const YAML::Node& root = documents[0];
    if (!root.IsMap()) {
      return Status::Error(Place(name_, root.Mark()) + ": " + Describe(root) +
                           " is not a map; allowed: " + sections);
    }
    if (Status status = Walk(root, ""); !status.ok()) return status;

    Topology topology;
    topology.source = name_;
    VisitFields(topology, *this);
    if (problem_) return At(*problem_);

    topology.model.path = Resolve(topology.model.path);
    topology.queue.redis.password_file = Resolve(topology.queue.redis.password_file);
    topology.model.features = Resolve(topology.model.features);
    topology.queue.journal_dir = Resolve(topology.queue.journal_dir);
    topology.security.secret_key = Resolve(topology.security.secret_key);
    topology.security.server_key = Resolve(topology.security.server_key);
    topology.security.authorized_keys = Resolve(topology.security.authorized_keys);
    topology.model.registry = Resolve(topology.model.registry);
    if (!entries_.contains("model.version") && topology.model.registry.empty()) {
      topology.model.version = fs::path(topology.model.path).stem().string();
    }
    if (topology.model.name.empty() && topology.model.registry.empty()) {
      topology.model.name = fs::path(topology.model.path).parent_path().filename().string();
    }
    const InFile in_file = [this](const std::string& key) { return entries_.contains(key); };
    if (auto problem = FindProblem(topology, in_file)) return At(*problem);
    return topology;
  }

  // The visitor interface: reads each key the file sets into its field.
  void Int(std::string_view key, int& value, IntRule rule) {
    const Entry* entry = Find(key);
    if (!entry) return;
    const YAML::Node& node = entry->value;
    long long number = 0;
    const std::string& text = node.Scalar();
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
    if (!IsPlainScalar(node) || text.empty() || end != text.data() + text.size() ||
        (ec != std::errc() && ec != std::errc::result_out_of_range)) {
      Fail(key, IsNot(node, "an integer"), Allowed(rule));
    } else if (ec != std::errc() || number < std::numeric_limits<int>::min() ||
               number > std::numeric_limits<int>::max()) {
      Fail(key, Describe(node) + " is out of range", Allowed(rule));
    } else {
      value = static_cast<int>(number);
    }
  }
  void Double(std::string_view key, double& value, DoubleRule rule) {
    const Entry* entry = Find(key);
    if (!entry) return;
    const YAML::Node& node = entry->value;
    double number = 0;
    const std::string& text = node.Scalar();
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
    if (!IsPlainScalar(node) || text.empty() || end != text.data() + text.size() ||
        ec != std::errc()) {
      Fail(key, IsNot(node, "a number"), Allowed(rule));
    } else {
      value = number;
    }
  }
  void String(std::string_view key, std::string& value, const StringRule& rule,
              Presence presence = Presence::kOptional) {
    const Entry* entry = Find(key);
    if (!entry) {
      const bool required = presence == Presence::kRequired ||
                            (presence == Presence::kRequiredWithoutRegistry && !entries_.contains("model.registry"));
      if (required) Fail(key, "required key is missing", rule.allowed);
      return;
    }
    if (!entry->value.IsScalar()) {
      Fail(key, IsNot(entry->value, "a string"), rule.allowed);
    } else {
      value = entry->value.Scalar();
    }
  }
  template <typename E>
  void Enum(std::string_view key, E& value, std::span<const EnumName<E>> names,
            Presence presence = Presence::kOptional) {
    const Entry* entry = Find(key);
    if (!entry) {
      if (presence == Presence::kRequired) Fail(key, "required key is missing", Allowed(names));
      return;
    }
    if (!entry->value.IsScalar()) {
      Fail(key, IsNot(entry->value, "a name"), Allowed(names));
      return;
    }
    for (const auto& name : names) {
      if (entry->value.Scalar() == name.name) {
        value = name.value;
        return;
      }
    }
    Fail(key, Describe(entry->value) + " is not supported", Allowed(names));
  }

 private:
  // Checks that `map` (the section `section`) holds only known keys, each
  // once, and that subsections are maps; records every key it finds.
  Status Walk(const YAML::Node& map, const std::string& section) {
    std::set<std::string> seen;
    for (const auto& item : map) {
      const YAML::Node& key_node = item.first;
      const YAML::Node& value = item.second;
      const std::string name = key_node.IsScalar() ? key_node.Scalar() : Describe(key_node);
      const std::string key = Join(section, name);
      if (!key_node.IsScalar() || (!schema_.IsLeaf(key) && !schema_.IsSection(key))) {
        return At(key_node.Mark(), Problem{key, "unknown key", schema_.Children(section)});
      }
      if (!seen.insert(name).second) {
        return At(key_node.Mark(), Problem{key, "duplicate key", "each key once"});
      }
      key_marks_[key] = key_node.Mark();
      if (schema_.IsLeaf(key)) {
        entries_[key] = Entry{value, value.IsNull() ? key_node.Mark() : value.Mark()};
        continue;
      }
      if (value.IsNull()) continue;  // an empty section: all defaults
      if (!value.IsMap()) {
        return At(value.Mark(), Problem{key, Describe(value) + " is not a map",
                                        "a map of " + schema_.Children(key)});
      }
      if (Status status = Walk(value, key); !status.ok()) return status;
    }
    return Status::Ok();
  }

  const Entry* Find(std::string_view key) const {
    if (problem_) return nullptr;  // report the first problem only
    auto it = entries_.find(std::string(key));
    return it == entries_.end() ? nullptr : &it->second;
  }

  static bool IsPlainScalar(const YAML::Node& node) {
    return node.IsScalar() && node.Tag() != "!";  // "!" marks a quoted scalar
  }

  void Fail(std::string_view key, std::string what, std::string allowed) {
    if (!problem_) problem_ = Problem{std::string(key), std::move(what), std::move(allowed)};
  }

  // A problem found after reading, placed at its key's value, else at the
  // nearest enclosing section the file has, else at the top of the file.
  Status At(const Problem& problem) const {
    if (auto it = entries_.find(problem.key); it != entries_.end()) return At(it->second.mark, problem);
    for (std::string section = Parent(problem.key); !section.empty(); section = Parent(section)) {
      if (auto it = key_marks_.find(section); it != key_marks_.end()) return At(it->second, problem);
    }
    return At(YAML::Mark(), problem);
  }
  Status At(const YAML::Mark& mark, const Problem& problem) const {
    return Status::Error(Place(name_, mark) + ": " + Format(problem));
  }

  // Absolute and normalised; relative paths start at the file's directory.
  std::string Resolve(const std::string& path) const {
    if (path.empty()) return path;
    const fs::path full = base_dir_ / fs::path(path);  // an absolute `path` replaces the base
    std::error_code error;
    const fs::path canonical = fs::weakly_canonical(full, error);
    return (error ? full.lexically_normal() : canonical).string();
  }

  const std::string name_;
  const fs::path base_dir_;
  const Schema schema_;
  std::map<std::string, Entry> entries_;         // leaf keys the file sets
  std::map<std::string, YAML::Mark> key_marks_;  // every key the file sets, at its key
  std::optional<Problem> problem_;               // the first problem while reading values
};

fs::path AbsoluteDir(const std::string& dir) {
  std::error_code error;
  fs::path absolute = dir.empty() ? fs::current_path(error) : fs::absolute(dir, error);
  return error ? fs::path(dir) : absolute;
}

}  // namespace

std::vector<std::string> TopologyKeys() {
  const Topology defaults;
  KeyLister lister;
  VisitFields(defaults, lister);
  return lister.keys;
}

std::vector<std::string> RequiredTopologyKeys() {
  const Topology defaults;
  KeyLister lister;
  VisitFields(defaults, lister);
  return lister.required;
}

Status ValidateTopology(const Topology& topology) {
  const auto problem = FindProblem(topology, [](const std::string&) { return false; });
  if (!problem) return Status::Ok();
  const std::string message = Format(*problem);
  return Status::Error(topology.source.empty() ? message : topology.source + ": " + message);
}

Result<Topology> LoadTopologyString(const std::string& text, const std::string& name,
                                    const std::string& base_dir) {
  if (text.size() > kMaxTopologyBytes) {
    const std::string limit = std::to_string(kMaxTopologyBytes) + " bytes";
    return Status::Error(name + ": the file is larger than " + limit + "; allowed: at most " + limit);
  }
  try {
    return Loader(name, AbsoluteDir(base_dir)).Load(text);
  } catch (const YAML::Exception& e) {  // not expected past parsing; kept at the boundary
    return Status::Error(Place(name, e.mark) + ": " + e.msg);
  }
}

Result<Topology> LoadTopologyFile(const std::string& path) {
  const auto fail = [&path](int error) {
    return Status::Error("cannot read topology '" + path + "': " +
                         std::generic_category().message(error));
  };
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!file) return fail(errno);
  std::string text;
  char buffer[4096];
  size_t n = 0;
  // One byte past the limit is enough to refuse the file (/dev/zero never ends).
  while (text.size() <= kMaxTopologyBytes && (n = std::fread(buffer, 1, sizeof buffer, file.get())) > 0) {
    text.append(buffer, n);
  }
  if (std::ferror(file.get())) return fail(errno);
  return LoadTopologyString(text, path, fs::path(path).parent_path().string());
}

}  // namespace scorepipe
