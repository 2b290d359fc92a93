#include "sink/lease_parts.h"

#include <utility>

namespace scorepipe {

LeaseParts::LeaseParts(size_t max_leases, std::chrono::milliseconds max_age)
    : max_leases_(max_leases), max_age_(max_age) {}

Result<LeasePartsAdded> LeaseParts::Add(const std::string& lease, const LeasePart& part,
                                        std::vector<Outcome> outcomes, std::string frame,
                                        Clock::time_point now) {
  const std::string where = "lease " + lease + " part [" + std::to_string(part.begin) + ", " +
                            std::to_string(part.end) + ") of " + std::to_string(part.lease_size);
  if (part.whole() || part.begin >= part.end || part.end > part.lease_size) {
    return Status::Error(where + ": not a part of a lease");
  }
  if (outcomes.size() != part.end - part.begin) {
    return Status::Error(where + ": " + std::to_string(outcomes.size()) + " outcomes");
  }
  auto it = leases_.find(lease);
  if (it == leases_.end()) {
    if (leases_.size() >= max_leases_) {
      return Status::Error(where + ": " + std::to_string(max_leases_) +
                           " split leases are assembled already");
    }
    Assembly assembly;
    assembly.outcomes.resize(part.lease_size);
    assembly.started = now;
    it = leases_.emplace(lease, std::move(assembly)).first;
  } else if (it->second.outcomes.size() != part.lease_size) {
    return Status::Error(where + ": other parts of this lease say it has " +
                         std::to_string(it->second.outcomes.size()) + " messages");
  }
  Assembly& assembly = it->second;
  LeasePartsAdded added;
  for (size_t i = 0; i < outcomes.size(); ++i) {
    std::optional<Outcome>& slot = assembly.outcomes[part.begin + i];
    if (slot) {
      ++added.duplicates;
      continue;
    }
    slot = std::move(outcomes[i]);
    ++assembly.filled;
  }
  if (added.duplicates < outcomes.size()) assembly.frames.push_back(std::move(frame));
  if (assembly.filled < assembly.outcomes.size()) return added;
  std::vector<Outcome>& complete = added.complete.emplace();
  complete.reserve(assembly.outcomes.size());
  for (std::optional<Outcome>& outcome : assembly.outcomes) complete.push_back(std::move(*outcome));
  added.frames = std::move(assembly.frames);
  leases_.erase(it);
  return added;
}

size_t LeaseParts::Expire(Clock::time_point now) {
  size_t dropped = 0;
  for (auto it = leases_.begin(); it != leases_.end();) {
    if (now - it->second.started >= max_age_) {
      it = leases_.erase(it);
      ++dropped;
    } else {
      ++it;
    }
  }
  return dropped;
}

}  // namespace scorepipe
