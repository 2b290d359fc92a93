#include "cli/status.h"

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

#include "cli/request.h"
#include "config/topology.h"
#include "proto/node.h"
#include "proto/upstream_json.h"

namespace scorepipe {
namespace {

using Clock = std::chrono::steady_clock;

// `text` with control characters (a terminal would act on them) as '?',
// cut to `max` bytes with "..." after.
std::string Printable(std::string_view text, size_t max = std::string_view::npos) {
  std::string out;
  for (char c : text.substr(0, max)) out.push_back((c >= 0 && c < 0x20) || c == 0x7f ? '?' : c);
  if (text.size() > max) out += "...";
  return out;
}

// Enough of a reply to recognise it in an error message.
std::string Excerpt(std::string_view text) { return Printable(text, 120); }

// The fields of a snapshot struct, in the ventilator's order: one list serves
// both reading its JSON and writing ours, so the two cannot drift apart.
template <typename Struct>
struct Field {
  const char* key;
  std::variant<std::string Struct::*, int64_t Struct::*, double Struct::*> member;
  bool optional = false;  // a ventilator from before the field leaves it out
};

const std::vector<Field<VentilatorSnapshot>>& VentilatorFields() {
  using V = VentilatorSnapshot;
  static const std::vector<Field<V>> fields = {
      {"host", &V::host},
      {"pid", &V::pid},
      {"uptime_s", &V::uptime_s},
      {"live_workers", &V::live_workers},
      {"queued_batches", &V::queued_batches},
      {"in_flight_batches", &V::in_flight_batches},
      {"batches_received", &V::batches_received},
      {"batches_sent", &V::batches_sent},
      {"batches_done", &V::batches_done},
      {"redispatched", &V::redispatched},
      {"overdue", &V::overdue},
      {"workers_joined", &V::workers_joined},
      {"workers_lost", &V::workers_lost},
      {"transactions_per_second", &V::transactions_per_second},
  };
  return fields;
}

const std::vector<Field<WorkerSnapshot>>& WorkerFields() {
  using W = WorkerSnapshot;
  static const std::vector<Field<W>> fields = {
      {"id", &W::id},
      {"host", &W::host},
      {"pid", &W::pid},
      {"state", &W::state},
      {"last_heartbeat_ms", &W::last_heartbeat_ms},
      {"in_flight_batches", &W::in_flight_batches},
      {"credit", &W::credit},
      {"batches_scored", &W::batches_scored},
      {"transactions_scored", &W::transactions_scored},
      {"transactions_per_second", &W::transactions_per_second},
      {"model", &W::model, true},
      {"model_version", &W::model_version, true},
      {"model_error", &W::model_error, true},
      {"shadow_version", &W::shadow_version, true},
      {"link_error", &W::link_error, true},
  };
  return fields;
}

const char* TypeName(const std::string&) { return "a string"; }
const char* TypeName(int64_t) { return "an integer"; }
const char* TypeName(double) { return "a number"; }

// Reads every field of `fields` from `object` into `out`; the first that is
// missing or of another type comes back named by its path ("workers[1].pid").
template <typename Struct>
std::string ReadFields(simdjson::dom::object object, const std::string& path,
                       const std::vector<Field<Struct>>& fields, Struct* out) {
  for (const Field<Struct>& field : fields) {
    simdjson::dom::element element;
    if (object[field.key].get(element) != simdjson::SUCCESS) {
      if (field.optional) continue;
      return path + "." + field.key + ": missing";
    }
    const bool read = std::visit(
        [&](auto member) {
          auto& value = out->*member;
          if constexpr (std::is_same_v<std::decay_t<decltype(value)>, std::string>) {
            std::string_view view;
            if (element.get(view) != simdjson::SUCCESS) return false;
            value = view;
            return true;
          } else {
            return element.get(value) == simdjson::SUCCESS;
          }
        },
        field.member);
    if (!read) {
      const char* what = std::visit([&](auto member) { return TypeName(out->*member); }, field.member);
      return path + "." + field.key + ": not " + what;
    }
  }
  return "";
}

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

void AppendKey(std::string* out, const char* key) {
  if (out->back() != '{' && out->back() != '[') out->push_back(',');
  out->push_back('"');
  out->append(key);
  out->append("\":");
}

void AppendValue(const std::string& value, std::string* out) { AppendJsonString(value, out); }
void AppendValue(int64_t value, std::string* out) { out->append(std::to_string(value)); }
void AppendValue(double value, std::string* out) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.1f", value);  // as the ventilator writes them
  out->append(buffer);
}

template <typename Struct>
void AppendObject(const Struct& value, const std::vector<Field<Struct>>& fields, std::string* out) {
  out->push_back('{');
  for (const Field<Struct>& field : fields) {
    AppendKey(out, field.key);
    std::visit([&](auto member) { AppendValue(value.*member, out); }, field.member);
  }
  out->push_back('}');
}

std::string LocalTime() {
  const std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%H:%M:%S", &local);
  return buffer;
}

}  // namespace

std::string WithThousands(int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n);
  std::string out = n < 0 ? "-" : "";
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

