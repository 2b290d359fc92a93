// Bearer-token files (gateway.tokens_file, gateway.admin_tokens_file): one
// token per line, never in the topology itself. What the gateway reads at
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

}  // namespace scorepipe

#endif  // SCOREPIPE_CONFIG_TOKEN_FILE_H_
