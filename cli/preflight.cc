#include "cli/preflight.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string_view>

#include "runtime/link_security.h"
#include "scoring/model_watcher.h"

namespace scorepipe {
namespace {

void Add(std::vector<std::string>* problems, std::vector<std::string> more) {
  for (std::string& problem : more) {
    if (std::find(problems->begin(), problems->end(), problem) == problems->end()) {
      problems->push_back(std::move(problem));
    }
  }
}

// The model's files, each at its own key, then the model loaded as a worker
// loads it (registry versions included).
void CheckModel(const Topology& topology, std::vector<std::string>* problems) {
  namespace fs = std::filesystem;
  const ModelConfig& model = topology.model;
  // The usual cause of a missing file: a copied topology whose relative
  // paths now start elsewhere.
  const std::string relative_hint =
      topology.source.empty()
          ? ""
          : " (relative paths start at the topology file's folder, " +
                fs::absolute(topology.source).parent_path().lexically_normal().string() + ")";
  const size_t before = problems->size();
  std::error_code error;
  if (!model.registry.empty()) {
    if (!fs::is_directory(model.registry, error)) {
      problems->push_back(KeyPlace(topology, "model.registry") + ": " + model.registry + " is not a folder" +
                          relative_hint);
    }
  } else {
    for (const char* key : {"model.path", "model.features"}) {
      const std::string& path = std::string_view(key) == "model.path" ? model.path : model.features;
      if (fs::is_directory(path, error)) {
        problems->push_back(KeyPlace(topology, key) + ": " + path + " is a directory, not a file");
      } else if (!fs::exists(path, error)) {
        problems->push_back(KeyPlace(topology, key) + ": " + path + " does not exist" + relative_hint);
      }
    }
  }
  if (problems->size() > before) return;
  if (Result<StartingModel> loaded = LoadModelOf(model); !loaded.ok()) {
    problems->push_back(KeyPlace(topology, model.registry.empty() ? "model.path" : "model.registry") +
                        ": cannot load the model: " + loaded.status().message());
  }
}

}  // namespace

std::vector<std::string> Preflight(const Topology& topology, PreflightScope scope) {
  std::vector<std::string> problems;
  if (scope.head) Add(&problems, CheckSecurityFiles(topology, /*server=*/true));
  if (scope.worker) Add(&problems, CheckSecurityFiles(topology, /*server=*/false));
  if (scope.worker) CheckModel(topology, &problems);
  const std::string& password_file = topology.queue.redis.password_file;
  if (scope.head && !password_file.empty() && !std::ifstream(password_file)) {
    problems.push_back(KeyPlace(topology, "queue.redis.password_file") + ": cannot read " + password_file);
  }
  return problems;
}

}  // namespace scorepipe
