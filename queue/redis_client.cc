#include "queue/redis_client.h"

#include <poll.h>
#include <sys/time.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <utility>

namespace scorepipe {
namespace {

timeval ToTimeval(int ms) {
  timeval tv{};
  tv.tv_sec = ms / 1000;
  tv.tv_usec = (ms % 1000) * 1000;
  return tv;
}

void AppendArgv(redisContext* context, const std::vector<std::string_view>& args) {
  std::vector<const char*> argv;
  std::vector<size_t> lengths;
  argv.reserve(args.size());
  lengths.reserve(args.size());
  for (std::string_view arg : args) {
    argv.push_back(arg.data());
    lengths.push_back(arg.size());
  }
  redisAppendCommandArgv(context, static_cast<int>(argv.size()), argv.data(), lengths.data());
}

// Between calls nothing is due from the server, so a readable connection is
// one the server closed (a restart, a client timeout). Sending on it would
// fail; reconnecting first is safe, since nothing has been sent yet.
bool ClosedByServer(const redisContext* context) {
  pollfd idle{context->fd, POLLIN, 0};
  return poll(&idle, 1, 0) != 0;
}

}  // namespace

RedisClient::RedisClient(RedisConfig config) : config_(std::move(config)) {}

RedisClient::~RedisClient() {
  if (context_ != nullptr) redisFree(context_);
}

std::string RedisClient::Address() const {
  return "redis://" + config_.host + ":" + std::to_string(config_.port) + "/" + std::to_string(config_.db);
}

void RedisClient::SetReadTimeoutMs(int timeout_ms) {
  if (timeout_ms == read_timeout_ms_) return;  // a connection has it already
  read_timeout_ms_ = timeout_ms;
  if (context_ != nullptr) redisSetTimeout(context_, ToTimeval(timeout_ms));
}

Status RedisClient::Connect() { return EnsureConnected(); }

Status RedisClient::Broken(const char* what) {
  std::string reason = context_ != nullptr && context_->err != 0 ? context_->errstr : "connection lost";
  if (context_ != nullptr) {
    redisFree(context_);
    context_ = nullptr;
  }
  return Status::Error(std::string(what) + " " + Address() + ": " + reason);
}

Result<std::string> RedisPassword(const RedisConfig& config) {
  if (!config.password_env.empty()) {
    const char* value = std::getenv(config.password_env.c_str());
    if (value == nullptr) {
      return Status::Error("the Redis password's environment variable " + config.password_env +
                           " (queue.redis.password_env) is not set");
    }
    return std::string(value);
  }
  if (config.password_file.empty()) return std::string();
  std::ifstream in(config.password_file);
  if (!in) {
    return Status::Error("cannot read the Redis password file " + config.password_file +
                         " (queue.redis.password_file): " + std::strerror(errno));
  }
  std::string password;
  std::getline(in, password);
  while (!password.empty() && (password.back() == '\r' || password.back() == ' ')) password.pop_back();
  if (password.empty()) {
    return Status::Error("the Redis password file " + config.password_file + " is empty");
  }
  return password;
}

Status RedisClient::Authenticate() {
  Result<std::string> password = RedisPassword(config_);
  if (!password.ok()) return password.status();
  if (password.value().empty()) return Status::Ok();
  const std::string who = config_.user.empty() ? "" : " as " + config_.user;
  std::vector<const char*> argv = {"AUTH"};
  std::vector<size_t> lengths = {4};
  if (!config_.user.empty()) {
    argv.push_back(config_.user.c_str());
    lengths.push_back(config_.user.size());
  }
  argv.push_back(password.value().c_str());
  lengths.push_back(password.value().size());
  auto* raw = static_cast<redisReply*>(
      redisCommandArgv(context_, static_cast<int>(argv.size()), argv.data(), lengths.data()));
  RedisReply reply(raw);
  if (!reply) return Status::Error("lost connection to " + Address() + " while authenticating" + who);
  if (reply->type == REDIS_REPLY_ERROR) {
    // The reply names the problem (WRONGPASS, no password set); the password never appears.
    return Status::Error("AUTH" + who + " on " + Address() + ": " + std::string(ReplyText(raw)));
  }
  return Status::Ok();
}

Status RedisClient::EnsureConnected() {
  if (context_ != nullptr && context_->err == 0 && !ClosedByServer(context_)) return Status::Ok();
  if (context_ != nullptr) {
    redisFree(context_);
    context_ = nullptr;
  }
  context_ =
      redisConnectWithTimeout(config_.host.c_str(), config_.port, ToTimeval(config_.connect_timeout_ms));
  if (context_ == nullptr) return Status::Error("cannot allocate a Redis context");
  if (context_->err != 0) return Broken("cannot connect to");
  if (read_timeout_ms_ > 0) redisSetTimeout(context_, ToTimeval(read_timeout_ms_));
  if (Status s = Authenticate(); !s.ok()) {
    redisFree(context_);
    context_ = nullptr;
    return s;
  }
  if (config_.db != 0) {
    std::string db = std::to_string(config_.db);
    auto* raw = static_cast<redisReply*>(redisCommand(context_, "SELECT %s", db.c_str()));
    RedisReply reply(raw);
    if (!reply) return Broken("lost connection to");
    if (reply->type == REDIS_REPLY_ERROR) {
      return Status::Error("SELECT " + db + " on " + Address() + ": " + std::string(ReplyText(raw)));
    }
  }
  return Status::Ok();
}

Result<RedisReply> RedisClient::Command(const std::vector<std::string_view>& args) {
  auto replies = Pipeline({args});
  if (!replies.ok()) return replies.status();
  return std::move(replies.value().front());
}

Result<std::vector<RedisReply>> RedisClient::Exchange(
    const std::vector<std::vector<std::string_view>>& commands) {
  if (Status s = EnsureConnected(); !s.ok()) return s;
  for (const auto& args : commands) AppendArgv(context_, args);
  std::vector<RedisReply> replies;
  replies.reserve(commands.size());
  for (size_t i = 0; i < commands.size(); ++i) {
    void* raw = nullptr;
    if (redisGetReply(context_, &raw) != REDIS_OK || raw == nullptr) {
      return Broken("lost connection to");
    }
    replies.emplace_back(static_cast<redisReply*>(raw));
  }
  return replies;
}

Status RedisClient::ReplyError(std::string_view command, const redisReply* reply) const {
  return Status::Error(std::string(command) + " on " + Address() + ": " + std::string(ReplyText(reply)));
}

Result<std::vector<RedisReply>> RedisClient::Pipeline(
    const std::vector<std::vector<std::string_view>>& commands) {
  auto replies = Exchange(commands);
  if (!replies.ok()) return replies.status();
  for (size_t i = 0; i < commands.size(); ++i) {
    const redisReply* reply = replies.value()[i].get();
    if (reply->type == REDIS_REPLY_ERROR) return ReplyError(commands[i].front(), reply);
  }
  return replies;
}

Result<RedisReply> RedisClient::Eval(RedisScript* script, size_t num_keys,
                                     const std::vector<std::string_view>& keys_and_args) {
  const std::string keys = std::to_string(num_keys);
  std::vector<std::string_view> call;
  call.reserve(keys_and_args.size() + 3);
  call.emplace_back("EVALSHA");
  call.emplace_back(script->sha_);
  call.push_back(keys);
  call.insert(call.end(), keys_and_args.begin(), keys_and_args.end());
  if (!script->sha_.empty()) {
    auto replies = Exchange({call});
    if (!replies.ok()) return replies.status();
    RedisReply& reply = replies.value().front();
    // NOSCRIPT: the script did not run, so sending it again is safe.
    if (reply->type != REDIS_REPLY_ERROR || !ReplyText(reply.get()).starts_with("NOSCRIPT")) {
      if (reply->type == REDIS_REPLY_ERROR) return ReplyError("EVALSHA", reply.get());
      return std::move(reply);
    }
  }
  call[0] = "EVAL";
  call[1] = script->body_;
  auto replies = Pipeline({{"SCRIPT", "LOAD", script->body_}, call});
  if (!replies.ok()) return replies.status();
  script->sha_ = ReplyText(replies.value()[0].get());
  return std::move(replies.value()[1]);
}

std::string_view ReplyText(const redisReply* reply) {
  if (reply == nullptr || reply->str == nullptr) return {};
  return std::string_view(reply->str, reply->len);
}

}  // namespace scorepipe
