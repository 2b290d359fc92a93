// docs/configuration.md matches the loader: one table row per key the loader
// accepts (no more, no fewer), and each default it shows is the code's.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "config/topology.h"
#include "config/topology_writer.h"

namespace scorepipe {
namespace {

struct DocRow {
  std::string default_cell;  // as written: "`512`" or "(required)"
  int line = 0;
};

// Rows of the form "| `key` | default | allowed | what |", by key.
std::map<std::string, DocRow> DocumentedKeys(const std::string& path, std::vector<std::string>* twice) {
  std::ifstream in(path);
  std::map<std::string, DocRow> rows;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (line.rfind("| `", 0) != 0) continue;
    const size_t key_end = line.find('`', 3);
    const std::string key = line.substr(3, key_end - 3);
    const size_t cell_start = line.find('|', key_end) + 1;
    const size_t cell_end = line.find('|', cell_start);
    std::string cell = line.substr(cell_start, cell_end - cell_start);
    cell.erase(0, cell.find_first_not_of(' '));
    cell.erase(cell.find_last_not_of(' ') + 1);
    if (!rows.emplace(key, DocRow{cell, number}).second) twice->push_back(key);
  }
  return rows;
}

// Every leaf of the writer's YAML for a default Topology, as "a.b.c" -> text.
void Flatten(const YAML::Node& node, const std::string& prefix, std::map<std::string, std::string>* out) {
  if (node.IsMap()) {
    for (const auto& item : node) {
      const std::string key = item.first.as<std::string>();
      Flatten(item.second, prefix.empty() ? key : prefix + "." + key, out);
    }
    return;
  }
  (*out)[prefix] = node.IsNull() ? "" : node.as<std::string>();
}

const std::string kDoc = std::string(SCOREPIPE_SOURCE_DIR) + "/docs/configuration.md";

TEST(ConfigurationDocTest, DocumentsEveryKeyTheLoaderAcceptsAndNoOther) {
  std::vector<std::string> twice;
  const std::map<std::string, DocRow> documented = DocumentedKeys(kDoc, &twice);
  ASSERT_FALSE(documented.empty()) << "no key rows in " << kDoc;
  EXPECT_TRUE(twice.empty()) << "documented twice: " << ::testing::PrintToString(twice);
  const std::vector<std::string> keys = TopologyKeys();
  for (const std::string& key : keys) EXPECT_TRUE(documented.contains(key)) << key << " is not in " << kDoc;
  const std::set<std::string> accepted(keys.begin(), keys.end());
  for (const auto& [key, row] : documented) {
    EXPECT_TRUE(accepted.contains(key))
        << kDoc << ":" << row.line << ": `" << key << "` is not a key the loader accepts";
  }
}

TEST(ConfigurationDocTest, EachDefaultShownIsTheCodesDefault) {
  std::vector<std::string> twice;
  const std::map<std::string, DocRow> documented = DocumentedKeys(kDoc, &twice);
  std::map<std::string, std::string> defaults;
  const Topology code_defaults;
  Flatten(YAML::Load(TopologyToYaml(code_defaults)), "", &defaults);
  const std::vector<std::string> required_keys = RequiredTopologyKeys();
  const std::set<std::string> required(required_keys.begin(), required_keys.end());
  for (const auto& [key, row] : documented) {
    if (!defaults.contains(key)) continue;  // reported by the other test
    if (required.contains(key) || row.default_cell == "(required)") {
      EXPECT_TRUE(required.contains(key) && row.default_cell == "(required)")
          << kDoc << ":" << row.line << ": " << key << " is shown as '" << row.default_cell
          << "'; the loader " << (required.contains(key) ? "requires it" : "does not require it");
      continue;
    }
    const std::string& code = defaults[key];
    if (code.empty()) {  // required, or derived from another key
      EXPECT_EQ(row.default_cell.find('`'), std::string::npos)
          << kDoc << ":" << row.line << ": " << key << " has no default in the code";
      continue;
    }
    const std::string shown = row.default_cell == "`''`" ? "" : row.default_cell;
    EXPECT_EQ(shown, "`" + code + "`") << kDoc << ":" << row.line << ": " << key;
  }
}

}  // namespace
}  // namespace scorepipe
