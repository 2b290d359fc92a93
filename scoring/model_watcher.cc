#include "scoring/model_watcher.h"

#include <spdlog/spdlog.h>

#include <utility>

#include "scoring/model_registry.h"

namespace scorepipe {

namespace {

std::string Where(const ModelConfig& config) {
  return "model " + config.name + " in the registry " + config.registry;
}

}  // namespace

Result<ModelConfig> ResolveVersion(const ModelConfig& config, const std::string& version) {
  Result<ModelConfig> files = ModelRegistry(config.registry).VersionConfig(config.name, version);
  if (!files.ok()) return files.status().WithContext(Where(config));
  ModelConfig resolved = config;
  resolved.path = files->path;
  resolved.features = files->features;
  resolved.format = files->format;
  resolved.version = files->version;
  return resolved;
}

namespace {

// `config` resolved to the live version `live` that its registry's history gave.
Result<ModelConfig> ResolveLive(const ModelConfig& config, const Result<std::optional<std::string>>& live) {
  if (!live.ok()) return live.status().WithContext(Where(config));
  if (!live->has_value()) {
    return Status::Error(Where(config) + ": no version is live; put one live with `scorepipe model promote " +
                         config.name + " VERSION`");
  }
  return ResolveVersion(config, **live);
}

}  // namespace

Result<ModelConfig> ResolveModel(const ModelConfig& config) {
  if (config.registry.empty()) return config;
  return ResolveLive(config, ModelRegistry(config.registry).LiveVersion(config.name));
}

namespace {

// LoadScorer of what was resolved; an error names the model and version.
Result<LoadedModel> LoadResolved(const std::string& name, Result<ModelConfig> resolved) {
  if (!resolved.ok()) return resolved.status();
  Result<Scorer> scorer = LoadScorer(*resolved);
  if (!scorer.ok()) return scorer.status().WithContext(name + " " + resolved->version);
  return LoadedModel{std::move(resolved.value()), std::move(scorer.value())};
}

}  // namespace

Result<StartingModel> LoadModelOf(const ModelConfig& config) {
  if (config.registry.empty()) {
    Result<LoadedModel> loaded = LoadResolved(config.name, config);
    if (!loaded.ok()) return loaded.status();
    return StartingModel{std::move(loaded.value()), {}};
  }
  const Result<std::vector<HistoryRecord>> history = ModelRegistry(config.registry).History(config.name);
  Result<ModelConfig> live =
      ResolveLive(config, history.ok() ? Result<std::optional<std::string>>(ReplayLiveVersion(*history))
                                       : history.status());
  if (!live.ok()) return live.status();
  const std::string live_version = live->version;
  std::vector<SkippedVersion> skipped;
  std::vector<std::string> candidates = {live_version};
  for (std::string& older : LiveBefore(*history, live_version)) candidates.push_back(std::move(older));
  for (const std::string& version : candidates) {
    Result<ModelConfig> resolved = version == live_version ? live : ResolveVersion(config, version);
    Result<Scorer> scorer = resolved.ok() ? LoadScorer(*resolved) : Result<Scorer>(resolved.status());
    if (scorer.ok()) {
      if (!skipped.empty()) {
        spdlog::critical(
            "model {}: starting on version {}, the most recent version live before {} that loads; "
            "{} stays live in the registry and is tried again every {} s: promote or roll back to a version "
            "that loads",
            config.name, version, live_version, live_version, ModelWatcher::kRetryFailedAfter.count());
      }
      return StartingModel{LoadedModel{std::move(resolved.value()), std::move(scorer.value())},
                           std::move(skipped)};
    }
    const std::string role = version == live_version ? "the live version " : "version ";
    spdlog::error("model {}: skipping {}{}: it does not load: {}", config.name, role, version,
                  scorer.status().message());
    skipped.push_back(SkippedVersion{version, scorer.status().message()});
  }
  std::string tried;
  for (const SkippedVersion& s : skipped) {
    tried += (tried.empty() ? "" : "; ") + s.version + (s.version == live_version ? " (live)" : "") + ": " +
             s.reason;
  }
  return Status::Error(Where(config) +
                       ": no version loads, tried the live version and every one live before it: " + tried);
}

ModelWatcher::ModelWatcher(ModelConfig config, std::string running_version,
                           std::function<void(const Status&)> on_failure)
    : config_(std::move(config)),
      on_failure_(std::move(on_failure)),
      running_version_(std::move(running_version)) {}

ModelWatcher::~ModelWatcher() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ModelWatcher::Start() {
  thread_ = std::thread([this] { Loop(); });
}

std::optional<LoadedModel> ModelWatcher::TakeLoaded() {
  std::lock_guard<std::mutex> lock(mu_);
  std::optional<LoadedModel> taken = std::move(loaded_);
  loaded_.reset();
  return taken;
}

std::string ModelWatcher::LastError() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_error_;
}

