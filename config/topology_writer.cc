#include "config/topology_writer.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <string_view>
#include <vector>

namespace scorepipe {

const char* ModelFormatName(ModelFormat format) {
  switch (format) {
    case ModelFormat::kXgboost:
      return "xgboost";
    case ModelFormat::kLinear:
      return "linear";
  }
  return "?";
}

const char* ModelFieldsName(ModelFields fields) {
  return fields == ModelFields::kInclude ? "include" : "omit";
}

const char* SecurityModeName(SecurityMode mode) { return mode == SecurityMode::kCurve ? "curve" : "none"; }

const char* QueueKindName(QueueKind kind) {
  switch (kind) {
    case QueueKind::kRedisList:
      return "redis-list";
    case QueueKind::kRedisStream:
      return "redis-stream";
    case QueueKind::kHttpMq:
      return "http-mq";
  }
  return "?";
}

std::string TopologyToYaml(const Topology& t) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  out << YAML::Key << "queue" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "kind" << YAML::Value << QueueKindName(t.queue.kind);
  out << YAML::Key << "redis" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "host" << YAML::Value << t.queue.redis.host;
  out << YAML::Key << "port" << YAML::Value << t.queue.redis.port;
  out << YAML::Key << "db" << YAML::Value << t.queue.redis.db;
  out << YAML::Key << "connect_timeout_ms" << YAML::Value << t.queue.redis.connect_timeout_ms;
  out << YAML::Key << "user" << YAML::Value << t.queue.redis.user;
  out << YAML::Key << "password_file" << YAML::Value << t.queue.redis.password_file;
  out << YAML::Key << "password_env" << YAML::Value << t.queue.redis.password_env;
  out << YAML::EndMap;
  out << YAML::Key << "input" << YAML::Value << t.queue.input;
  out << YAML::Key << "output" << YAML::Value << t.queue.output;
  out << YAML::Key << "dead_letter" << YAML::Value << t.queue.dead_letter;
  out << YAML::Key << "shadow" << YAML::Value << t.queue.shadow;
  out << YAML::Key << "group" << YAML::Value << t.queue.group;
  out << YAML::Key << "stream_field" << YAML::Value << t.queue.stream_field;
  out << YAML::Key << "inflight_timeout_ms" << YAML::Value << t.queue.inflight_timeout_ms;
  out << YAML::Key << "max_deliveries" << YAML::Value << t.queue.max_deliveries;
  out << YAML::Key << "url" << YAML::Value << t.queue.url;
  out << YAML::Key << "journal_dir" << YAML::Value << t.queue.journal_dir;
  out << YAML::Key << "pull_wait_ms" << YAML::Value << t.queue.pull_wait_ms;
  out << YAML::Key << "http_timeout_ms" << YAML::Value << t.queue.http_timeout_ms;
  out << YAML::Key << "push_retry_ms" << YAML::Value << t.queue.push_retry_ms;
  out << YAML::EndMap;

  out << YAML::Key << "bridge" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "batch_size" << YAML::Value << t.bridge.batch_size;
  out << YAML::Key << "linger_ms" << YAML::Value << t.bridge.linger_ms;
  out << YAML::Key << "block_timeout_ms" << YAML::Value << t.bridge.block_timeout_ms;
  out << YAML::Key << "max_message_bytes" << YAML::Value << t.bridge.max_message_bytes;
  out << YAML::EndMap;

  out << YAML::Key << "ventilator" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "bind" << YAML::Value << t.ventilator.workers.bind;
  out << YAML::Key << "connect" << YAML::Value << t.ventilator.workers.connect;
  out << YAML::Key << "intake_bind" << YAML::Value << t.ventilator.intake.bind;
  out << YAML::Key << "intake_connect" << YAML::Value << t.ventilator.intake.connect;
  out << YAML::Key << "heartbeat_bind" << YAML::Value << t.ventilator.heartbeat.bind;
  out << YAML::Key << "heartbeat_connect" << YAML::Value << t.ventilator.heartbeat.connect;
  out << YAML::Key << "status_bind" << YAML::Value << t.ventilator.status.bind;
  out << YAML::Key << "status_connect" << YAML::Value << t.ventilator.status.connect;
  out << YAML::Key << "gateway_bind" << YAML::Value << t.ventilator.gateways.bind;
  out << YAML::Key << "gateway_connect" << YAML::Value << t.ventilator.gateways.connect;
  out << YAML::Key << "send_hwm" << YAML::Value << t.ventilator.send_hwm;
  out << YAML::Key << "batch_timeout_ms" << YAML::Value << t.ventilator.batch_timeout_ms;
  out << YAML::EndMap;

