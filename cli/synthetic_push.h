// Pushes synthetic upstream transactions into a Redis list the way the
// upstream producers do (LPUSH, oldest first out), many per round trip.
// Used by `scorepipe push`, `scorepipe demo` and the tests.
//
// A free function; the caller owns the client and the generator.
#ifndef SCOREPIPE_CLI_SYNTHETIC_PUSH_H_
#define SCOREPIPE_CLI_SYNTHETIC_PUSH_H_

#include <cstddef>
#include <string>
#include <vector>

#include "bench/synthetic.h"
#include "bridge/redis_client.h"
#include "proto/status.h"

namespace scorepipe {

// LPUSHes `messages` to `list` in chunks of `chunk`, in order (the first
// message is the first a consumer's RPOP gets).
Status PushMessages(RedisClient& client, const std::string& list, const std::vector<std::string>& messages,
                    size_t chunk = 1000);

// Pushes the next `count` transactions of `generator`.
Status PushSynthetic(RedisClient& client, const std::string& list, SyntheticTransactions& generator, size_t count,
                     size_t chunk = 1000);

}  // namespace scorepipe

#endif  // SCOREPIPE_CLI_SYNTHETIC_PUSH_H_
