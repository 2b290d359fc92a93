// An XGBoost binary classifier (objective binary:logistic) loaded from its JSON
// model file through libxgboost's C API, which validates it and is the
// reference for its predictions. Scored by the native evaluator
// (scoring/tree_ensemble.h: ~0.2 us per row for the demo model against ~1 us
// in libxgboost, plus libxgboost's fixed ~40 us per call) when the evaluator
// takes the model and agrees with libxgboost on 2,000 probe rows at load
// (thresholds, the floats beside them, NaN, infinities); otherwise through
// libxgboost, one in-place prediction per batch on one thread (nthread = 1:
// the cluster parallelises by processes). Describe() says which, and the
// load logs it.
//
// The model owns its booster handle; it is used by one thread at a time (the
// booster keeps its prediction buffer per thread, copied out before return).
#ifndef SCOREPIPE_SCORING_XGBOOST_MODEL_H_
#define SCOREPIPE_SCORING_XGBOOST_MODEL_H_

#include <cstddef>
#include <memory>
#include <string>

#include "proto/status.h"
#include "scoring/model.h"

namespace scorepipe {

// Loads an XGBoost JSON model. Errors (a missing or corrupt file, an objective
// other than binary:logistic, a feature count other than expected_features)
// name `path` and carry libxgboost's own message.
Result<std::unique_ptr<Model>> LoadXgboostModel(const std::string& path, std::string version,
                                                size_t expected_features);

// libxgboost's message for its last failed call on this thread, without the
// log-time prefix and stack trace.
std::string XgboostLastError();

}  // namespace scorepipe

#endif  // SCOREPIPE_SCORING_XGBOOST_MODEL_H_
