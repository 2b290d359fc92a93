// `scorepipe model shadow-report`: how the version in shadow scores beside the
// live one, from the entries the sink appended to queue.shadow (one JSON per
// transaction scored by both; proto/upstream_json.h, AppendShadowJson).
//
// BuildShadowReport is the pure computation (tested on hand-computed cases);
// RunShadowReport reads queue.shadow without consuming it (Queue::Peek: Redis
// lists and streams; http-mq cannot) and prints the report as text or JSON.
//
// Plain functions and values; they use only the calling thread.
#ifndef SCOREPIPE_CLI_SHADOW_REPORT_COMMAND_H_
#define SCOREPIPE_CLI_SHADOW_REPORT_COMMAND_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "cli/command.h"
#include "proto/status.h"

namespace scorepipe {

// One queue.shadow entry.
struct ShadowEntry {
  double transaction_id = 0;  // any JSON number: the upstream id as the entry has it
  std::string live_version;
  std::string shadow_version;
  double live_probability = 0;
  double shadow_probability = 0;
  bool live_fraudulent = false;
  bool shadow_fraudulent = false;
};

// An entry's JSON; an error names the key that is missing or of the wrong type.
Result<ShadowEntry> ParseShadowEntry(std::string_view json);

// Probabilities in ten bins of width 0.1: [0, 0.1), ..., [0.9, 1] (1 goes in
// the last one; values outside [0, 1] in the nearest).
inline constexpr size_t kShadowBins = 10;
using ShadowHistogram = std::array<uint64_t, kShadowBins>;

// An empty bin's share in the PSI, so that it stays finite.
inline constexpr double kPsiFloor = 1e-4;

struct ShadowReport {
  uint64_t entries = 0;                             // readable entries, the base of every figure below
  uint64_t unreadable = 0;                          // entries that were not a shadow entry's JSON
  std::map<std::string, uint64_t> live_versions;    // version -> entries
  std::map<std::string, uint64_t> shadow_versions;  // version -> entries
  // The decision table: [live is_fraudulent][shadow is_fraudulent].
  uint64_t decisions[2][2] = {{0, 0}, {0, 0}};
  double agreement = 0;       // share of entries with the same is_fraudulent
  double mean_abs_delta = 0;  // mean |shadow P(fraud) - live P(fraud)|
  double max_abs_delta = 0;
  double mean_live = 0;  // mean P(fraud)
  double mean_shadow = 0;
  ShadowHistogram live_histogram{};
  ShadowHistogram shadow_histogram{};
  // Population stability index of the shadow scores against the live ones
  // over the ten bins: sum of (s - l) * ln(s / l) over the bins' shares, a
  // share of 0 counted as kPsiFloor. Rule of thumb: < 0.1 stable, 0.1-0.25
  // some shift, > 0.25 a large shift.
  double psi = 0;
};

// The report of `messages` (queue.shadow entries, in any order).
ShadowReport BuildShadowReport(const std::vector<std::string>& messages);

// The PSI of `actual` against `expected` (as ShadowReport::psi); 0 when
// either is empty.
double PopulationStabilityIndex(const ShadowHistogram& expected, const ShadowHistogram& actual);

// For people: the counts, the decision table, the deltas, the two histograms
// side by side and the PSI.
std::string FormatShadowReport(const ShadowReport& report);
// The same figures as one JSON object.
std::string ShadowReportJson(const ShadowReport& report);

struct ShadowReportOptions {
  std::string config_path;  // the topology: its queue section says where queue.shadow is
  bool json = false;
  size_t max = 100000;  // the newest entries read at most
};

// Reads queue.shadow and prints the report on `out`: 0 done (also with no
// entries), 1 failed (the reason on `err`: a bad topology, an unreachable
// queue, http-mq).
int RunShadowReport(const ShadowReportOptions& options, FILE* out = stdout, FILE* err = stderr);

// Registers `shadow-report` under `scorepipe model`.
Command AddShadowReportCommand(CLI::App& model);

}  // namespace scorepipe

#endif  // SCOREPIPE_CLI_SHADOW_REPORT_COMMAND_H_
