// Fd: a file descriptor that closes itself, and the whole-file reads and
// writes on one that finish or say why (short writes and EINTR retried).
//
// Errors read "<name>: cannot <what>: <reason>", <name> being what the
// caller passes (the file's path, as a person would look for it).
//
// An Fd is a value owned by one thread at a time (move-only); the free
// functions keep no state: any thread.
#ifndef SCOREPIPE_DURABLE_FD_H_
#define SCOREPIPE_DURABLE_FD_H_

#include <fcntl.h>
#include <sys/types.h>

#include <string>
#include <string_view>

#include "proto/status.h"

namespace scorepipe {

class Fd {
 public:
  Fd() = default;  // holds nothing
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { Reset(); }
  Fd(Fd&& other) noexcept : fd_(other.Release()) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) Reset(other.Release());
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  // Gives the descriptor up without closing it.
  int Release() {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }
  // Closes the descriptor held, if any, and holds `fd`.
  void Reset(int fd = -1);

 private:
  int fd_ = -1;
};

// openat(2) of `name` in the folder `dir_fd` (AT_FDCWD: the working folder,
// or an absolute `name`), with O_CLOEXEC, retrying EINTR. On failure the Fd
// holds nothing and errno says why, so that a caller can tell ENOENT or
// EEXIST from an error.
Fd OpenAt(int dir_fd, const std::string& name, int flags, mode_t mode = 0);
inline Fd OpenPath(const std::string& path, int flags, mode_t mode = 0) {
  return OpenAt(AT_FDCWD, path, flags, mode);
}

// "<name>: cannot <what>: <strerror(errno)>", for the call that just failed.
Status ErrnoError(const std::string& name, const std::string& what);

// Writes all of `bytes` at the file offset (write(2)), retrying short writes
// and EINTR. A write that makes no progress is an error.
Status WriteAll(int fd, std::string_view bytes, const std::string& name);
// The same at `offset` (pwrite(2)); the file offset does not move.
Status WriteAllAt(int fd, std::string_view bytes, off_t offset, const std::string& name);

// The whole file from its start (pread(2), so the file offset does not move),
// retrying EINTR.
Result<std::string> ReadAll(int fd, const std::string& name);

// fsync(2): what was written to the file is on the disk when it returns.
Status SyncFile(int fd, const std::string& name);

}  // namespace scorepipe

#endif  // SCOREPIPE_DURABLE_FD_H_
