// Which model a worker runs, and how it follows a model registry while it
// runs.
//
// A topology names either one model's files or a registry model
// (ModelConfig::registry and ::name; scoring/model_registry.h). For a registry
// model, ResolveModel() finds the live version and returns the config of its
// files. At start, LoadModelOf() loads the live version, or, when it does not
// load (its file damaged on disk, say), the most recent version live before
// it that does, and says loudly which it skipped and why: a worker that
// restarts keeps scoring rather than failing over and over. A ModelWatcher
// then looks at the live version every watch_ms on a thread of its own. When
// it changes, the watcher loads the new version there, beside the scoring,
// and offers the loaded Scorer to the worker, which switches between two
// batches (TakeLoaded): a batch is scored by exactly one version, never by a
// half-loaded one, and scoring never waits for a load.
//
// A version that fails to load (a corrupt file, features the model does not
// take, an unreadable registry) is reported through LastError() and the
// `on_failure` callback, and the worker keeps its running version. The
// watcher tries that version again only after kRetryFailedAfter, or at once
// when the live version changes (a promotion of another version, or a
// roll-back).
//
// The watcher follows the version in shadow the same way (`scorepipe model
// shadow`; docs/models.md): it loads a version newly put in shadow beside
// the scoring and offers it (TakeShadowChange), or offers "none" when the
// shadowing ends; the worker then scores each batch with both. A shadow
// version that fails to load is logged and tried again after
// kRetryFailedAfter; the worker keeps what it had in shadow meanwhile.
//
// ModelWatcher: built and read by the worker's thread; it owns its thread,
// which calls `on_failure`. LastError() may be called from any thread.
#ifndef SCOREPIPE_SCORING_MODEL_WATCHER_H_
#define SCOREPIPE_SCORING_MODEL_WATCHER_H_

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "config/topology.h"
#include "proto/status.h"
#include "scoring/model.h"
#include "scoring/model_registry.h"

namespace scorepipe {

// For a registry model: `config` with path, features, format and version of
// the live version (name, threshold and the registry kept). An error names
// the registry and model when there is no live version or the registry
// cannot be read. A files model comes back unchanged.
Result<ModelConfig> ResolveModel(const ModelConfig& config);

// A model ready to score with, and the files it came from.
struct LoadedModel {
  ModelConfig config;  // resolved: its version is the one loaded
  Scorer scorer;
};

// `config` with the files, format and version of the registry's `version`.
Result<ModelConfig> ResolveVersion(const ModelConfig& config, const std::string& version);

// A version that LoadModelOf passed over because it does not load.
struct SkippedVersion {
  std::string version;
  std::string reason;  // the loader's error
};

// What a worker starts on, and what it passed over to get there.
struct StartingModel {
  LoadedModel loaded;
  // The live version first, then each older one tried; empty when the live
  // version loaded.
  std::vector<SkippedVersion> skipped;
};

// The model a worker starts on. A files model: LoadScorer of its files. A
// registry model: its live version (ResolveModel, then LoadScorer); when that
// does not load, the versions live before it, the most recent first
// (LiveBefore: what rollbacks would put back), until one loads; each one skipped is logged at error
// level with why. The live version stays live in the registry: the worker's
// ModelWatcher then reports it as failing to load (LastError) and tries it
// again every kRetryFailedAfter. An error when the registry cannot be read,
// no version is live, or no version loads (naming each one tried and why).
Result<StartingModel> LoadModelOf(const ModelConfig& config);

class ModelWatcher {
 public:
  // A failed version is tried again after this long while it stays live.
  static constexpr std::chrono::seconds kRetryFailedAfter{30};

  // `config` is the topology's registry model; `running_version` the version
  // the worker runs now. `on_failure` (may be empty) is called on the
  // watcher's thread with each failed load's error.
  ModelWatcher(ModelConfig config, std::string running_version,
               std::function<void(const Status&)> on_failure);
  ~ModelWatcher();  // stops the thread and waits for it (at most one load)
  ModelWatcher(const ModelWatcher&) = delete;
  ModelWatcher& operator=(const ModelWatcher&) = delete;

  void Start();

  // The newly live version, loaded, when there is one; the caller runs it
  // from now on (the watcher takes its version as the running one).
  std::optional<LoadedModel> TakeLoaded();

  // Why the live version is not running: "<version>: <error>", or empty.
  std::string LastError() const;

  // A change of the version in shadow: its model, loaded, or none when the
  // shadowing ended.
  struct ShadowChange {
    std::optional<LoadedModel> model;
  };
  // The change since the last call, when there is one; the caller scores
  // beside the live version with it from now on.
  std::optional<ShadowChange> TakeShadowChange();

 private:
  void Loop();
  // What one look at the registry's history found: loads a new live version.
  void Check(const Result<std::vector<HistoryRecord>>& history);
  // The same for the version in shadow.
  void CheckShadow(const Result<std::vector<HistoryRecord>>& history);

  // The last version that failed to load, held back until kRetryFailedAfter.
  struct FailedLoad {
    std::string version;
    std::chrono::steady_clock::time_point at;
    bool HoldsBack(const std::string& candidate, std::chrono::steady_clock::time_point now) const {
      return candidate == version && now - at < kRetryFailedAfter;
    }
  };

  const ModelConfig config_;
  const std::function<void(const Status&)> on_failure_;
  std::thread thread_;

  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::string running_version_;        // what the worker runs, or will once it takes `loaded_`
  std::optional<LoadedModel> loaded_;  // loaded, not yet taken
  FailedLoad failed_;                  // of the live version
  std::string last_error_;
  std::string shadow_version_;  // in shadow at the worker once it takes `shadow_change_`; empty: none
  std::optional<ShadowChange> shadow_change_;  // not yet taken
  FailedLoad failed_shadow_;
};

}  // namespace scorepipe

#endif  // SCOREPIPE_SCORING_MODEL_WATCHER_H_
