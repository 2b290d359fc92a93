// LeaseJournal: the in-flight record of a queue that cannot keep leases
// itself. The upstream's HTTP queue removes what GET /pull-n returns, so the
// http-mq adapter (queue/http_mq_queue.h) records every pulled message here,
// durably, before anyone sees it, and settles a lease by claiming its file.
//
// Layout of the directory (one per cluster, local to the head host, shared
// by its bridge and sink processes; see docs/architecture.md):
//   journal.lock        flock()ed exclusively around every change and every
//                       look at more than one file, by all processes and
//                       threads (a dead holder's lock is released by the OS)
//   ready-<order>-<id>  messages pulled from the service that no Take has
//                       handed out yet; Take hands out the smallest <order>
//                       (20 digits: the pull's time in us) first. A released
//                       lease keeps its pull's order, so it comes back first.
//   lease-<id>          a lease held by a batch in the cluster; its mtime is
//                       when it was last taken into (Reclaim's age)
//   settling-<id>       a lease claimed by a Settle; the claiming process
//                       holds a flock on it until it finishes or gives the
//                       claim up, so a claim whose process died is told
//                       apart from one in progress
//   new-<name>          a file a change is about to install as <name>
//   intent              a committed change of several files ("remove <name>"
//                       and "install <name>" lines); whoever takes the lock
//                       next completes it (each step is idempotent), so a
//                       split or merge is all-or-nothing across a crash
//                       (durable/multi_file_commit.h is that mechanism; the
//                       journal gives it these names)
//   tmp-*               a file being written (then renamed into place)
//   dead_letters.jsonl  dead-letter entries, one JSON object a line, appended
//                       by the change that ends their lease ("append
//                       <offset> <new-file>" in the intent: cut back to the
//                       offset, then written, so a crash never doubles them)
// A file holds "scorepipe-journal 1", "order <n>", "deliveries <n>" (how many
// times the messages were handed out: Lease::deliveries; a file without the
// line, from before it was kept, reads as 1), "messages <n>", "done <k>
// <positions>" lines, then each message as "<bytes>\n<text>\n". `done` lists
// the messages whose outcome a Settle that failed part-way published
// already; nobody publishes those again, and Reclaim and Release hand out
// only the others. Every file is written to tmp-*, fsync()ed, renamed, and
// the directory fsync()ed, so a message is in exactly one file at any time,
// across crashes of any process and of the host.
//
// Lease ids are "<process start us>-<pid>-<n>": unique on the host.
//
// Thread-safe: the adapter's puller thread and its caller share one
// instance (an in-process mutex beside the flock).
#ifndef SCOREPIPE_QUEUE_LEASE_JOURNAL_H_
#define SCOREPIPE_QUEUE_LEASE_JOURNAL_H_

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "durable/dir.h"
#include "durable/fd.h"
#include "durable/file_lock.h"
#include "durable/multi_file_commit.h"
#include "proto/status.h"
#include "queue/queue.h"

namespace scorepipe {

// A lease a Settle has claimed (settling-<id>), and the flock that says so.
// Move-only; closing it (destructor) without Finish or Unclaim leaves the
// claim to Reclaim, as a dead process's would.
class LeaseClaim {
 public:
  LeaseClaim() = default;
  LeaseClaim(LeaseClaim&& other) noexcept = default;
  LeaseClaim& operator=(LeaseClaim&& other) noexcept = default;
  LeaseClaim(const LeaseClaim&) = delete;
  LeaseClaim& operator=(const LeaseClaim&) = delete;

  std::string id;
  uint64_t order = 0;
  size_t messages = 0;     // in the lease, done or not
  std::vector<bool> done;  // per message: its outcome is published already

 private:
  friend class LeaseJournal;
  FileLock lock_;  // the settling file, open and flock()ed
};

class LeaseJournal {
 public:
  // Nothing is touched before the first call; the directory is created then.
  explicit LeaseJournal(std::string dir);
  LeaseJournal(const LeaseJournal&) = delete;
  LeaseJournal& operator=(const LeaseJournal&) = delete;

  const std::string& dir() const { return dir_; }
  static bool IsLeaseId(std::string_view id);

  // Records `messages`, just removed from the service, as ready: on disk
  // (fsync) when it returns.
  Status AddReady(const std::vector<std::string>& messages);

  // Moves up to `max` ready messages (of the oldest ready file) into `lease`,
  // opening it under a new id when its id is empty; returns how many. When
  // `lease` has an id but the journal no longer holds it (reclaimed, settled,
  // released), clears `lease` and fails: its messages are someone else's.
  Result<size_t> TakeReady(size_t max, Lease* lease);

  // Claims lease `id` for settling; nothing (no error) when the journal
  // holds no such lease: it was settled, reclaimed or released, or another
  // Settle has it.
  Result<std::optional<LeaseClaim>> Claim(const std::string& id);
  // Ends a claimed lease: its outcomes are all published, `dead_letters`
  // (entries without a newline) appended to dead_letters.jsonl here, in
  // the same change: across a crash at any point, the lease ends and its
  // entries are in the file exactly once, or the lease is still held and
  // none are. False when the claim was lost meanwhile (never, while the
  // flock holds); nothing is written then.
  Result<bool> Finish(LeaseClaim claim, const std::vector<std::string>& dead_letters = {});
  // Gives a claim up, recording claim.done: lease-<id> again, for a retry of
  // Settle or for Reclaim.
  Status Unclaim(LeaseClaim claim);

  // Makes the undone messages of lease `id` ready again, under the order of
  // their pull, so the next Take returns them. Nothing when it is not held.
  Status Release(const std::string& id);

  // Takes over up to `max` undone messages of the oldest lease last taken
  // into (or claimed by a process that has died since) before now -
  // older_than_ms, into a new lease `out` (empty when there is none); the
  // rest of a larger lease becomes another lease, as old. Leases with
  // nothing left to answer are removed on the way.
  Status Reclaim(int older_than_ms, size_t max, Lease* out);

  // Messages in the journal not answered yet: ready, leased and settling.
  Result<int64_t> MessagesHeld();

  // The dead-letter file: one JSON entry a line, appended by Finish (the
  // http-mq service has no queue that takes them; docs/architecture.md).
  std::string dead_letter_path() const;
  // Its newest `max` entries, oldest first (none while it does not exist).
  Result<std::vector<std::string>> DeadLetters(size_t max);

 private:
  struct Entry;
  class Locked;

  Status Open();
  std::string NewId();
  // Installs `files` (name -> content), removes `removed` and appends
  // `dead_letter_lines` (newline-terminated) to the dead-letter file in one
  // change that survives a crash whole or not at all. Under the lock.
  Status Commit(std::vector<std::pair<std::string, std::string>> files, std::vector<std::string> removed,
                std::string dead_letter_lines = {});
  Result<std::vector<Entry>> List(std::string_view prefix);

  const std::string dir_;
  const MultiFileCommit commit_;
  std::mutex mutex_;
  Dir folder_;  // dir_, open once Open() ran
  Fd lock_fd_;  // journal.lock, open once Open() ran
};

}  // namespace scorepipe

#endif  // SCOREPIPE_QUEUE_LEASE_JOURNAL_H_
