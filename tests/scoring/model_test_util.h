// Helpers shared by the worker tests: where the committed demo model lives,
// a scratch directory that is removed when the test ends, and labelled
// synthetic transactions as model rows.
//
// Test-only; each test uses its own instances.
#ifndef SCOREPIPE_TESTS_SCORING_MODEL_TEST_UTIL_H_
#define SCOREPIPE_TESTS_SCORING_MODEL_TEST_UTIL_H_

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "config/topology.h"
#include "scoring/feature_spec.h"
#include "training/synthetic.h"

namespace scorepipe::testing {

inline std::string DemoDir() { return std::string(SCOREPIPE_SOURCE_DIR) + "/models/demo"; }

inline ModelConfig DemoModelConfig() {
  ModelConfig cfg;
  cfg.path = DemoDir() + "/model.json";
  cfg.format = ModelFormat::kXgboost;
  cfg.features = DemoDir() + "/features.yaml";
  return cfg;
}

// A fresh directory under GoogleTest's temp dir, removed with its contents.
class ScratchDir {
 public:
  ScratchDir() {
    static std::atomic<int> counter{0};
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = info ? info->name() : "test";
    for (char& c : name) {
      if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
    }
    path_ = std::filesystem::path(::testing::TempDir()) /
            ("scorepipe_worker_" + std::to_string(::getpid()) + "_" + name + "_" + std::to_string(counter++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  std::string path() const { return path_.string(); }
  std::string File(const std::string& name) const { return (path_ / name).string(); }

  // Writes `content` to `name` in this directory and returns its path.
  std::string Write(const std::string& name, const std::string& content) const {
    const std::string file = File(name);
    std::ofstream(file, std::ios::binary | std::ios::trunc) << content;
    return file;
  }

 private:
  std::filesystem::path path_;
};

// Labelled synthetic transactions (training/synthetic.h) and their rows under
// the upstream features (UpstreamFeatureSpec()), as the demo trains on them.
struct LabelledRows {
  std::vector<Transaction> txs;
  std::vector<float> rows;  // txs.size() x 4, row-major
  std::vector<float> labels;
};

inline LabelledRows SyntheticRows(size_t n, uint64_t seed) {
  LabelledRows data;
  SyntheticTransactions generator(seed);
  for (size_t i = 0; i < n; ++i) {
    LabelledTransaction t = generator.Next();
    data.txs.push_back(std::move(t.parsed));
    data.labels.push_back(static_cast<float>(t.label));
  }
  FeatureExtractor(UpstreamFeatureSpec()).Extract(data.txs, &data.rows);
  return data;
}

}  // namespace scorepipe::testing

#endif  // SCOREPIPE_TESTS_SCORING_MODEL_TEST_UTIL_H_
