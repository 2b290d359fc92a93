#include "config/token_file.h"

#include <cerrno>
#include <cstring>
#include <fstream>

namespace scorepipe {

Result<std::vector<std::string>> LoadTokenFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::Error("cannot read the token file " + path + ": " + std::strerror(errno));
  std::vector<std::string> tokens;
  std::string line;
  while (std::getline(in, line)) {
    const size_t first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos || line[first] == '#') continue;
    const size_t last = line.find_last_not_of(" \t\r");
    tokens.push_back(line.substr(first, last - first + 1));
  }
  if (in.bad()) return Status::Error("cannot read the token file " + path + ": " + std::strerror(errno));
  if (tokens.empty()) return Status::Error("the token file " + path + " holds no token");
  return tokens;
}

}  // namespace scorepipe