  out << YAML::Key << "heartbeat" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "interval_ms" << YAML::Value << t.heartbeat.interval_ms;
  out << YAML::Key << "liveness" << YAML::Value << t.heartbeat.liveness;
  out << YAML::EndMap;

  out << YAML::Key << "sink" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "bind" << YAML::Value << t.sink.results.bind;
  out << YAML::Key << "connect" << YAML::Value << t.sink.results.connect;
  out << YAML::Key << "publish_bind" << YAML::Value << t.sink.publish.bind;
  out << YAML::Key << "publish_connect" << YAML::Value << t.sink.publish.connect;
  out << YAML::Key << "status_bind" << YAML::Value << t.sink.status.bind;
  out << YAML::Key << "status_connect" << YAML::Value << t.sink.status.connect;
  out << YAML::Key << "model_fields" << YAML::Value << ModelFieldsName(t.sink.model_fields);
  out << YAML::EndMap;

  out << YAML::Key << "workers" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "count" << YAML::Value << t.workers.count;
  out << YAML::Key << "credit" << YAML::Value << t.workers.credit;
  out << YAML::EndMap;

  const GatewayConfig& g = t.gateway;
  out << YAML::Key << "gateway" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "address" << YAML::Value << g.address;
  out << YAML::Key << "port" << YAML::Value << g.port;
  out << YAML::Key << "threads" << YAML::Value << g.threads;
  out << YAML::Key << "max_batch_size" << YAML::Value << g.max_batch_size;
  out << YAML::Key << "max_queue_delay_us" << YAML::Value << g.max_queue_delay_us;
  out << YAML::Key << "request_timeout_ms" << YAML::Value << g.request_timeout_ms;
  out << YAML::Key << "max_request_items" << YAML::Value << g.max_request_items;
  out << YAML::Key << "max_body_bytes" << YAML::Value << g.max_body_bytes;
  out << YAML::Key << "max_header_bytes" << YAML::Value << g.max_header_bytes;
  out << YAML::Key << "read_timeout_ms" << YAML::Value << g.read_timeout_ms;
  out << YAML::Key << "idle_timeout_ms" << YAML::Value << g.idle_timeout_ms;
  out << YAML::Key << "max_connections" << YAML::Value << g.max_connections;
  out << YAML::Key << "max_concurrent_requests" << YAML::Value << g.max_concurrent_requests;
  out << YAML::Key << "security" << YAML::Value << (g.security == GatewaySecurity::kTls ? "tls" : "none");
  out << YAML::Key << "tls_cert_file" << YAML::Value << g.tls_cert_file;
  out << YAML::Key << "tls_key_file" << YAML::Value << g.tls_key_file;
  out << YAML::Key << "tokens_file" << YAML::Value << g.tokens_file;
  out << YAML::Key << "admin_tokens_file" << YAML::Value << g.admin_tokens_file;
  out << YAML::Key << "task_ttl_s" << YAML::Value << g.task_ttl_s;
  out << YAML::EndMap;

  out << YAML::Key << "model" << YAML::Value << YAML::BeginMap;
  if (t.model.registry.empty()) {  // the files of one model
    out << YAML::Key << "path" << YAML::Value << t.model.path;
    out << YAML::Key << "format" << YAML::Value << ModelFormatName(t.model.format);
    out << YAML::Key << "features" << YAML::Value << t.model.features;
  }
  out << YAML::Key << "threshold" << YAML::Value << t.model.threshold;
  if (t.model.registry.empty()) {
    out << YAML::Key << "version" << YAML::Value << t.model.version;
  } else {  // the registry's live version, followed
    out << YAML::Key << "registry" << YAML::Value << t.model.registry;
  }
  out << YAML::Key << "name" << YAML::Value << t.model.name;
  out << YAML::Key << "watch_ms" << YAML::Value << t.model.watch_ms;
  out << YAML::EndMap;

  out << YAML::Key << "metrics" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "address" << YAML::Value << t.metrics.address;
  out << YAML::Key << "bridge_port" << YAML::Value << t.metrics.bridge_port;
  out << YAML::Key << "ventilator_port" << YAML::Value << t.metrics.ventilator_port;
  out << YAML::Key << "sink_port" << YAML::Value << t.metrics.sink_port;
  out << YAML::Key << "worker_port" << YAML::Value << t.metrics.worker_port;
  out << YAML::Key << "gateway_port" << YAML::Value << t.metrics.gateway_port;
  out << YAML::EndMap;

