#include "tests/support/suite_redis.h"

#include <stdlib.h>

#include <filesystem>

namespace scorepipe::testing {
namespace fs = std::filesystem;

void SuiteRedis::Start() {
  std::string pattern = (fs::temp_directory_path() / "scorepipe-suite-redis-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) {
    error_ = "mkdtemp failed";
    return;
  }
  dir_ = pattern;
  LocalRedisOptions options;
  options.dir = dir_;
  auto server = LocalRedis::Start(options);
  if (server.ok()) {
    server_ = std::move(server.value());
  } else {
    error_ = server.status().message();
  }
}

void SuiteRedis::Stop() {
  server_.reset();
  std::error_code ignored;
  if (!dir_.empty()) fs::remove_all(dir_, ignored);
}

}  // namespace scorepipe::testing
