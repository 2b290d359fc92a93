#include "cli/status_command.h"

#include <httplib.h>
#include <simdjson.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <ctime>
#include <memory>
#include <type_traits>
#include <variant>

#include "config/topology.h"
#include "proto/json_writer.h"
#include "proto/text.h"
#include "proto/upstream_json.h"
#include "runtime/node.h"
#include "runtime/request.h"

namespace scorepipe {
namespace {

using Clock = std::chrono::steady_clock;

int64_t Rounded(double value) { return static_cast<int64_t>(value + (value < 0 ? -0.5 : 0.5)); }

std::string Uptime(double seconds) {
  const int64_t s = std::max<int64_t>(0, static_cast<int64_t>(seconds));
  char buffer[48];
  if (s < 60) {
    std::snprintf(buffer, sizeof buffer, "%" PRId64 "s", s);
  } else if (s < 3600) {
    std::snprintf(buffer, sizeof buffer, "%" PRId64 "m %02" PRId64 "s", s / 60, s % 60);
  } else if (s < 86400) {
    std::snprintf(buffer, sizeof buffer, "%" PRId64 "h %02" PRId64 "m", s / 3600, s / 60 % 60);
  } else {
    std::snprintf(buffer, sizeof buffer, "%" PRId64 "d %02" PRId64 "h", s / 86400, s / 3600 % 24);
  }
  return buffer;
}

// Columns padded to their widest cell; `right[i]` aligns column i right.
std::string Columns(const std::vector<std::vector<std::string>>& rows, const std::vector<bool>& right) {
  std::vector<size_t> width(right.size(), 0);
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size() && i < width.size(); ++i) width[i] = std::max(width[i], row[i].size());
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size() && i < width.size(); ++i) {
      if (i > 0) line += "  ";
      const std::string padding(width[i] - row[i].size(), ' ');
      line += right[i] ? padding + row[i] : row[i] + padding;
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

std::string LocalTime() {
  const std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%H:%M:%S", &local);
  return buffer;
}

// A blank line and one row per gateway process; nothing when none is linked
// (most clusters run none).
std::string GatewayRows(const StatusSnapshot& snapshot) {
  if (snapshot.gateways.empty()) return "";
  std::vector<std::vector<std::string>> rows = {
      {"GATEWAY", "HOST", "PID", "LINKS", "HEARTBEAT", "IN FLIGHT", "ANSWERED"}};
  for (const GatewaySnapshot& g : snapshot.gateways) {
    rows.push_back({Printable(g.id), Printable(g.host), std::to_string(g.pid), std::to_string(g.links),
                    WithThousands(g.last_heartbeat_ms) + " ms ago", WithThousands(g.in_flight_batches),
                    WithThousands(g.batches_answered)});
  }
  return "\n" + Columns(rows, {false, false, true, true, true, true, true});
}

}  // namespace

std::string FormatStatusTable(const StatusReport& report) {
  std::string out;
  char line[512];
  if (report.snapshot) {
    const VentilatorSnapshot& v = report.snapshot->ventilator;
    std::snprintf(line, sizeof line,
                  "ventilator  %s pid %" PRId64 ", up %s, %" PRId64 " live worker%s, %s tx/s\n",
                  Printable(v.host).c_str(), v.pid, Uptime(v.uptime_s).c_str(), v.live_workers,
                  v.live_workers == 1 ? "" : "s", WithThousands(Rounded(v.transactions_per_second)).c_str());
    out += line;
    std::snprintf(
        line, sizeof line,
        "batches     %s queued, %s in flight, %s re-dispatched, %s overdue; workers joined %s, lost %s\n",
        WithThousands(v.queued_batches).c_str(), WithThousands(v.in_flight_batches).c_str(),
        WithThousands(v.redispatched).c_str(), WithThousands(v.overdue).c_str(),
        WithThousands(v.workers_joined).c_str(), WithThousands(v.workers_lost).c_str());
    out += line;
  } else {
    out += "ventilator  " + report.ventilator_error + "\n";
  }
  for (const HeadNodeHealth& node : report.head) {
    std::string state;
    if (node.url.empty()) {
      state = "no health endpoint (metrics." + node.role + "_port is 0)";
    } else if (node.http_status == 200) {
      state = "ready: " + Printable(node.reason, 300);
    } else if (node.http_status == 0) {
      state = "(!) no answer at " + node.url + ": " + Printable(node.reason, 300);
    } else {
      state = "(!) not ready: " + Printable(node.reason, 400);
    }
    out += node.role + std::string(node.role.size() < 12 ? 12 - node.role.size() : 1, ' ') + state + "\n";
  }
  const std::string where = report.queue_description.empty() ? "" : "  (" + report.queue_description + ")";
  if (report.depth) {
    // A negative count: the queue cannot tell (http-mq has no length to ask).
    const std::string waiting = report.depth->waiting < 0 ? "unknown" : WithThousands(report.depth->waiting);
    out += "queue       " + waiting + " waiting, " + WithThousands(report.depth->in_flight) + " in flight" +
           where + "\n";
  } else {
    out += "queue       unreachable: " + report.queue_error + where + "\n";
  }
  if (!report.snapshot) return out;

  out += "\n";
  if (report.snapshot->workers.empty()) return out + "no workers connected\n" + GatewayRows(*report.snapshot);
  std::vector<std::vector<std::string>> rows = {
      {"WORKER", "HOST", "PID", "STATE", "MODEL", "HEARTBEAT", "IN FLIGHT", "SCORED TX", "TX/S"}};
  std::string failures;
  for (const WorkerSnapshot& w : report.snapshot->workers) {
    std::string model =
        Printable(w.model, 40) + (w.model.empty() ? "" : " ") + Printable(w.model_version, 40);
    if (!w.shadow_version.empty()) model += " +shadow " + Printable(w.shadow_version, 40);
    if (!w.model_error.empty()) {
      model += " (!)";
      failures += "(!) " + Printable(w.id) + " keeps " + Printable(w.model_version, 40) +
                  ": the live version did not load: " + Printable(w.model_error, 300) + "\n";
    }
    if (!w.link_error.empty()) {
      failures += "(!) " + Printable(w.id) +
                  " cannot deliver, so it takes no work: " + Printable(w.link_error, 400) + "\n";
    }
    rows.push_back({Printable(w.id), Printable(w.host), std::to_string(w.pid), Printable(w.state),
                    model.empty() ? "-" : model, WithThousands(w.last_heartbeat_ms) + " ms ago",
                    std::to_string(w.in_flight_batches), WithThousands(w.transactions_scored),
                    WithThousands(Rounded(w.transactions_per_second))});
  }
  return out + Columns(rows, {false, false, true, false, false, true, true, true, true}) + failures +
         GatewayRows(*report.snapshot);
}

std::string FormatStatusJson(const StatusReport& report) {
  std::string out;
  JsonWriter json(&out);
  json.BeginObject().Key("ventilator");
  if (report.snapshot) {
    WriteSnapshotJson(report.snapshot->ventilator, json);
  } else {
    json.Null();
  }
  json.Key("workers").BeginArray();
  if (report.snapshot) {
    for (const WorkerSnapshot& w : report.snapshot->workers) WriteSnapshotJson(w, json);
  }
  json.EndArray();
  json.Key("gateways").BeginArray();
  if (report.snapshot) {
    for (const GatewaySnapshot& g : report.snapshot->gateways) WriteSnapshotJson(g, json);
  }
  json.EndArray();
  json.Key("head").BeginArray();
  for (const HeadNodeHealth& node : report.head) {
    json.BeginObject().Field("role", node.role).Field("url", node.url).Key("ready");
    if (node.http_status == 0) {
      json.Null();
    } else {
      json.Bool(node.http_status == 200);
    }
    json.Field("reason", node.reason).EndObject();
  }
  json.EndArray();
  json.Key("queue").BeginObject().Field("description", report.queue_description).Key("waiting");
  if (report.depth && report.depth->waiting >= 0) {
    json.Int(report.depth->waiting);
  } else {
    json.Null();
  }
  json.Key("in_flight");
  if (report.depth) {
    json.Int(report.depth->in_flight);
  } else {
    json.Null();
  }
  json.EndObject();
  json.Key("errors").BeginArray();
  for (const std::string* error : {&report.ventilator_error, &report.queue_error}) {
    if (!error->empty()) json.String(*error);
  }
  for (const std::string& problem : report.HeadProblems()) json.String(problem);
  json.EndArray().EndObject();
  return out;
}

Result<std::string> QueryVentilator(zmq::context_t& context, const std::string& endpoint,
                                    std::chrono::milliseconds timeout, const LinkSecurity& security) {
  return AskOnce(context, endpoint, "status", timeout, security, "the ventilator");
}

HeadNodeHealth ProbeHeadNode(const std::string& role, const std::string& host, int port,
                             std::chrono::milliseconds timeout) {
  HeadNodeHealth health;
  health.role = role;
  if (port == 0) return health;
  const std::string host_in_url = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  health.url = "http://" + host_in_url + ":" + std::to_string(port) + "/readyz";
  httplib::Client client(host, port);
  const auto seconds = static_cast<time_t>(timeout.count() / 1000);
  const auto micros = static_cast<time_t>((timeout.count() % 1000) * 1000);
  client.set_connection_timeout(seconds, micros);
  client.set_read_timeout(seconds, micros);
  httplib::Result reply = client.Get("/readyz");
  if (!reply) {
    health.reason = httplib::to_string(reply.error());
    return health;
  }
  health.http_status = reply->status;
  health.reason = reply->body;
  for (std::string_view prefix : {"ok: ", "not ok: "}) {
    if (health.reason.starts_with(prefix)) health.reason.erase(0, prefix.size());
  }
  while (!health.reason.empty() && health.reason.back() == '\n') health.reason.pop_back();
  return health;
}

std::vector<std::string> StatusReport::HeadProblems() const {
  std::vector<std::string> problems;
  for (const HeadNodeHealth& node : head) {
    if (node.url.empty() || node.http_status == 200) continue;
    problems.push_back(node.http_status == 0
                           ? "the " + node.role + " did not answer at " + node.url + ": " + node.reason
                           : "the " + node.role + " is not ready: " + node.reason);
  }
  return problems;
}

std::string HeadMetricsHost(const Topology& topology) {
  const std::string& address = topology.metrics.address;
  if (!address.empty() && address != "0.0.0.0" && address != "::" && address != "*") return address;
  // tcp://HOST:PORT (HOST may be [v6]); anything else is this host.
  const std::string& connect = topology.ventilator.status.connect;
  constexpr std::string_view kTcp = "tcp://";
  const size_t colon = connect.rfind(':');
  if (connect.starts_with(kTcp) && colon > kTcp.size()) {
    std::string host = connect.substr(kTcp.size(), colon - kTcp.size());
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    if (host != "*") return host;
  }
  return "127.0.0.1";
}

StatusReport CollectStatus(zmq::context_t& context, const std::string& endpoint,
                           std::chrono::milliseconds timeout, Queue* queue, const LinkSecurity& security) {
  StatusReport report;
  report.ventilator_endpoint = endpoint;
  Result<std::string> reply = QueryVentilator(context, endpoint, timeout, security);
  if (!reply.ok()) {
    report.ventilator_error = reply.status().message();
  } else if (Result<StatusSnapshot> parsed = ParseStatusJson(reply.value()); !parsed.ok()) {
    report.ventilator_error = "the ventilator at " + endpoint +
                              " answered with a status it does not understand: " + parsed.status().message();
  } else {
    report.snapshot = std::move(parsed.value());
  }
  if (queue != nullptr) {
    report.queue_description = queue->Describe();
    if (Result<QueueDepth> depth = queue->Depth(); depth.ok()) {
      report.depth = depth.value();
    } else {
      report.queue_error = depth.status().message();
    }
  }
  return report;
}

int RunStatus(const StatusOptions& options) {
  Result<Topology> topology = LoadTopologyFile(options.config_path);
  if (!topology.ok()) {
    std::fprintf(stderr, "scorepipe status: %s\n", topology.status().message().c_str());
    return 2;
  }
  // An unreachable Redis should not keep a status query waiting longer than
  // an unreachable ventilator does.
  QueueConfig queue_config = topology->queue;
  queue_config.redis.connect_timeout_ms = std::min(queue_config.redis.connect_timeout_ms, options.timeout_ms);
  std::unique_ptr<Queue> queue;
  std::string queue_error;
  if (Result<std::unique_ptr<Queue>> opened = OpenQueue(queue_config); opened.ok()) {
    queue = std::move(opened.value());
  } else {
    queue_error = opened.status().message();
  }

  Result<LinkSecurity> security = LinkSecurity::Load(topology->security);
  if (!security.ok()) {
    std::fprintf(stderr, "scorepipe status: %s\n", security.status().message().c_str());
    return 2;
  }
  if (options.watch) InstallStopSignalHandlers();
  const bool terminal = isatty(STDOUT_FILENO) == 1;
  const std::string& endpoint = topology->ventilator.status.connect;
  zmq::context_t context;
  int code = 0;
  do {
    const auto started = Clock::now();
    StatusReport report = CollectStatus(context, endpoint, std::chrono::milliseconds(options.timeout_ms),
                                        queue.get(), *security);
    const std::string head_host = HeadMetricsHost(*topology);
    report.head = {ProbeHeadNode("bridge", head_host, topology->metrics.bridge_port,
                                 std::chrono::milliseconds(options.timeout_ms)),
                   ProbeHeadNode("sink", head_host, topology->metrics.sink_port,
                                 std::chrono::milliseconds(options.timeout_ms))};
    if (!queue) report.queue_error = queue_error;
    if (StopRequested()) break;  // Ctrl-C while waiting: the last screen stays
    code = report.ok() ? 0 : 1;
    if (options.json) {
      std::printf("%s\n", FormatStatusJson(report).c_str());
      if (!options.watch) {
        for (const std::string* e : {&report.ventilator_error, &report.queue_error}) {
          if (!e->empty()) std::fprintf(stderr, "scorepipe status: %s\n", e->c_str());
        }
        for (const std::string& problem : report.HeadProblems()) {
          std::fprintf(stderr, "scorepipe status: %s\n", problem.c_str());
        }
      }
    } else {
      if (options.watch) {
        if (terminal) std::printf("\033[H\033[2J");
        std::printf("scorepipe status  %s  every 1 s, Ctrl-C to stop\n", LocalTime().c_str());
      }
      std::printf("%s", FormatStatusTable(report).c_str());
      if (options.watch && !terminal) std::printf("\n");
    }
    std::fflush(stdout);
    if (!options.watch) break;
    const auto spent = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
    SleepUnlessStopped(static_cast<int>(std::max<int64_t>(0, 1000 - spent.count())));
  } while (!StopRequested());
  return code;
}

Command AddStatusCommand(CLI::App& app) {
  auto options = std::make_shared<StatusOptions>();
  CLI::App* status =
      app.add_subcommand("status", "show the ventilator, its workers and the queue's backlog, on one screen");
  status
      ->add_option("-c,--config", options->config_path,
                   "topology YAML (ventilator.status_connect and queue: say where to ask)")
      ->required()
      ->check(CLI::ExistingFile);
  status->add_option("--timeout-ms", options->timeout_ms, "wait this long for the ventilator's answer")
      ->capture_default_str()
      ->check(CLI::Range(1, 600000));
  status->add_flag("--json", options->json,
                   "print one JSON object (ventilator, workers, queue, errors) instead of the table");
  status->add_flag("--watch", options->watch,
                   "refresh every second until Ctrl-C (with --json: one object per line)");
  status->footer(
      "The first lines are the ventilator (host, pid, uptime, live workers, cluster throughput),\n"
      "its batches (queued, in flight, re-dispatched after a worker died or ran over time,\n"
      "workers lost) and the queue (messages waiting, messages in flight under a lease;\n"
      "http-mq cannot tell how many wait: 'unknown', and in flight is its lease journal);\n"
      "then one row per worker: id, host, pid, state, time since its last heartbeat,\n"
      "batches in flight, transactions scored and its rate; then one row per gateway linked\n"
      "to the ventilator: id, host, pid, links (one per event-loop thread), time since it was\n"
      "last heard, online batches in flight and answered.\n"
      "Exit code: 0 both answered, 1 the ventilator did not answer within --timeout-ms or\n"
      "the queue is unreachable (what is known is still printed), 2 bad usage or a topology\n"
      "that does not load.");
  return {status, [options] { return RunStatus(*options); }};
}

}  // namespace scorepipe
