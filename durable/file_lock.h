// Exclusive advisory locks (flock(2)) between processes and threads: the
// lock of a folder that several commands change (the model registry, a key
// folder), of a lock file (the lease journal), or of a file whose lock says
// "its owner is alive" (a lease being settled).
//
// flock() locks belong to an open file description: two open()s of one file
// exclude each other even in one process, a dup() or fork() shares its
// parent's lock, and closing the last descriptor (or the death of the
// process) releases it. NFS is out of scope (flock there is emulated, or
// local to a host).
//
// A FileLock is move-only and owned by one thread at a time; the free
// functions keep no state: any thread.
#ifndef SCOREPIPE_DURABLE_FILE_LOCK_H_
#define SCOREPIPE_DURABLE_FILE_LOCK_H_

#include <optional>
#include <string>

#include "durable/fd.h"
#include "proto/status.h"

namespace scorepipe {

enum class LockWait {
  kBlock,  // wait until the lock is free, however long; EINTR (a signal) is retried
  kTry,    // do not wait: another holder is an answer, not an error
};

// An exclusive flock on the open `fd`. True once it is held; false only
// with kTry, when another open file description holds it. Any other failure
// is an error "<name>: cannot lock: <reason>".
Result<bool> LockExclusive(int fd, LockWait wait, const std::string& name);
// Releases a lock LockExclusive took on `fd`; the descriptor stays open.
void Unlock(int fd);

// An exclusive flock held on a descriptor it owns; destroying it closes the
// descriptor, which releases the lock.
class FileLock {
 public:
  FileLock() = default;  // holds nothing

  // Opens `path` (a folder, or a file that exists) read-only and waits until
  // it holds the lock. Errors: "<path>: cannot open to lock: <reason>",
  // "<path>: cannot lock: <reason>".
  static Result<FileLock> Take(const std::string& path);
  // The same without waiting: nothing when another holds the lock.
  static Result<std::optional<FileLock>> TryTake(const std::string& path);
  // Locks `fd`, already open as `name`, without waiting: nothing (and the
  // descriptor closed) when another holds the lock.
  static Result<std::optional<FileLock>> TryTake(Fd fd, const std::string& name);

  bool held() const { return fd_.valid(); }
  int fd() const { return fd_.get(); }

 private:
  explicit FileLock(Fd fd) : fd_(std::move(fd)) {}
  Fd fd_;
};

}  // namespace scorepipe

#endif  // SCOREPIPE_DURABLE_FILE_LOCK_H_
