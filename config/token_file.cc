#include "config/token_file.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string_view>

namespace scorepipe {
namespace {

bool ValidTokenName(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '@' || c == '-';
  });
}

}  // namespace

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

Result<std::vector<AdminToken>> LoadAdminTokenFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::Error("cannot read the admin token file " + path + ": " + std::strerror(errno));
  std::vector<AdminToken> tokens;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    std::istringstream fields(line);
    std::vector<std::string> words;
    for (std::string word; fields >> word;) words.push_back(word);
    if (words.empty() || words[0][0] == '#') continue;
    const std::string where = path + ":" + std::to_string(number) + ": ";
    if (words.size() > 2) return Status::Error(where + "expected \"<token>\" or \"<name> <token>\"");
    AdminToken token;
    token.token = words.back();
    token.name = words.size() == 2 ? words[0] : "admin-" + std::to_string(tokens.size() + 1);
    if (!ValidTokenName(token.name)) {
      return Status::Error(where + "the name '" + token.name + "' has a character outside [A-Za-z0-9._@-]");
    }
    tokens.push_back(std::move(token));
  }
  if (tokens.empty()) return Status::Error("the admin token file " + path + " holds no token");
  return tokens;
}

}  // namespace scorepipe
