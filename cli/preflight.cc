#include "cli/preflight.h"

#include <algorithm>
#include <filesystem>
#include <fstream>

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

}  // namespace

std::vector<std::string> Preflight(const Topology& topology, PreflightScope scope) {
  std::vector<std::string> problems;
  if (scope.head) Add(&problems, CheckSecurityFiles(topology, /*server=*/true));
  if (scope.worker) Add(&problems, CheckSecurityFiles(topology, /*server=*/false));
  if (scope.worker) {
    if (Result<StartingModel> model = LoadModelOf(topology.model); !model.ok()) {
      const char* key = !topology.model.registry.empty() ? "model.registry" : "model.path";
      std::string problem = KeyPlace(topology, key) + ": cannot load the model: " + model.status().message();
      std::error_code error;
      const std::string& named =
          !topology.model.registry.empty() ? topology.model.registry : topology.model.path;
      if (!topology.source.empty() && !std::filesystem::exists(named, error)) {
        // The usual cause: a copied topology whose relative paths now start elsewhere.
        problem += " (relative paths start at the topology file's folder, " +
                   std::filesystem::absolute(topology.source).parent_path().string() + ")";
      }
      problems.push_back(std::move(problem));
    }
  }
  const std::string& password_file = topology.queue.redis.password_file;
  if (scope.head && !password_file.empty() && !std::ifstream(password_file)) {
    problems.push_back(KeyPlace(topology, "queue.redis.password_file") + ": cannot read " + password_file);
  }
  return problems;
}

}  // namespace scorepipe