  out << YAML::Key << "logging" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "level" << YAML::Value << t.logging.level;
  out << YAML::Key << "format" << YAML::Value << (t.logging.format == LogFormat::kJson ? "json" : "text");
  out << YAML::EndMap;

  out << YAML::Key << "security" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "mode" << YAML::Value << SecurityModeName(t.security.mode);
  out << YAML::Key << "secret_key" << YAML::Value << t.security.secret_key;
  out << YAML::Key << "server_key" << YAML::Value << t.security.server_key;
  out << YAML::Key << "authorized_keys" << YAML::Value << t.security.authorized_keys;
  out << YAML::EndMap;
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

namespace {

// Where the scalar that starts at `begin` of `line` ends: after its closing
// quote when quoted, else before a comment, a flow separator or trailing
// blanks.
size_t ScalarEnd(std::string_view line, size_t begin) {
  const char first = line[begin];
  if (first == '"' || first == '\'') {
    for (size_t i = begin + 1; i < line.size(); ++i) {
      if (first == '"' && line[i] == '\\') {
        ++i;
      } else if (line[i] == first) {
        if (first == '\'' && i + 1 < line.size() && line[i + 1] == '\'') {
          ++i;  // '' is a quote inside single quotes
        } else {
          return i + 1;
        }
      }
    }
    return std::string_view::npos;
  }
  size_t end = begin;
  while (end < line.size()) {
    const char c = line[end];
    if (c == ',' || c == '}' || c == ']') break;
    if (c == '#' && end > begin && (line[end - 1] == ' ' || line[end - 1] == '\t')) break;
    ++end;
  }
  while (end > begin && (line[end - 1] == ' ' || line[end - 1] == '\t')) --end;
  return end;
}

// `value` as a YAML scalar: plain when nothing in it means something to
// YAML, else double-quoted.
std::string YamlScalar(const std::string& value) {
  bool plain = !value.empty();
  for (char c : value) {
    const bool safe = std::isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '.' || c == '_' ||
                      c == '-' || c == '+' || c == '@' || c == '=';
    plain = plain && safe;
  }
  if (plain && value[0] != '-' && value[0] != '@') return value;
  std::string quoted = "\"";
  for (char c : value) {
    if (c == '"' || c == '\\') quoted += '\\';
    quoted += c;
  }
  return quoted + "\"";
}

}  // namespace

Result<std::string> RewriteTopologyValues(const std::string& text, const Topology& loaded,
                                          const std::map<std::string, std::string>& values) {
  // Line starts, so that a (line, column) is an offset into `text`.
  std::vector<size_t> starts = {0};
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n') starts.push_back(i + 1);
  }
  struct Edit {
    size_t begin;
    size_t end;
    std::string value;
  };
  std::vector<Edit> edits;
  for (const auto& [key, value] : values) {
    auto spot = loaded.spots.find(key);
    if (spot == loaded.spots.end())
      return Status::Error(key + " is not set in the file, so it cannot be rewritten");
    const size_t line_index = static_cast<size_t>(spot->second.line - 1);
    if (line_index >= starts.size())
      return Status::Error(key + ": line " + std::to_string(spot->second.line) + " is past the end");
    const size_t line_start = starts[line_index];
    const size_t line_end = std::min(text.find('\n', line_start), text.size());
    const std::string_view line(text.data() + line_start, line_end - line_start);
    const auto column = static_cast<size_t>(spot->second.column);
    if (column >= line.size() || line[column] == ' ' || line[column] == '#') {
      return Status::Error(key + ": no value at line " + std::to_string(spot->second.line) + " column " +
                           std::to_string(column + 1));
    }
    const size_t end = ScalarEnd(line, column);
    if (end == std::string_view::npos || end <= column) {
      return Status::Error(key + ": the value at line " + std::to_string(spot->second.line) + " has no end");
    }
    edits.push_back({line_start + column, line_start + end, YamlScalar(value)});
  }
  std::sort(edits.begin(), edits.end(), [](const Edit& a, const Edit& b) { return a.begin > b.begin; });
  std::string out = text;
  for (const Edit& edit : edits) out.replace(edit.begin, edit.end - edit.begin, edit.value);
  return out;
}

}  // namespace scorepipe
