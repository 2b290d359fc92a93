// An XGBoost binary classifier (objective binary:logistic) loaded from its JSON
// model file and scored through libxgboost's C API, one in-place prediction
// per batch, on one thread (nthread = 1: the cluster parallelises by
// processes).
//
// The model owns its booster handle; it is used by one thread at a time (the
// booster keeps its prediction buffer per thread, copied out before return).
#ifndef SCOREPIPE_WORKER_XGBOOST_MODEL_H_
#define SCOREPIPE_WORKER_XGBOOST_MODEL_H_

#include <cstddef>
#include <memory>
#include <string>

#include "proto/status.h"
#include "worker/model.h"

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

#endif  // SCOREPIPE_WORKER_XGBOOST_MODEL_H_