std::optional<ModelWatcher::ShadowChange> ModelWatcher::TakeShadowChange() {
  std::lock_guard<std::mutex> lock(mu_);
  std::optional<ShadowChange> taken = std::move(shadow_change_);
  shadow_change_.reset();
  return taken;
}

void ModelWatcher::Loop() {
  const auto interval = std::chrono::milliseconds(config_.watch_ms);
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    wake_.wait_for(lock, interval, [this] { return stop_; });
    if (stop_) break;
    lock.unlock();
    // One read of the history serves both looks.
    const Result<std::vector<HistoryRecord>> history = ModelRegistry(config_.registry).History(config_.name);
    Check(history);
    CheckShadow(history);
    lock.lock();
  }
}

void ModelWatcher::Check(const Result<std::vector<HistoryRecord>>& history) {
  Result<ModelConfig> resolved =
      ResolveLive(config_, history.ok() ? Result<std::optional<std::string>>(ReplayLiveVersion(*history))
                                        : history.status());
  const auto now = std::chrono::steady_clock::now();
  const std::string version = resolved.ok() ? resolved->version : std::string();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (resolved.ok() && version == running_version_) {
      last_error_.clear();  // a roll-back to the running version ends a failed roll-out
      return;
    }
    if (failed_.HoldsBack(version, now)) return;
  }
  Status failure = resolved.status();
  std::optional<Scorer> scorer;
  if (resolved.ok()) {
    spdlog::info("model {}: version {} is live; loading it beside the scoring", config_.name, version);
    Result<Scorer> loaded = LoadScorer(*resolved);
    if (loaded.ok()) {
      scorer.emplace(std::move(loaded.value()));
    } else {
      failure = loaded.status().WithContext("version " + version);
    }
  }
  std::string keeping;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (scorer) {
      loaded_.emplace(LoadedModel{std::move(resolved.value()), std::move(*scorer)});
      running_version_ = version;
      failed_ = {};
      last_error_.clear();
      return;
    }
    failed_ = {version, now};
    last_error_ = failure.message();
    keeping = running_version_;
  }
  spdlog::error("model {}: keeping version {}: {}", config_.name, keeping, failure.message());
  if (on_failure_) on_failure_(failure);
}

void ModelWatcher::CheckShadow(const Result<std::vector<HistoryRecord>>& history) {
  if (!history.ok()) return;  // Check() reports an unreadable registry
  const std::string version = ReplayShadowVersion(*history).value_or("");
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (version == shadow_version_) return;
    if (version.empty()) {
      spdlog::info("model {}: version {} is no longer in shadow", config_.name, shadow_version_);
      shadow_version_.clear();
      shadow_change_.emplace();
      return;
    }
    if (failed_shadow_.HoldsBack(version, now)) return;
  }
  spdlog::info("model {}: version {} is in shadow; loading it beside the scoring", config_.name, version);
  Result<LoadedModel> loaded = LoadResolved(config_.name, ResolveVersion(config_, version));
  std::lock_guard<std::mutex> lock(mu_);
  if (!loaded.ok()) {
    failed_shadow_ = {version, now};
    spdlog::error("model {}: cannot score version {} in shadow (keeping {}): {}", config_.name, version,
                  shadow_version_.empty() ? std::string("none") : shadow_version_, loaded.status().message());
    return;
  }
  shadow_version_ = version;
  failed_shadow_ = {};
  shadow_change_.emplace(ShadowChange{std::move(loaded.value())});
}

}  // namespace scorepipe
