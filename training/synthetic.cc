#include "training/synthetic.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>

namespace scorepipe {
namespace {

uint64_t SplitMix64(uint64_t* state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t RotateLeft(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

// exp(x) from +, -, *, / and exact scaling only, so that it gives the same bits
// with every libm. Accurate to a few ulp, which is all the generator needs.
double PortableExp(double x) {
  x = std::clamp(x, -700.0, 700.0);
  constexpr double kLn2Hi = 6.93147180369123816490e-01;
  constexpr double kLn2Lo = 1.90821492927058770002e-10;
  constexpr double kInvLn2 = 1.44269504088896338700e+00;
  const double k = std::floor(x * kInvLn2 + 0.5);
  const double r = (x - k * kLn2Hi) - k * kLn2Lo;  // |r| <= ~0.35
  // Taylor series; the 14th term is below 1e-17 for |r| <= 0.35.
  double sum = 1.0;
  double term = 1.0;
  for (int i = 1; i <= 14; ++i) {
    term = term * r / i;
    sum += term;
  }
  return std::ldexp(sum, static_cast<int>(k));
}

double Sigmoid(double z) { return 1.0 / (1.0 + PortableExp(-z)); }

// Vendors whose transactions are far more often fraudulent.
constexpr int64_t kRiskyVendors[] = {7, 42, 77, 133, 256, 311, 347, 389};

bool IsRiskyVendor(int64_t vendor_id) {
  return std::find(std::begin(kRiskyVendors), std::end(kRiskyVendors), vendor_id) != std::end(kRiskyVendors);
}

// About 1% of customers carry a risk the model never sees (it has no
// customer feature); this is what keeps the achievable AUC below 1.
bool IsCompromisedCustomer(int64_t customer_id) {
  uint64_t h = static_cast<uint64_t>(customer_id) * 0x9e3779b97f4a7c15ULL;
  h ^= h >> 29;
  return h % 100 == 0;
}

// Writes "YYYY-MM-DDTHH:MM:SSZ" for a Unix time; returns the length.
int FormatUtc(int64_t unix_s, char* buf, size_t size) {
  using std::chrono::days;
  using std::chrono::seconds;
  const std::chrono::sys_seconds tp{seconds{unix_s}};
  const auto day = std::chrono::floor<days>(tp);
  const std::chrono::year_month_day ymd{day};
  const std::chrono::hh_mm_ss hms{tp - day};
  return std::snprintf(buf, size, "%04d-%02u-%02uT%02d:%02d:%02dZ", static_cast<int>(ymd.year()),
                       static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                       static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                       static_cast<int>(hms.seconds().count()));
}

}  // namespace

SyntheticTransactions::SyntheticTransactions(uint64_t seed, int64_t first_id) : next_id_(first_id) {
  uint64_t sm = seed;
  for (uint64_t& s : state_) s = SplitMix64(&sm);
}

uint64_t SyntheticTransactions::NextU64() {
  const uint64_t result = RotateLeft(state_[1] * 5, 7) * 9;
  const uint64_t t = state_[1] << 17;
  state_[2] ^= state_[0];
  state_[3] ^= state_[1];
  state_[1] ^= state_[2];
  state_[0] ^= state_[3];
  state_[2] ^= t;
  state_[3] = RotateLeft(state_[3], 45);
  return result;
}

double SyntheticTransactions::NextUnit() { return static_cast<double>(NextU64() >> 11) * 0x1.0p-53; }

LabelledTransaction SyntheticTransactions::Next() {
  LabelledTransaction out;
  Transaction& tx = out.parsed;
  tx.id = next_id_++;
  tx.customer_id = static_cast<double>(1 + static_cast<int64_t>(NextU64() % kNumCustomers));
  tx.vendor_id = static_cast<double>(1 + static_cast<int64_t>(NextU64() % kNumVendors));
  const int64_t unix_s = kFirstUnixS + static_cast<int64_t>(NextU64() % (kLastUnixS - kFirstUnixS + 1));

  const double u_status = NextUnit();
  tx.status = u_status < 0.88 ? "accepted" : u_status < 0.95 ? "rejected" : "pending";

  // Log-normal-ish amount: exp of an approximately normal variable
  // (Irwin-Hall: the sum of 12 uniforms minus 6), median about 67.
  double z = -6.0;
  for (int i = 0; i < 12; ++i) z += NextUnit();
  const double raw_amount = PortableExp(4.2 + 1.2 * z);
  const int64_t cents =
      std::clamp(static_cast<int64_t>(std::llround(raw_amount * 100.0)), kMinAmountCents, kMaxAmountCents);
  tx.amount = static_cast<double>(cents) / 100.0;

  // The fraud pattern, as log-odds: about 3% fraud overall.
  const int64_t second_of_year = unix_s - kFirstUnixS;
  const int64_t day_of_year = second_of_year / 86400;  // 0 = Jan 1
  const int64_t hour = (second_of_year % 86400) / 3600;
  double logit = -6.2;
  if (day_of_year >= 304 && day_of_year < 319) logit += 3.0;  // Nov 1-15 wave
  if (IsRiskyVendor(static_cast<int64_t>(tx.vendor_id))) logit += 4.0;
  if (tx.status == "rejected") logit += 3.0;
  if (tx.status == "pending") logit += 2.5;
  logit += 4.0 * std::min(tx.amount, 2000.0) / 1000.0;
  // Invisible to a model on the upstream features (it sees absolute time,
  // not the hour, and no customer): noise that keeps the AUC below 1.
  if (hour < 5) logit += 0.8;  // night, UTC
  if (IsCompromisedCustomer(static_cast<int64_t>(tx.customer_id))) logit += 2.0;
  out.label = NextUnit() < Sigmoid(logit) ? 1 : 0;

  char ts[32];
  FormatUtc(unix_s, ts, sizeof ts);
  tx.timestamp = ts;
  tx.timestamp_unix_s = static_cast<double>(unix_s);

  char json[256];
  const int n = std::snprintf(
      json, sizeof json,
      R"({"id":%lld,"customer_id":%lld,"vendor_id":%lld,"timestamp":"%s","status":"%s","amount":%lld.%02lld})",
      static_cast<long long>(tx.id), static_cast<long long>(tx.customer_id),
      static_cast<long long>(tx.vendor_id), ts, tx.status.c_str(), static_cast<long long>(cents / 100),
      static_cast<long long>(cents % 100));
  out.json.assign(json, static_cast<size_t>(n));
  return out;
}

}  // namespace scorepipe
