#include "tests/support/upstream_oracle.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "proto/upstream_json.h"
#include "tests/support/temp_dir.h"

namespace scorepipe::testing {

bool UpstreamOracleAvailable() { return access(kNodePath, X_OK) == 0; }

Result<std::vector<std::string>> RunUpstreamOracle(const std::string& mode,
                                                   const std::vector<std::string>& inputs) {
  TempDir dir("upstream_oracle");
  // Through a file, not a pipe both ways: node's answers cannot block its reading.
  const std::string input = (dir.path() / "input.jsonl").string();
  {
    std::ofstream out(input);
    std::string line;
    for (const std::string& text : inputs) {
      line.clear();
      AppendJsonString(text, &line);
      out << line << '\n';
    }
    if (!out) return Status::Error("cannot write " + input);
  }
  const std::string command = std::string("TZ=UTC ") + kNodePath + " " + SCOREPIPE_SOURCE_DIR +
                              "/tests/support/upstream_oracle/oracle.mjs " + mode + " < " + input;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return Status::Error("cannot run " + command);
  std::vector<std::string> lines;
  lines.reserve(inputs.size());
  std::string line;
  for (int c = std::fgetc(pipe); c != EOF; c = std::fgetc(pipe)) {
    if (c == '\n') {
      lines.push_back(std::move(line));
      line.clear();
    } else {
      line.push_back(static_cast<char>(c));
    }
  }
  if (pclose(pipe) != 0) return Status::Error(command + " failed");
  if (lines.size() != inputs.size()) {
    return Status::Error("the oracle answered " + std::to_string(lines.size()) + " lines for " +
                         std::to_string(inputs.size()));
  }
  return lines;
}

}  // namespace scorepipe::testing
