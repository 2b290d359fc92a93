#include "bench/redis_stats.h"

#include <algorithm>
#include <charconv>
#include <map>

#include "queue/redis_client.h"

namespace scorepipe {
namespace {

constexpr std::string_view kPrefix = "cmdstat_";

// The integer after "<key>=" in the comma-separated `fields`.
bool FieldValue(std::string_view fields, std::string_view key, int64_t* out) {
  size_t at = 0;
  while (at < fields.size()) {
    size_t end = fields.find(',', at);
    if (end == std::string_view::npos) end = fields.size();
    const std::string_view field = fields.substr(at, end - at);
    if (field.size() > key.size() && field.substr(0, key.size()) == key && field[key.size()] == '=') {
      const std::string_view value = field.substr(key.size() + 1);
      const auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), *out);
      return ec == std::errc() && ptr == value.data() + value.size();
    }
    at = end + 1;
  }
  return false;
}

}  // namespace

Result<std::vector<RedisCommandStat>> ParseCommandStats(std::string_view info) {
  std::vector<RedisCommandStat> out;
  size_t at = 0;
  while (at < info.size()) {
    size_t end = info.find('\n', at);
    if (end == std::string_view::npos) end = info.size();
    std::string_view line = info.substr(at, end - at);
    at = end + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.substr(0, kPrefix.size()) != kPrefix) continue;
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos)
      return Status::Error("INFO commandstats: no ':' in '" + std::string(line) + "'");
    RedisCommandStat stat;
    stat.command = std::string(line.substr(kPrefix.size(), colon - kPrefix.size()));
    const std::string_view fields = line.substr(colon + 1);
    if (!FieldValue(fields, "calls", &stat.calls) || !FieldValue(fields, "usec", &stat.usec)) {
      return Status::Error("INFO commandstats: no calls= or usec= for '" + stat.command + "' in '" +
                           std::string(line) + "'");
    }
    out.push_back(std::move(stat));
  }
  return out;
}

Result<std::vector<RedisCommandStat>> ReadCommandStats(RedisClient& redis) {
  auto reply = redis.Command({"INFO", "commandstats"});
  if (!reply.ok()) return reply.status().WithContext("reading Redis' command statistics");
  Result<std::vector<RedisCommandStat>> parsed = ParseCommandStats(ReplyText(reply.value().get()));
  if (!parsed.ok()) return parsed.status().WithContext("reading Redis' command statistics");
  return parsed;
}

std::vector<RedisCommandStat> CommandStatsSpent(const std::vector<RedisCommandStat>& before,
                                                const std::vector<RedisCommandStat>& after) {
  std::map<std::string, const RedisCommandStat*> earlier;
  for (const RedisCommandStat& s : before) earlier[s.command] = &s;
  std::vector<RedisCommandStat> out;
  for (const RedisCommandStat& s : after) {
    RedisCommandStat spent = s;
    if (auto it = earlier.find(s.command); it != earlier.end()) {
      spent.calls -= it->second->calls;
      spent.usec -= it->second->usec;
    }
    if (spent.calls > 0) out.push_back(std::move(spent));
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const RedisCommandStat& a, const RedisCommandStat& b) { return a.usec > b.usec; });
  return out;
}

}  // namespace scorepipe