Result<StatusSnapshot> ParseStatusJson(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (auto error = parser.parse(json.data(), json.size()).get(doc); error != simdjson::SUCCESS) {
    return Status::Error(std::string("not JSON (") + simdjson::error_message(error) + "): \"" +
                         Excerpt(json) + "\"");
  }
  simdjson::dom::object root;
  if (doc.get(root) != simdjson::SUCCESS) {
    return Status::Error("not a JSON object: \"" + Excerpt(json) + "\"");
  }
  simdjson::dom::object ventilator;
  if (root["ventilator"].get(ventilator) != simdjson::SUCCESS) {
    return Status::Error("ventilator: missing or not an object");
  }
  simdjson::dom::array workers;
  if (root["workers"].get(workers) != simdjson::SUCCESS) {
    return Status::Error("workers: missing or not an array");
  }

  StatusSnapshot snapshot;
  std::string error = ReadFields(ventilator, "ventilator", VentilatorFields(), &snapshot.ventilator);
  if (!error.empty()) return Status::Error(error);
  for (simdjson::dom::element element : workers) {
    const std::string path = "workers[" + std::to_string(snapshot.workers.size()) + "]";
    simdjson::dom::object worker;
    if (element.get(worker) != simdjson::SUCCESS) return Status::Error(path + ": not an object");
    error = ReadFields(worker, path, WorkerFields(), &snapshot.workers.emplace_back());
    if (!error.empty()) return Status::Error(error);
  }
  return snapshot;
}

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
  const std::string where = report.queue_description.empty() ? "" : "  (" + report.queue_description + ")";
  if (report.depth) {
    // A negative count: the queue cannot tell (http-mq has no length to ask).
    const std::string waiting =
        report.depth->waiting < 0 ? "unknown" : WithThousands(report.depth->waiting);
    out += "queue       " + waiting + " waiting, " + WithThousands(report.depth->in_flight) + " in flight" +
           where + "\n";
  } else {
    out += "queue       unreachable: " + report.queue_error + where + "\n";
  }
  if (!report.snapshot) return out;

  out += "\n";
  if (report.snapshot->workers.empty()) return out + "no workers connected\n";
  std::vector<std::vector<std::string>> rows = {
      {"WORKER", "HOST", "PID", "STATE", "MODEL", "HEARTBEAT", "IN FLIGHT", "SCORED TX", "TX/S"}};
  std::string failures;
  for (const WorkerSnapshot& w : report.snapshot->workers) {
    std::string model = Printable(w.model, 40) + (w.model.empty() ? "" : " ") + Printable(w.model_version, 40);
    if (!w.shadow_version.empty()) model += " +shadow " + Printable(w.shadow_version, 40);
    if (!w.model_error.empty()) {
      model += " (!)";
      failures += "(!) " + Printable(w.id) + " keeps " + Printable(w.model_version, 40) +
                  ": the live version did not load: " + Printable(w.model_error, 300) + "\n";
    }
    if (!w.link_error.empty()) {
      failures += "(!) " + Printable(w.id) + " cannot deliver, so it takes no work: " + Printable(w.link_error, 400) +
                  "\n";
    }
    rows.push_back({Printable(w.id), Printable(w.host), std::to_string(w.pid), Printable(w.state),
                    model.empty() ? "-" : model, WithThousands(w.last_heartbeat_ms) + " ms ago",
                    std::to_string(w.in_flight_batches), WithThousands(w.transactions_scored),
                    WithThousands(Rounded(w.transactions_per_second))});
  }
  return out + Columns(rows, {false, false, true, false, false, true, true, true, true}) + failures;
}

std::string FormatStatusJson(const StatusReport& report) {
  std::string out = "{";
  AppendKey(&out, "ventilator");
  if (report.snapshot) {
    AppendObject(report.snapshot->ventilator, VentilatorFields(), &out);
  } else {
    out += "null";
  }
  AppendKey(&out, "workers");
  out.push_back('[');
  if (report.snapshot) {
    for (const WorkerSnapshot& w : report.snapshot->workers) {
      if (out.back() != '[') out.push_back(',');
      AppendObject(w, WorkerFields(), &out);
    }
  }
  out.push_back(']');
  AppendKey(&out, "queue");
  out.push_back('{');
  AppendKey(&out, "description");
  AppendJsonString(report.queue_description, &out);
  AppendKey(&out, "waiting");
  out += report.depth && report.depth->waiting >= 0 ? std::to_string(report.depth->waiting) : "null";
  AppendKey(&out, "in_flight");
  out += report.depth ? std::to_string(report.depth->in_flight) : "null";
  out.push_back('}');
  AppendKey(&out, "errors");
  out.push_back('[');
  for (const std::string* error : {&report.ventilator_error, &report.queue_error}) {
    if (error->empty()) continue;
    if (out.back() != '[') out.push_back(',');
    AppendJsonString(*error, &out);
  }
  out += "]}";
  return out;
}

Result<std::string> QueryVentilator(zmq::context_t& context, const std::string& endpoint,
                                    std::chrono::milliseconds timeout, const LinkSecurity& security) {
  return AskOnce(context, endpoint, "status", timeout, security, "the ventilator");
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
    StatusReport report =
        CollectStatus(context, endpoint, std::chrono::milliseconds(options.timeout_ms), queue.get(), *security);
    if (!queue) report.queue_error = queue_error;
    if (StopRequested()) break;  // Ctrl-C while waiting: the last screen stays
    code = report.ok() ? 0 : 1;
    if (options.json) {
      std::printf("%s\n", FormatStatusJson(report).c_str());
      if (!options.watch) {
        for (const std::string* e : {&report.ventilator_error, &report.queue_error}) {
          if (!e->empty()) std::fprintf(stderr, "scorepipe status: %s\n", e->c_str());
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

}  // namespace scorepipe
