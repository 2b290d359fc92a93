#include "bench/latency.h"

#include <algorithm>
#include <cmath>

namespace scorepipe {
namespace {

// The nearest-rank percentile `p` (0..1) of the sorted `v`.
double Rank(const std::vector<double>& v, double p) {
  const size_t rank = static_cast<size_t>(std::ceil(p * static_cast<double>(v.size())));
  return v[std::clamp<size_t>(rank, 1, v.size()) - 1];
}

}  // namespace

LatencySummary Summarize(std::vector<double>* micros) {
  LatencySummary s;
  if (micros->empty()) return s;
  std::sort(micros->begin(), micros->end());
  s.count = micros->size();
  s.p50_ms = Rank(*micros, 0.50) / 1000;
  s.p99_ms = Rank(*micros, 0.99) / 1000;
  s.p999_ms = Rank(*micros, 0.999) / 1000;
  s.max_ms = micros->back() / 1000;
  return s;
}

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace scorepipe
