#include "durable/fd.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "durable/fault_hook.h"

namespace scorepipe {
namespace {

// Writes from `bytes` until all are written: at the file offset when
// `offset` is negative, else at `offset` onwards.
Status WriteLoop(int fd, std::string_view bytes, off_t offset, const std::string& name) {
  size_t written = 0;
  while (written < bytes.size()) {
    size_t want = bytes.size() - written;
    if (BeforeFileStep(FileStep::kWrite, &want) != 0) {
      if (errno == EINTR) continue;
      return ErrnoError(name, "write");
    }
    const ssize_t n = offset < 0
                          ? write(fd, bytes.data() + written, want)
                          : pwrite(fd, bytes.data() + written, want, offset + static_cast<off_t>(written));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoError(name, "write");
    if (n == 0) return Status::Error(name + ": cannot write: no byte was written");
    written += static_cast<size_t>(n);
  }
  return Status::Ok();
}

}  // namespace

void Fd::Reset(int fd) {
  // close(2) releases the descriptor even when it reports an error (EINTR
  // included, on Linux): never retried.
  if (fd_ >= 0) close(fd_);
  fd_ = fd;
}

Fd OpenAt(int dir_fd, const std::string& name, int flags, mode_t mode) {
  while (true) {
    const int fd = openat(dir_fd, name.c_str(), flags | O_CLOEXEC, mode);
    if (fd >= 0) return Fd(fd);
    if (errno != EINTR) return Fd();
  }
}

Status ErrnoError(const std::string& name, const std::string& what) {
  return Status::Error(name + ": cannot " + what + ": " + std::strerror(errno));
}

Status WriteAll(int fd, std::string_view bytes, const std::string& name) {
  return WriteLoop(fd, bytes, -1, name);
}

Status WriteAllAt(int fd, std::string_view bytes, off_t offset, const std::string& name) {
  if (offset < 0)
    return Status::Error(name + ": cannot write at the negative offset " + std::to_string(offset));
  return WriteLoop(fd, bytes, offset, name);
}

Result<std::string> ReadAll(int fd, const std::string& name) {
  std::string out;
  char buffer[65536];
  off_t offset = 0;
  while (true) {
    const ssize_t n = pread(fd, buffer, sizeof buffer, offset);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError(name, "read");
    }
    if (n == 0) return out;
    out.append(buffer, static_cast<size_t>(n));
    offset += n;
  }
}

Status SyncFile(int fd, const std::string& name) {
  if (BeforeFileStep(FileStep::kSyncFile) != 0 || fsync(fd) != 0) return ErrnoError(name, "sync");
  return Status::Ok();
}

}  // namespace scorepipe
