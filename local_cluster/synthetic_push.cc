#include "local_cluster/synthetic_push.h"

#include <algorithm>
#include <memory>
#include <string_view>

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

}  // namespace scorepipe
