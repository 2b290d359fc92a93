// RedisClient: one synchronous hiredis connection with errors as values.
//
// Used by everything that talks to the external queue (the bridge takes, the
// sink publishes). A broken connection is noticed by the next call, which
// reconnects once before it gives up with an error; callers retry with
// backoff (see RetryBackoff), so a restarted Redis is picked up again.
//
// Owns its connection; not thread-safe: one thread uses one client.
#ifndef SCOREPIPE_QUEUE_REDIS_CLIENT_H_
#define SCOREPIPE_QUEUE_REDIS_CLIENT_H_

#include <hiredis/hiredis.h>

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/topology.h"
#include "proto/status.h"

namespace scorepipe {

struct RedisReplyDeleter {
  void operator()(redisReply* reply) const { freeReplyObject(reply); }
};
using RedisReply = std::unique_ptr<redisReply, RedisReplyDeleter>;

// A Lua script that RedisClient::Eval runs by its digest (EVALSHA), so that a
// call sends the arguments, not the script. The digest is learnt from the
// server the first time; a server that lost its script cache (a restart,
// SCRIPT FLUSH) answers NOSCRIPT and the script is sent again.
//
// A value owned by the code that runs it; one thread uses it.
class RedisScript {
 public:
  explicit RedisScript(std::string body) : body_(std::move(body)) {}

 private:
  friend class RedisClient;
  std::string body_;
  std::string sha_;  // empty until the server told us
};

// The password `config` names (its file's first line, or its environment
// variable), read now; empty when none is configured.
Result<std::string> RedisPassword(const RedisConfig& config);

class RedisClient {
 public:
  explicit RedisClient(RedisConfig config);
  ~RedisClient();
  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  // Connects now (a later call would connect lazily anyway); fails with the
  // address and hiredis' reason.
  Status Connect();

  // Runs one command. A Redis error reply ("-ERR ...") is an error value too.
  Result<RedisReply> Command(const std::vector<std::string_view>& args);

  // Sends all commands in one round trip and reads every reply; fails on the
  // first I/O error or error reply (after reading all replies).
  Result<std::vector<RedisReply>> Pipeline(const std::vector<std::vector<std::string_view>>& commands);

  // Like Pipeline, but error replies come back as replies (type
  // REDIS_REPLY_ERROR) for the caller to inspect (NOGROUP, BUSYGROUP); only
  // an I/O failure is an error value.
  Result<std::vector<RedisReply>> Exchange(const std::vector<std::vector<std::string_view>>& commands);

  // The error value Command/Pipeline make of the error reply `reply` to `command`.
  Status ReplyError(std::string_view command, const redisReply* reply) const;

  // Runs `script`, `keys_and_args` holding `num_keys` keys first, in one
  // round trip: EVALSHA, or on the first call EVAL with SCRIPT LOAD beside it
  // to learn the digest. A server that lost its script cache answers
  // NOSCRIPT without running anything, and a second round trip sends the
  // script again. An error reply of the script is an error value.
  Result<RedisReply> Eval(RedisScript* script, size_t num_keys,
                          const std::vector<std::string_view>& keys_and_args);

  // Sets how long a single reply may take (for BRPOP: more than its timeout).
  void SetReadTimeoutMs(int timeout_ms);

  std::string Address() const;

 private:
  Status EnsureConnected();
  // AUTH with the configured credentials, if any (on a new connection).
  Status Authenticate();
  Status Broken(const char* what);  // drops the connection, returns the error

  RedisConfig config_;
  redisContext* context_ = nullptr;
  int read_timeout_ms_ = 0;  // 0 = no limit
};

// The text of a string/status reply, or an empty view.
std::string_view ReplyText(const redisReply* reply);

}  // namespace scorepipe

#endif  // SCOREPIPE_QUEUE_REDIS_CLIENT_H_
