// Helpers shared by the topology tests (tests/config/topology_*_test.cc,
// topology_writer_test.cc) and the tests that start from the shipped
// config/local.yaml (tests/runtime): loading a topology text as "t.yaml"
// with the required keys added, its error as text, and the table-driven
// cases of the loader's messages.
//
// Test-only; each test uses its own values. Needs SCOREPIPE_SOURCE_DIR.
#ifndef SCOREPIPE_TESTS_CONFIG_TOPOLOGY_TEST_UTIL_H_
#define SCOREPIPE_TESTS_CONFIG_TOPOLOGY_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <ostream>
#include <string>

#include "config/topology.h"

namespace scorepipe::testing {

inline const std::string kLocalYaml = std::string(SCOREPIPE_SOURCE_DIR) + "/config/local.yaml";

// The required keys, appended after a test's own lines so that its line
// numbers stay as written.
inline const std::string kModel = "model: {path: m.json, features: f.yaml}\n";
// The other required key, appended by Load() to a text that lacks it.
inline const std::string kSecurity = "security: {mode: none}\n";

inline constexpr char kQueueNameAllowed[] =
    "a queue name (a Redis list, a stream for redis-stream, a queue of the service for http-mq), "
    "non-empty, no whitespace";
inline constexpr char kModelFileAllowed[] =
    "a file path, absolute or relative to this file's directory; required unless model.registry is set";

inline Result<Topology> LoadRaw(const std::string& text) {
  return LoadTopologyString(text, "t.yaml", "/base");
}

inline Result<Topology> Load(const std::string& text) {
  return LoadRaw(text.find("security:") == std::string::npos ? text + kSecurity : text);
}

inline Result<Topology> LoadWithModel(const std::string& text) { return Load(text + kModel); }

inline std::string ErrorOf(const Result<Topology>& result) {
  return result.ok() ? "(loaded without error)" : result.status().message();
}

// config/local.yaml as loaded (a test failure, and the defaults, when it
// does not load).
inline Topology LocalTopology() {
  auto local = LoadTopologyFile(kLocalYaml);
  EXPECT_TRUE(local.ok()) << ErrorOf(local);
  return local.ok() ? local.value() : Topology{};
}

// One case of a table of texts and the message each gives.
struct Case {
  std::string name;
  std::string yaml;
  std::string message;
};

inline std::string CaseName(const ::testing::TestParamInfo<Case>& info) { return info.param.name; }

// For failure messages: the case's name, not the bytes of the struct.
inline void PrintTo(const Case& c, std::ostream* out) { *out << c.name; }

}  // namespace scorepipe::testing

#endif  // SCOREPIPE_TESTS_CONFIG_TOPOLOGY_TEST_UTIL_H_
