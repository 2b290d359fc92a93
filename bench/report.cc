#include "bench/report.h"

#include <algorithm>
#include <cstdio>

#include "proto/json_writer.h"
#include "proto/text.h"

namespace scorepipe {
namespace {

std::string Format(const char* format, double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, format, value);
  return buffer;
}

// Redis commands listed per run: the costliest few.
constexpr size_t kCommandsShown = 8;

std::string Megabytes(int64_t bytes) { return Format("%.1f", static_cast<double>(bytes) / (1 << 20)); }

// Pads `text` to `width`, right-aligned (numbers) or left-aligned.
std::string Pad(const std::string& text, size_t width, bool right = true) {
  if (text.size() >= width) return text;
  const std::string fill(width - text.size(), ' ');
  return right ? fill + text : text + fill;
}

}  // namespace

double RunFigures::TransactionsPerSecond() const {
  return seconds > 0 ? static_cast<double>(transactions) / seconds : 0;
}

double RunFigures::CpuSecondsPerMillion() const {
  double cpu = 0;
  for (const NodeFigures& n : nodes) cpu += n.cpu_seconds;
  return transactions > 0 ? cpu * 1e6 / static_cast<double>(transactions) : 0;
}

int64_t RunFigures::PeakRssBytes() const {
  int64_t peak = 0;
  for (const NodeFigures& n : nodes) peak = std::max(peak, n.peak_rss_bytes);
  return peak;
}

std::string FormatTable(const std::vector<RunFigures>& runs, double reference_tps) {
  std::string out = Pad("run", 30, false) + Pad("transactions", 13) + Pad("seconds", 9) + Pad("tx/s", 12) +
                    Pad("vs redis-move", 15) + Pad("p50 ms", 9) + Pad("p99 ms", 9) + Pad("p99.9 ms", 10) +
                    Pad("CPU s/M tx", 12) + Pad("peak RSS MB", 13) + "\n";
  for (const RunFigures& r : runs) {
    const std::string name = r.ceiling ? r.name + " (ceiling)" : r.name;
    out += Pad(name, 30, false) + Pad(WithThousands(static_cast<int64_t>(r.transactions)), 13) +
           Pad(Format("%.2f", r.seconds), 9) +
           Pad(WithThousands(static_cast<int64_t>(r.TransactionsPerSecond())), 12) +
           Pad(reference_tps > 0 ? Format("%.2f", r.TransactionsPerSecond() / reference_tps) : "-", 15);
    if (r.latency) {
      out += Pad(Format("%.3f", r.latency->p50_ms), 9) + Pad(Format("%.3f", r.latency->p99_ms), 9) +
             Pad(Format("%.3f", r.latency->p999_ms), 10);
    } else {
      out += Pad("-", 9) + Pad("-", 9) + Pad("-", 10);
    }
    out += Pad(Format("%.2f", r.CpuSecondsPerMillion()), 12) + Pad(Megabytes(r.PeakRssBytes()), 13) + "\n";
  }
  for (const RunFigures& r : runs) {
    if (!r.detail.empty()) out += "  " + Pad(r.name + ":", 28, false) + r.detail + "\n";
  }
  return out;
}

