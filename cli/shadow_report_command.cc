#include "cli/shadow_report_command.h"

#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <utility>

#include "config/topology.h"
#include "proto/json_writer.h"
#include "queue/queue.h"

namespace scorepipe {
namespace {

size_t BinOf(double probability) {
  if (!(probability > 0)) return 0;
  const auto bin = static_cast<size_t>(probability * static_cast<double>(kShadowBins));
  return std::min(bin, kShadowBins - 1);
}

std::string Number(double value, const char* format = "%.4f") {
  char text[64];
  snprintf(text, sizeof text, format, value);
  return text;
}

// "v1 (120), v2 (3)".
std::string Versions(const std::map<std::string, uint64_t>& versions) {
  std::string text;
  for (const auto& [version, count] : versions) {
    if (!text.empty()) text += ", ";
    text += version + " (" + std::to_string(count) + ")";
  }
  return text.empty() ? "-" : text;
}

// {"v1":120,"v2":3}
void VersionsJson(const std::map<std::string, uint64_t>& versions, JsonWriter& json) {
  json.BeginObject();
  for (const auto& [version, count] : versions) json.Field(version, count);
  json.EndObject();
}

void HistogramJson(const ShadowHistogram& histogram, JsonWriter& json) {
  json.BeginArray();
  for (const uint64_t count : histogram) json.Uint(count);
  json.EndArray();
}

}  // namespace

Result<ShadowEntry> ParseShadowEntry(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::dom::object object;
  if (auto error = parser.parse(json.data(), json.size()).get_object().get(object)) {
    return Status::Error(std::string("not a JSON object: ") + simdjson::error_message(error));
  }
  ShadowEntry entry;
  auto fail = [](const char* key, simdjson::error_code error) {
    return Status::Error(std::string("key '") + key + "': " + simdjson::error_message(error));
  };
  if (auto error = object["transaction_id"].get_double().get(entry.transaction_id))
    return fail("transaction_id", error);
  for (auto [key, out] : {std::pair<const char*, std::string*>{"live_version", &entry.live_version},
                          {"shadow_version", &entry.shadow_version}}) {
    std::string_view text;
    if (auto error = object[key].get_string().get(text)) return fail(key, error);
    *out = std::string(text);
  }
  for (auto [key, out] : {std::pair<const char*, double*>{"live_probability", &entry.live_probability},
                          {"shadow_probability", &entry.shadow_probability}}) {
    if (auto error = object[key].get_double().get(*out)) return fail(key, error);
  }
  for (auto [key, out] : {std::pair<const char*, bool*>{"live_is_fraudulent", &entry.live_fraudulent},
                          {"shadow_is_fraudulent", &entry.shadow_fraudulent}}) {
    int64_t flag = 0;
    if (auto error = object[key].get_int64().get(flag)) return fail(key, error);
    *out = flag != 0;
  }
  return entry;
}

double PopulationStabilityIndex(const ShadowHistogram& expected, const ShadowHistogram& actual) {
  uint64_t expected_total = 0, actual_total = 0;
  for (size_t i = 0; i < kShadowBins; ++i) {
    expected_total += expected[i];
    actual_total += actual[i];
  }
  if (expected_total == 0 || actual_total == 0) return 0;
  double psi = 0;
  for (size_t i = 0; i < kShadowBins; ++i) {
    const double e =
        std::max(static_cast<double>(expected[i]) / static_cast<double>(expected_total), kPsiFloor);
    const double a = std::max(static_cast<double>(actual[i]) / static_cast<double>(actual_total), kPsiFloor);
    psi += (a - e) * std::log(a / e);
  }
  return psi;
}

ShadowReport BuildShadowReport(const std::vector<std::string>& messages) {
  ShadowReport report;
  double sum_delta = 0, sum_live = 0, sum_shadow = 0;
  for (const std::string& message : messages) {
    Result<ShadowEntry> entry = ParseShadowEntry(message);
    if (!entry.ok()) {
      ++report.unreadable;
      continue;
    }
    ++report.entries;
    ++report.live_versions[entry->live_version];
    ++report.shadow_versions[entry->shadow_version];
    ++report.decisions[entry->live_fraudulent ? 1 : 0][entry->shadow_fraudulent ? 1 : 0];
    const double delta = std::fabs(entry->shadow_probability - entry->live_probability);
    sum_delta += delta;
    report.max_abs_delta = std::max(report.max_abs_delta, delta);
    sum_live += entry->live_probability;
    sum_shadow += entry->shadow_probability;
    ++report.live_histogram[BinOf(entry->live_probability)];
    ++report.shadow_histogram[BinOf(entry->shadow_probability)];
  }
  if (report.entries == 0) return report;
  const auto n = static_cast<double>(report.entries);
  report.agreement = static_cast<double>(report.decisions[0][0] + report.decisions[1][1]) / n;
  report.mean_abs_delta = sum_delta / n;
  report.mean_live = sum_live / n;
  report.mean_shadow = sum_shadow / n;
  report.psi = PopulationStabilityIndex(report.live_histogram, report.shadow_histogram);
  return report;
}

std::string FormatShadowReport(const ShadowReport& report) {
  std::string out;
  out += "entries:          " + std::to_string(report.entries);
  if (report.unreadable > 0) out += " (" + std::to_string(report.unreadable) + " unreadable, left out)";
  out += "\n";
  if (report.entries == 0)
    return out + "nothing to compare: no version has been in shadow, or none scored yet\n";
  out += "live versions:    " + Versions(report.live_versions) + "\n";
  out += "shadow versions:  " + Versions(report.shadow_versions) + "\n";
  out += "agreement:        " + Number(100 * report.agreement, "%.2f") + "% same is_fraudulent\n";
  char header[128];
  snprintf(header, sizeof header, "%-18s%-16s  %16s  %12s\n", "decisions:", "", "shadow not fraud",
           "shadow fraud");
  out += header;
  const char* rows[2] = {"live not fraud", "live fraud"};
  for (int live = 0; live < 2; ++live) {
    char line[128];
    snprintf(line, sizeof line, "%-18s%-16s  %16ju  %12ju\n", "", rows[live],
             static_cast<uintmax_t>(report.decisions[live][0]),
             static_cast<uintmax_t>(report.decisions[live][1]));
    out += line;
  }
  out += "|delta P(fraud)|: mean " + Number(report.mean_abs_delta) + ", max " + Number(report.max_abs_delta) +
         "\n";
  out +=
      "mean P(fraud):    live " + Number(report.mean_live) + ", shadow " + Number(report.mean_shadow) + "\n";
  out += "histogram:        P(fraud)      live    shadow\n";
  for (size_t i = 0; i < kShadowBins; ++i) {
    char line[128];
    snprintf(line, sizeof line, "                  %.1f-%.1f%c %9ju %9ju\n", static_cast<double>(i) / 10,
             static_cast<double>(i + 1) / 10, i + 1 == kShadowBins ? ']' : ')',
             static_cast<uintmax_t>(report.live_histogram[i]),
             static_cast<uintmax_t>(report.shadow_histogram[i]));
    out += line;
  }
  const char* verdict = report.psi < 0.1 ? "stable" : report.psi <= 0.25 ? "some shift" : "large shift";
  out += "PSI:              " + Number(report.psi) + " (" + verdict + "; < 0.1 stable, > 0.25 large shift)\n";
  return out;
}

std::string ShadowReportJson(const ShadowReport& report) {
  std::string out;
  JsonWriter json(&out);
  json.BeginObject().Field("entries", report.entries).Field("unreadable", report.unreadable);
  VersionsJson(report.live_versions, json.Key("live_versions"));
  VersionsJson(report.shadow_versions, json.Key("shadow_versions"));
  json.Field("agreement", report.agreement, "%.6g");
  json.Key("decisions").BeginObject();
  json.Field("live_0_shadow_0", report.decisions[0][0]).Field("live_0_shadow_1", report.decisions[0][1]);
  json.Field("live_1_shadow_0", report.decisions[1][0]).Field("live_1_shadow_1", report.decisions[1][1]);
  json.EndObject();
  json.Field("mean_abs_delta", report.mean_abs_delta, "%.6g")
      .Field("max_abs_delta", report.max_abs_delta, "%.6g");
  json.Field("mean_live", report.mean_live, "%.6g").Field("mean_shadow", report.mean_shadow, "%.6g");
  HistogramJson(report.live_histogram, json.Key("live_histogram"));
  HistogramJson(report.shadow_histogram, json.Key("shadow_histogram"));
  json.Field("psi", report.psi, "%.6g").EndObject();
  return out;
}

int RunShadowReport(const ShadowReportOptions& options, FILE* out, FILE* err) {
  auto fail = [err](const std::string& why) {
    fprintf(err, "scorepipe model shadow-report: %s\n", why.c_str());
    return 1;
  };
  Result<Topology> topology = LoadTopologyFile(options.config_path);
  if (!topology.ok()) return fail(topology.status().message());
  Result<std::unique_ptr<Queue>> queue = OpenQueue(topology->queue);
  if (!queue.ok()) return fail(queue.status().message());
  Result<std::vector<std::string>> messages = (*queue)->Peek(topology->queue.shadow, options.max);
  if (!messages.ok()) return fail(messages.status().message());
  const ShadowReport report = BuildShadowReport(*messages);
  if (options.json) {
    fprintf(out, "%s\n", ShadowReportJson(report).c_str());
  } else {
    fprintf(out, "queue.shadow:     %s at %s (the newest %zu at most)\n", topology->queue.shadow.c_str(),
            (*queue)->Describe().c_str(), options.max);
    fprintf(out, "%s", FormatShadowReport(report).c_str());
  }
  return 0;
}

Command AddShadowReportCommand(CLI::App& model) {
  auto options = std::make_shared<ShadowReportOptions>();
  CLI::App* shadow_report = model.add_subcommand(
      "shadow-report", "compare the version in shadow with the live one, from the entries in queue.shadow");
  shadow_report
      ->add_option("-c,--config", options->config_path,
                   "topology YAML (its queue: section says where queue.shadow is)")
      ->required()
      ->check(CLI::ExistingFile);
  shadow_report->add_flag("--json", options->json, "print one JSON object instead of text");
  shadow_report->add_option("--max", options->max, "read at most the newest N entries")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, size_t{100000000}));
  shadow_report->footer(
      "Reads queue.shadow without consuming it (Redis lists: LRANGE, streams: XREVRANGE; http-mq has no\n"
      "way to read without removing, so it is not supported there) and prints: entries, the live\n"
      "and shadow versions seen, agreement (the share with the same is_fraudulent) with the 2x2\n"
      "decision table, mean and max |delta P(fraud)|, mean P(fraud) of each, a 10-bin histogram of\n"
      "each and the population stability index (PSI) of the shadow scores against the live ones\n"
      "(< 0.1 stable, 0.1-0.25 some shift, > 0.25 a large shift). Exit code: 0 done, 1 failed,\n"
      "2 bad usage.");

  return {shadow_report, [options] { return RunShadowReport(*options); }};
}

}  // namespace scorepipe
