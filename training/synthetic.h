// SyntheticTransactions: a deterministic stream of labelled upstream
// transactions, for training the demo model, for tests and for benchmarks.
//
// Each transaction is produced both as the upstream queue's JSON text and as
// the Transaction the bridge would parse from it, together with a fraud label
// drawn from a noisy pattern over the model's four features (night hours and a
// fraud wave in early November, a few risky vendors, large amounts,
// rejected/pending statuses) plus a hidden per-customer risk the model cannot
// see, so that a good model reaches an AUC near 0.9, never 1.
//
// The stream depends only on the seed: it uses its own PRNG (xoshiro256**
// seeded by splitmix64) and only IEEE-exact arithmetic (no std::*_distribution,
// no libm transcendental functions), so it is the same on every run, standard
// library and machine.
//
// A generator is owned by one thread; separate instances are independent.
#ifndef SCOREPIPE_TRAINING_SYNTHETIC_H_
#define SCOREPIPE_TRAINING_SYNTHETIC_H_

#include <cstdint>
#include <string>

#include "proto/messages.h"

namespace scorepipe {

struct LabelledTransaction {
  // The upstream wire form, e.g. {"id":1,"customer_id":17,"vendor_id":3,
  // "timestamp":"2026-03-01T02:13:09Z","status":"accepted","amount":123.45}.
  std::string json;
  // The same transaction as the bridge parses it.
  Transaction parsed;
  // 1 for fraud, 0 otherwise.
  int label = 0;
};

class SyntheticTransactions {
 public:
  // Ids are consecutive from `first_id` (>= 1).
  explicit SyntheticTransactions(uint64_t seed, int64_t first_id = 1);

  LabelledTransaction Next();

  // The shape of the data, for tests and documentation.
  static constexpr int64_t kNumCustomers = 50000;      // customer_id in [1, kNumCustomers]
  static constexpr int64_t kNumVendors = 400;          // vendor_id in [1, kNumVendors]
  static constexpr int64_t kFirstUnixS = 1767225600;   // 2026-01-01T00:00:00Z
  static constexpr int64_t kLastUnixS = 1798761599;    // 2026-12-31T23:59:59Z
  static constexpr int64_t kMinAmountCents = 100;      // 1.00
  static constexpr int64_t kMaxAmountCents = 5000000;  // 50000.00

 private:
  uint64_t NextU64();
  double NextUnit();  // uniform in [0, 1)

  uint64_t state_[4];
  int64_t next_id_;
};

}  // namespace scorepipe

#endif  // SCOREPIPE_TRAINING_SYNTHETIC_H_
