// Where Redis spends its time: the per-command figures of INFO commandstats
// (calls and microseconds inside each command), read before and after a run
// and subtracted, so a run's table can say which commands cost what.
//
// Free functions; any thread (each call uses the client it is given).
#ifndef SCOREPIPE_BENCH_REDIS_STATS_H_
#define SCOREPIPE_BENCH_REDIS_STATS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "proto/status.h"

namespace scorepipe {

class RedisClient;

struct RedisCommandStat {
  std::string command;  // "evalsha", "lpush", "rpop", ... (lower case, as Redis names them)
  int64_t calls = 0;
  int64_t usec = 0;  // inside the command (a script's inner commands count in both)
};

// Parses the text of INFO commandstats ("cmdstat_rpop:calls=3,usec=12,...").
// Lines that are not command figures are skipped; a command line without
// calls= or usec= is an error naming it.
Result<std::vector<RedisCommandStat>> ParseCommandStats(std::string_view info);

// INFO commandstats of the server `redis` talks to.
Result<std::vector<RedisCommandStat>> ReadCommandStats(RedisClient& redis);

// What `after` adds to `before`, by command, commands with no new calls
// left out, the costliest first.
std::vector<RedisCommandStat> CommandStatsSpent(const std::vector<RedisCommandStat>& before,
                                                const std::vector<RedisCommandStat>& after);

}  // namespace scorepipe

#endif  // SCOREPIPE_BENCH_REDIS_STATS_H_