std::string FormatNodes(const RunFigures& run) {
  const bool warm = std::any_of(run.nodes.begin(), run.nodes.end(),
                                [](const NodeFigures& n) { return n.warm_rss_bytes > 0; });
  std::string out = "  " + Pad(run.name, 28, false) + Pad("CPU s", 9) + Pad("CPU s/M tx", 12) +
                    (warm ? Pad("warm RSS MB", 13) : "") + Pad("RSS MB", 9) + Pad("peak RSS MB", 13) + "\n";
  const double millions = static_cast<double>(run.transactions) / 1e6;
  for (const NodeFigures& n : run.nodes) {
    out += "    " + Pad(n.name, 26, false) + Pad(Format("%.2f", n.cpu_seconds), 9) +
           Pad(millions > 0 ? Format("%.2f", n.cpu_seconds / millions) : "-", 12) +
           (warm ? Pad(Megabytes(n.warm_rss_bytes), 13) : "") + Pad(Megabytes(n.rss_bytes), 9) +
           Pad(Megabytes(n.peak_rss_bytes), 13) + "\n";
  }
  if (run.redis_commands.empty()) return out;
  out += "    " + Pad("redis-server by command", 26, false) + Pad("calls/M tx", 12) + Pad("CPU s/M tx", 12) +
         Pad("us/call", 10) + "\n";
  const size_t shown = std::min(run.redis_commands.size(), kCommandsShown);
  for (size_t i = 0; i < shown; ++i) {
    const RedisCommandStat& c = run.redis_commands[i];
    const double usec = static_cast<double>(c.usec);
    out += "      " + Pad(c.command, 24, false) +
           Pad(millions > 0 ? Format("%.0f", static_cast<double>(c.calls) / millions) : "-", 12) +
           Pad(millions > 0 ? Format("%.3f", usec / 1e6 / millions) : "-", 12) +
           Pad(c.calls > 0 ? Format("%.1f", usec / static_cast<double>(c.calls)) : "-", 10) + "\n";
  }
  return out;
}

bool MemoryFlat(const RunFigures& run, double tolerance, std::string* why) {
  constexpr int64_t kSlackBytes = 2 << 20;
  bool flat = true;
  for (const NodeFigures& n : run.nodes) {
    if (n.warm_rss_bytes <= 0 || n.name == "redis-server") continue;  // Redis holds the backlog
    const int64_t allowed = std::max<int64_t>(
        kSlackBytes, static_cast<int64_t>(tolerance * static_cast<double>(n.warm_rss_bytes)));
    if (n.rss_bytes - n.warm_rss_bytes > allowed) {
      flat = false;
      *why += (why->empty() ? "" : ", ") + n.name + " " + Megabytes(n.warm_rss_bytes) + " -> " +
              Megabytes(n.rss_bytes) + " MB";
    }
  }
  return flat;
}

std::string JsonLine(const RunFigures& run, double reference_tps,
                     const std::optional<JsonLineContext>& context) {
  std::string out;
  JsonWriter json(&out);
  json.BeginObject().Field("run", run.name).Field("detail", run.detail).Field("ceiling", run.ceiling);
  json.Field("transactions", run.transactions).Field("seconds", run.seconds, "%.6g");
  json.Field("tx_per_s", run.TransactionsPerSecond(), "%.0f");
  if (reference_tps > 0) json.Field("vs_redis_move", run.TransactionsPerSecond() / reference_tps, "%.3f");
  if (run.latency) {
    json.Field("latency_count", run.latency->count);
    json.Field("p50_ms", run.latency->p50_ms, "%.4f").Field("p99_ms", run.latency->p99_ms, "%.4f");
    json.Field("p999_ms", run.latency->p999_ms, "%.4f").Field("max_ms", run.latency->max_ms, "%.4f");
  }
  json.Field("cpu_s_per_million", run.CpuSecondsPerMillion(), "%.4f");
  json.Key("nodes").BeginArray();
  for (const NodeFigures& n : run.nodes) {
    json.BeginObject().Field("name", n.name).Field("cpu_s", n.cpu_seconds, "%.4f");
    json.Field("rss_bytes", n.rss_bytes).Field("peak_rss_bytes", n.peak_rss_bytes);
    if (n.warm_rss_bytes > 0) json.Field("warm_rss_bytes", n.warm_rss_bytes);
    json.EndObject();
  }
  json.EndArray();
  if (!run.redis_commands.empty()) {
    json.Key("redis_commands").BeginArray();
    for (const RedisCommandStat& c : run.redis_commands) {
      json.BeginObject()
          .Field("command", c.command)
          .Field("calls", c.calls)
          .Field("usec", c.usec)
          .EndObject();
    }
    json.EndArray();
  }
  if (context) {
    json.Field("quick", context->quick).Field("batch_size", context->batch_size);
    json.Field("workers", context->workers).Field("unix_time", context->unix_time);
  }
  json.EndObject();
  return out;
}

}  // namespace scorepipe
