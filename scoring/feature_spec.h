// The model's input: which Transaction fields become which float features, in
// which order, read from a features.yaml that ships beside the model:
//
//   features:
//     - {name: timestamp, field: timestamp, transform: unix_seconds}
//     - name: status
//       field: status
//       transform: index          # position in `values`, else `default`
//       values: [submitted, accepted, rejected]
//       default: -1
//     - {name: vendor_id, field: vendor_id, transform: number}
//     - {name: amount, field: amount, transform: number}
//
// LoadFeatureSpecFile() rejects unknown keys, unknown fields and transforms,
// and transforms that do not fit their field, with "file:line:column: what is
// wrong; allowed: ...". FeatureExtractor turns a batch of transactions into the
// row-major float matrix the model scores.
//
// FeatureSpec and FeatureExtractor are values, read-only after construction;
// any thread may use a const FeatureExtractor.
#ifndef SCOREPIPE_SCORING_FEATURE_SPEC_H_
#define SCOREPIPE_SCORING_FEATURE_SPEC_H_

#include <cstddef>
#include <string>
#include <vector>

#include "proto/messages.h"
#include "proto/status.h"

namespace scorepipe {

// The Transaction fields a feature can read.
enum class FeatureField {
  kId,          // integer
  kCustomerId,  // integer
  kVendorId,    // integer
  kAmount,      // number
  kTimestamp,   // date-time (Transaction::timestamp_unix_s)
  kStatus,      // string
};

enum class FeatureTransform {
  kNumber,       // a numeric field (id, customer_id, vendor_id, amount) as is
  kUnixSeconds,  // the timestamp as Unix seconds (UTC)
  kIndex,        // a string field's position in `values`, else `default_value`
};

struct FeatureDef {
  std::string name;  // unique within the spec, non-empty
  FeatureField field = FeatureField::kId;
  FeatureTransform transform = FeatureTransform::kNumber;
  std::vector<std::string> values;  // kIndex only: distinct, non-empty list
  double default_value = -1;        // kIndex only: for a string not in `values`
};

struct FeatureSpec {
  std::string source;                // the file it came from, for messages
  std::vector<FeatureDef> features;  // in model column order; non-empty
};

// Loads and validates a features.yaml.
Result<FeatureSpec> LoadFeatureSpecFile(const std::string& path);
// Same, from text; `name` stands for the file in messages.
Result<FeatureSpec> LoadFeatureSpecString(const std::string& text, const std::string& name);

// The upstream MPI service's features, in its order: timestamp (Unix
// seconds), status (index in [submitted, accepted, rejected], else -1),
// vendor_id, amount.
FeatureSpec UpstreamFeatureSpec();

// The spec as features.yaml text that LoadFeatureSpecString() reads back.
std::string FeatureSpecToYaml(const FeatureSpec& spec);

// The lower-case names used in features.yaml ("vendor_id", "unix_seconds").
const char* FeatureFieldName(FeatureField field);
const char* FeatureTransformName(FeatureTransform transform);

// Turns transactions into model rows as the spec says.
class FeatureExtractor {
 public:
  // `spec` must be valid (as LoadFeatureSpec* returns it).
  explicit FeatureExtractor(FeatureSpec spec);

  // Floats per row: the number of features.
  size_t width() const { return spec_.features.size(); }
  const FeatureSpec& spec() const { return spec_; }

  // Replaces *out with txs.size() rows of width() floats, row-major, in the
  // order of txs. Reuses out's capacity; allocates nothing per transaction.
  void Extract(const std::vector<Transaction>& txs, std::vector<float>* out) const;
  // Writes one transaction's width() floats to row[0..width()).
  void ExtractRow(const Transaction& tx, float* row) const;

 private:
  FeatureSpec spec_;
};

}  // namespace scorepipe

#endif  // SCOREPIPE_SCORING_FEATURE_SPEC_H_
