#include "local_cluster/synthetic_push.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string_view>

#include "proto/text.h"
#include "config/topology.h"
#include "runtime/node.h"

namespace scorepipe {

Status PushMessages(RedisClient& client, const std::string& list, const std::vector<std::string>& messages,
                    size_t chunk) {
  chunk = std::max<size_t>(chunk, 1);
  std::vector<std::vector<std::string_view>> commands;
  for (size_t start = 0; start < messages.size(); start += chunk) {
    std::vector<std::string_view> args = {"LPUSH", list};
    for (size_t i = start; i < std::min(messages.size(), start + chunk); ++i) args.push_back(messages[i]);
    commands.push_back(std::move(args));
    if (commands.size() == 16 || start + chunk >= messages.size()) {
      auto replies = client.Pipeline(commands);
      if (!replies.ok()) return replies.status().WithContext("pushing to " + list);
      commands.clear();
    }
  }
  return Status::Ok();
}

Status PushSynthetic(RedisClient& client, const std::string& list, SyntheticTransactions& generator,
                     size_t count, size_t chunk) {
  std::vector<std::string> messages;
  constexpr size_t kSlice = 100000;  // bounded memory for large pushes
  for (size_t done = 0; done < count;) {
    size_t n = std::min(kSlice, count - done);
    messages.clear();
    for (size_t i = 0; i < n; ++i) messages.push_back(generator.Next().json);
    if (Status s = PushMessages(client, list, messages, chunk); !s.ok()) return s;
    done += n;
  }
  return Status::Ok();
}

Status PushSynthetic(Queue& queue, SyntheticTransactions& generator, size_t count, size_t chunk,
                     const PushProgress& progress) {
  chunk = std::max<size_t>(chunk, 1);
  std::vector<std::string> messages;
  for (size_t done = 0; done < count;) {
    const size_t n = std::min(chunk, count - done);
    messages.clear();
    for (size_t i = 0; i < n; ++i) messages.push_back(generator.Next().json);
    if (Status s = queue.Push(messages); !s.ok()) {
      return s.WithContext("after " + std::to_string(done) + " of " + std::to_string(count));
    }
    done += n;
    if (progress && !progress(done) && done < count) {
      return Status::Error("stopped after pushing " + std::to_string(done) + " of " + std::to_string(count));
    }
  }
  return Status::Ok();
}

int RunPush(const PushOptions& options) {
  using Clock = std::chrono::steady_clock;
  Result<Topology> topology = LoadTopologyFile(options.config_path);
  if (!topology.ok()) {
    std::fprintf(stderr, "scorepipe push: %s\n", topology.status().message().c_str());
    return 2;
  }
  Result<std::unique_ptr<Queue>> queue = OpenQueue(topology->queue);
  if (!queue.ok()) {
    std::fprintf(stderr, "scorepipe push: %s\n", queue.status().message().c_str());
    return 1;
  }
  InstallStopSignalHandlers();
  const std::string total = WithThousands(static_cast<int64_t>(options.count));
  const auto start = Clock::now();
  auto last_line = start;
  size_t pushed = 0;
  auto progress = [&](size_t done) {
    pushed = done;
    const auto now = Clock::now();
    if (now - last_line >= std::chrono::seconds(1)) {
      const double seconds = std::chrono::duration<double>(now - start).count();
      std::printf("  %6.1f s  pushed %11s / %s  %10s tx/s\n", seconds,
                  WithThousands(static_cast<int64_t>(done)).c_str(), total.c_str(),
                  WithThousands(static_cast<int64_t>(done / seconds)).c_str());
      std::fflush(stdout);
      last_line = now;
    }
    return !StopRequested();
  };
  SyntheticTransactions generator(options.seed, options.first_id);
  const Status s = PushSynthetic(*queue.value(), generator, options.count, options.chunk, progress);
  const double seconds = std::max(1e-6, std::chrono::duration<double>(Clock::now() - start).count());
  const int64_t last_id = options.first_id + static_cast<int64_t>(pushed) - 1;
  if (!s.ok() && StopRequested()) {
    std::fprintf(stderr, "scorepipe push: interrupted: pushed %s of %s (ids %lld..%lld) to %s\n",
                 WithThousands(static_cast<int64_t>(pushed)).c_str(), total.c_str(),
                 static_cast<long long>(options.first_id), static_cast<long long>(last_id),
                 queue.value()->Describe().c_str());
    return 1;
  }
  if (!s.ok()) {
    std::fprintf(stderr, "scorepipe push: %s: %s\n", queue.value()->Describe().c_str(), s.message().c_str());
    if (pushed > 0) {
      std::fprintf(stderr, "scorepipe push: ids %lld..%lld went in before that\n",
                   static_cast<long long>(options.first_id), static_cast<long long>(last_id));
    }
    return 1;
  }
  std::printf("pushed %s transactions (ids %lld..%lld) in %.2f s (%s tx/s) to %s\n", total.c_str(),
              static_cast<long long>(options.first_id), static_cast<long long>(last_id), seconds,
              WithThousands(static_cast<int64_t>(static_cast<double>(pushed) / seconds)).c_str(),
              queue.value()->Describe().c_str());
  return 0;
}

}  // namespace scorepipe
