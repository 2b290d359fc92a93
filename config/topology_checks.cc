// The topology's checks (see topology_checks.h).
#include "config/topology_checks.h"

#include <iterator>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace scorepipe {
namespace topology_internal {
namespace {

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
    problem_ = Problem{std::string(key), std::to_string(static_cast<int>(value)) + " is not a known value",
                       Allowed(names)};
  }

  const std::optional<Problem>& problem() const { return problem_; }

 private:
  std::optional<Problem> problem_;
};

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
  return Problem{
      blamed.key,
      "'" + blamed.value + "' " + std::string(relation) + " " + other.key + " ('" + other.value + "')",
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
                 "'" + blamed.value + "' " + std::string(small_blamed ? small_relation : large_relation) +
                     " " + other.key + " ('" + other.value + "')",
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

// Either a model's files or a registry model, not both.
std::optional<Problem> FindModelProblem(const ModelConfig& m, const InFile& in_file) {
  if (m.registry.empty()) {
    if (m.path.empty()) return Problem{"model.path", "'' is empty", kModelFileRule.allowed};
    if (m.features.empty()) return Problem{"model.features", "'' is empty", kModelFileRule.allowed};
    return std::nullopt;
  }
  if (m.name.empty()) {
    return Problem{"model.name", "'' is empty",
                   "the model's name in model.registry; required with model.registry"};
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

}  // namespace

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
    return OrderConflict(
        {"bridge.block_timeout_ms", std::to_string(t.bridge.block_timeout_ms)}, "is not below half of",
        {"queue.inflight_timeout_ms", std::to_string(t.queue.inflight_timeout_ms)}, "is not above twice",
        "bridge.block_timeout_ms < queue.inflight_timeout_ms / 2", in_file);
  }
  if (t.ventilator.send_hwm < t.workers.credit) {
    return OrderConflict({"ventilator.send_hwm", std::to_string(t.ventilator.send_hwm)}, "is below",
                         {"workers.credit", std::to_string(t.workers.credit)}, "is above",
                         "ventilator.send_hwm >= workers.credit", in_file);
  }

  // Metrics ports: the head's roles share a host, and workers may share it too.
  const NamedValue metrics_ports[] = {{"metrics.bridge_port", std::to_string(t.metrics.bridge_port)},
                                      {"metrics.ventilator_port", std::to_string(t.metrics.ventilator_port)},
                                      {"metrics.sink_port", std::to_string(t.metrics.sink_port)},
                                      {"metrics.gateway_port", std::to_string(t.metrics.gateway_port)}};
  for (size_t j = 0; j < std::size(metrics_ports); ++j) {
    const int port = std::stoi(metrics_ports[j].value);
    if (port == 0) continue;
    for (size_t i = 0; i < j; ++i) {
      if (metrics_ports[i].value == metrics_ports[j].value) {
        return Conflict(metrics_ports[i], metrics_ports[j], "is also",
                        "a different port per role (or 0: off)", in_file);
      }
    }
    if (t.metrics.worker_port != 0 && port >= t.metrics.worker_port &&
        port < t.metrics.worker_port + kWorkerMetricsPorts) {
      const std::string range = std::to_string(t.metrics.worker_port) + ".." +
                                std::to_string(t.metrics.worker_port + kWorkerMetricsPorts - 1);
      return Problem{
          metrics_ports[j].key,
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
      {"ventilator.gateway_bind", "ventilator.gateway_connect", t.ventilator.gateways},
      {"sink.bind", "sink.connect", t.sink.results},
      {"sink.publish_bind", "sink.publish_connect", t.sink.publish},
      {"sink.status_bind", "sink.status_connect", t.sink.status},
  };
  for (const auto& e : endpoints) {
    const NamedValue bind{e.bind_key, e.endpoint.bind};
    const NamedValue connect{e.connect_key, e.endpoint.connect};
    if (bind.value.empty() != connect.value.empty()) {  // only the live feed may be off
      return Conflict(bind, connect, "does not pair with", "both empty (no live feed) or both set", in_file);
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
                      "for ipc and inproc, one endpoint for " + bind.key + " and " + connect.key, in_file);
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

}  // namespace topology_internal

Status ValidateTopology(const Topology& topology) {
  const auto problem = topology_internal::FindProblem(topology, [](const std::string&) { return false; });
  if (!problem) return Status::Ok();
  const std::string message = topology_internal::Format(*problem);
  return Status::Error(topology.source.empty() ? message : topology.source + ": " + message);
}

}  // namespace scorepipe
