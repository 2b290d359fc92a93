// LeaseParts: the sink's assembly of the leases that the ventilator split.
//
// A poison batch is cut into parts (proto/messages.h LeasePart) so that the
// messages that fail are found and dead-lettered on their own while their
// neighbours are scored. Each part's ResultBatch answers some positions of
// the lease; a lease settles in the queue only as a whole (queue/queue.h),
// so the sink keeps each part's outcomes here until every position of its
// lease has one, and then settles the lease once with all of them.
//
// Bounded: at most `max_leases` leases are assembled at once (a part of one
// more is refused), and a lease that is not complete `max_age` after its
// first part is dropped by Expire: by then its lease has been reclaimed and
// its messages come round again. A position answered twice (a re-dispatched
// part) keeps its first outcome; the second is counted as a duplicate. Whatever
// is held is lost with the sink process, which is safe for the same reason.
//
// One thread owns a LeaseParts.
#ifndef SCOREPIPE_SINK_LEASE_PARTS_H_
#define SCOREPIPE_SINK_LEASE_PARTS_H_

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "proto/messages.h"
#include "proto/status.h"
#include "queue/queue.h"

namespace scorepipe {

struct LeasePartsAdded {
  // Every position now has its outcome: the lease's outcomes in lease order,
  // and the live-feed frames of its parts; the lease is no longer held here.
  std::optional<std::vector<Outcome>> complete;
  std::vector<std::string> frames;
  size_t duplicates = 0;  // outcomes of positions that had one already
};

class LeaseParts {
 public:
  using Clock = std::chrono::steady_clock;

  LeaseParts(size_t max_leases, std::chrono::milliseconds max_age);
  LeaseParts(const LeaseParts&) = delete;
  LeaseParts& operator=(const LeaseParts&) = delete;

  // Adds the outcomes of `part` of `lease` (one per position of the part, in
  // order; FormatOutcomes of the part's ResultBatch) and the part's frame.
  // Fails, holding nothing new, when the part does not fit what is held for
  // the lease (another lease size) or when max_leases are held already.
  Result<LeasePartsAdded> Add(const std::string& lease, const LeasePart& part, std::vector<Outcome> outcomes,
                              std::string frame, Clock::time_point now);

  // Drops the leases whose first part came over max_age ago; returns how many.
  size_t Expire(Clock::time_point now);

  size_t held() const { return leases_.size(); }

 private:
  struct Assembly {
    std::vector<std::optional<Outcome>> outcomes;  // by lease position
    size_t filled = 0;
    std::vector<std::string> frames;
    Clock::time_point started;
  };

  const size_t max_leases_;
  const std::chrono::milliseconds max_age_;
  std::unordered_map<std::string, Assembly> leases_;
};

}  // namespace scorepipe

#endif  // SCOREPIPE_SINK_LEASE_PARTS_H_
