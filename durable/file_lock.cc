#include "durable/file_lock.h"

#include <sys/file.h>

#include <cerrno>

namespace scorepipe {
namespace {

Result<Fd> OpenToLock(const std::string& path) {
  Fd fd = OpenPath(path, O_RDONLY);
  if (!fd.valid()) return ErrnoError(path, "open to lock");
  return fd;
}

}  // namespace

Result<bool> LockExclusive(int fd, LockWait wait, const std::string& name) {
  const int operation = wait == LockWait::kTry ? LOCK_EX | LOCK_NB : LOCK_EX;
  while (flock(fd, operation) != 0) {
    if (errno == EINTR) continue;
    if (wait == LockWait::kTry && errno == EWOULDBLOCK) return false;
    return ErrnoError(name, "lock");
  }
  return true;
}

void Unlock(int fd) { flock(fd, LOCK_UN); }

Result<FileLock> FileLock::Take(const std::string& path) {
  Result<Fd> fd = OpenToLock(path);
  if (!fd.ok()) return fd.status();
  if (Result<bool> locked = LockExclusive(fd->get(), LockWait::kBlock, path); !locked.ok())
    return locked.status();
  return FileLock(std::move(fd.value()));
}

Result<std::optional<FileLock>> FileLock::TryTake(const std::string& path) {
  Result<Fd> fd = OpenToLock(path);
  if (!fd.ok()) return fd.status();
  return TryTake(std::move(fd.value()), path);
}

Result<std::optional<FileLock>> FileLock::TryTake(Fd fd, const std::string& name) {
  Result<bool> locked = LockExclusive(fd.get(), LockWait::kTry, name);
  if (!locked.ok()) return locked.status();
  if (!locked.value()) return std::optional<FileLock>();
  return std::optional<FileLock>(FileLock(std::move(fd)));
}

}  // namespace scorepipe
