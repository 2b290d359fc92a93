// Bearer-token files (gateway.tokens_file, gateway.admin_tokens_file): one
// token per line (an admin token may be named), never in the topology itself. What the gateway reads at
// start and `scorepipe check --role gateway` looks at beforehand share this
// one reading of the format.
//
// A free function; any thread.
#ifndef SCOREPIPE_CONFIG_TOKEN_FILE_H_
#define SCOREPIPE_CONFIG_TOKEN_FILE_H_

#include <string>
#include <vector>

#include "proto/status.h"

namespace scorepipe {

// The tokens of the file at `path`: one per line, blank lines and lines
// starting with '#' skipped, surrounding whitespace trimmed. An error names
// the file and why (it cannot be read, or holds no token).
Result<std::vector<std::string>> LoadTokenFile(const std::string& path);

// An admin token (gateway.admin_tokens_file): a line is "<token>" or
// "<name> <token>"; the name is who the model registry's history records
// ("admin-<n>" for the n-th token without one).
struct AdminToken {
  std::string name;
  std::string token;
};

// The admin tokens of the file at `path`, read like LoadTokenFile's. An
// error names the file and line (more than two fields, a name outside
// [A-Za-z0-9._@-]); a file without a token is an error too.
Result<std::vector<AdminToken>> LoadAdminTokenFile(const std::string& path);

}  // namespace scorepipe

#endif  // SCOREPIPE_CONFIG_TOKEN_FILE_H_
