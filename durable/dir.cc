#include "durable/dir.h"

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "durable/fault_hook.h"

namespace scorepipe {
namespace {

namespace fs = std::filesystem;

// Where names are looked up: an open folder, or the working folder
// (AT_FDCWD) for paths; `prefix` turns a name into what messages show.
struct At {
  int dir_fd = AT_FDCWD;
  std::string prefix;

  std::string Shown(std::string_view name) const { return prefix + std::string(name); }
};

At In(const Dir& dir) { return At{dir.fd(), dir.path() + "/"}; }

// The folder of `path`, as a path ("." for a bare name).
std::string ParentOf(const std::string& path) {
  const std::string parent = fs::path(path).parent_path().string();
  return parent.empty() ? "." : parent;
}

// Writes a file just opened as `shown`: its mode, `bytes`, fsync.
Status Fill(int fd, std::string_view bytes, const std::string& shown, const FileOptions& options) {
  if (options.exact_mode && fchmod(fd, options.mode) != 0) return ErrnoError(shown, "set the mode of");
  if (Status s = WriteAll(fd, bytes, shown); !s.ok()) return s;
  return SyncFile(fd, shown);
}

// False when there is no `from`.
Result<bool> RenameAt(const At& at, const std::string& from, const std::string& to) {
  if (BeforeFileStep(FileStep::kRename) == 0 &&
      renameat(at.dir_fd, from.c_str(), at.dir_fd, to.c_str()) == 0) {
    return true;
  }
  if (errno == ENOENT) return false;
  return ErrnoError(at.Shown(from), "rename to " + to);
}

Status MustRenameAt(const At& at, const std::string& from, const std::string& to) {
  Result<bool> renamed = RenameAt(at, from, to);
  if (!renamed.ok()) return renamed.status();
  if (!renamed.value())
    return Status::Error(at.Shown(from) + ": cannot rename to " + to + ": " + std::strerror(ENOENT));
  return Status::Ok();
}

Status WriteAndRenameAt(const At& at, const std::string& name, std::string_view bytes,
                        const std::string& temp, const FileOptions& options) {
  Fd fd = OpenAt(at.dir_fd, temp, O_WRONLY | O_CREAT | O_TRUNC, options.mode);
  if (!fd.valid()) return ErrnoError(at.Shown(temp), "create");
  Status status = Fill(fd.get(), bytes, at.Shown(temp), options);
  fd.Reset();
  if (status.ok()) status = MustRenameAt(at, temp, name);
  if (!status.ok()) unlinkat(at.dir_fd, temp.c_str(), 0);  // debris, not a step of the change
  return status;
}

Result<bool> CreateNewAt(const At& at, const std::string& name, std::string_view bytes,
                         const FileOptions& options) {
  Fd fd = OpenAt(at.dir_fd, name, O_WRONLY | O_CREAT | O_EXCL, options.mode);
  if (!fd.valid()) {
    if (errno == EEXIST) return false;
    return ErrnoError(at.Shown(name), "create");
  }
  if (Status s = Fill(fd.get(), bytes, at.Shown(name), options); !s.ok()) {
    fd.Reset();
    unlinkat(at.dir_fd, name.c_str(), 0);  // ours: O_EXCL made it
    return s;
  }
  return true;
}

std::atomic<uint64_t> next_suffix{0};

}  // namespace

std::string UniqueSuffix() { return std::to_string(getpid()) + "-" + std::to_string(next_suffix++); }

std::string UniqueTempName(std::string_view name) { return std::string(name) + ".tmp-" + UniqueSuffix(); }

Result<Dir> Dir::Open(const std::string& path) {
  Fd fd = OpenPath(path, O_RDONLY | O_DIRECTORY);
  if (!fd.valid()) return ErrnoError(path, "open");
  return Dir(path, std::move(fd));
}

Result<Dir> Dir::OpenOrCreate(const std::string& path) {
  std::error_code error;
  fs::create_directories(path, error);
  if (error) return Status::Error(path + ": cannot create: " + error.message());
  return Open(path);
}

std::string Dir::PathOf(std::string_view name) const { return In(*this).Shown(name); }

Fd Dir::OpenFile(const std::string& name, int flags, mode_t mode) const {
  return OpenAt(fd_.get(), name, flags, mode);
}

Result<std::optional<std::string>> Dir::ReadIfPresent(const std::string& name) const {
  Fd fd = OpenFile(name, O_RDONLY);
  if (!fd.valid()) {
    if (errno == ENOENT) return std::optional<std::string>();
    return ErrnoError(PathOf(name), "open");
  }
  Result<std::string> bytes = ReadAll(fd.get(), PathOf(name));
  if (!bytes.ok()) return bytes.status();
  return std::optional<std::string>(std::move(bytes.value()));
}

Result<std::string> Dir::Read(const std::string& name) const {
  Result<std::optional<std::string>> bytes = ReadIfPresent(name);
  if (!bytes.ok()) return bytes.status();
  if (!bytes->has_value()) return Status::Error(PathOf(name) + ": cannot open: " + std::strerror(ENOENT));
  return std::move(**bytes);
}

Result<bool> Dir::Exists(const std::string& name) const {
  if (faccessat(fd_.get(), name.c_str(), F_OK, 0) == 0) return true;
  if (errno == ENOENT) return false;
  return ErrnoError(PathOf(name), "look at");
}

Status Dir::Sync() const {
  if (BeforeFileStep(FileStep::kSyncDir) != 0 || fsync(fd_.get()) != 0) return ErrnoError(path_, "sync");
  return Status::Ok();
}

Status Dir::Rename(const std::string& from, const std::string& to) const {
  return MustRenameAt(In(*this), from, to);
}

Result<bool> Dir::RenameIfPresent(const std::string& from, const std::string& to) const {
  return RenameAt(In(*this), from, to);
}

Result<bool> Dir::Remove(const std::string& name) const {
  if (BeforeFileStep(FileStep::kRemove) != 0) return ErrnoError(PathOf(name), "remove");
  if (unlinkat(fd_.get(), name.c_str(), 0) == 0) return true;
  if (errno == ENOENT) return false;
  return ErrnoError(PathOf(name), "remove");
}

Status Dir::WriteAndRename(const std::string& name, std::string_view bytes, const std::string& temp,
                           const FileOptions& options) const {
  return WriteAndRenameAt(In(*this), name, bytes, temp, options);
}

Status Dir::Replace(const std::string& name, std::string_view bytes, const FileOptions& options) const {
  if (Status s = WriteAndRename(name, bytes, UniqueTempName(name), options); !s.ok()) return s;
  return Sync();
}

Result<bool> Dir::CreateNew(const std::string& name, std::string_view bytes,
                            const FileOptions& options) const {
  return CreateNewAt(In(*this), name, bytes, options);
}

Status SyncDir(const std::string& path) {
  Result<Dir> dir = Dir::Open(path);
  if (!dir.ok()) return dir.status();
  return dir->Sync();
}

Status ReplaceFile(const std::string& path, std::string_view bytes, const FileOptions& options,
                   const std::string& temp_name) {
  const std::string parent = ParentOf(path);
  const std::string temp =
      parent + "/" + (temp_name.empty() ? UniqueTempName(fs::path(path).filename().string()) : temp_name);
  if (Status s = WriteAndRenameAt(At{}, path, bytes, temp, options); !s.ok()) return s;
  return SyncDir(parent);
}

Result<bool> CreateNewFile(const std::string& path, std::string_view bytes, const FileOptions& options) {
  return CreateNewAt(At{}, path, bytes, options);
}

Status AppendLine(const std::string& path, std::string_view line) {
  Fd fd = OpenPath(path, O_WRONLY | O_APPEND | O_CREAT, 0644);
  if (!fd.valid()) return ErrnoError(path, "open to append");
  std::string bytes;
  bytes.reserve(line.size() + 1);
  bytes.append(line).push_back('\n');
  if (Status s = WriteAll(fd.get(), bytes, path); !s.ok()) return s;
  return SyncFile(fd.get(), path);
}

Result<StagedFolder> StagedFolder::Start(const std::string& parent, const std::string& temp_name) {
  const std::string path = parent + "/" + temp_name;
  std::error_code error;
  fs::remove_all(path, error);  // left by a builder that died; the caller's lock keeps the living out
  if (!fs::create_directory(path, error)) {
    return Status::Error(path + ": cannot create: " + (error ? error.message() : "it exists"));
  }
  Result<Dir> dir = Dir::Open(path);
  if (!dir.ok()) {
    fs::remove_all(path, error);
    return dir.status();
  }
  return StagedFolder(parent, std::move(dir.value()));
}

StagedFolder::~StagedFolder() {
  if (installed_ || dir_.fd() < 0) return;
  std::error_code ignored;
  fs::remove_all(dir_.path(), ignored);
}

Status StagedFolder::Install(const std::string& name) {
  if (Status s = dir_.Sync(); !s.ok()) return s;
  const std::string target = parent_ + "/" + name;
  if (BeforeFileStep(FileStep::kRename) != 0 || rename(dir_.path().c_str(), target.c_str()) != 0) {
    return ErrnoError(dir_.path(), "rename to " + target);
  }
  installed_ = true;
  return SyncDir(parent_);
}

}  // namespace scorepipe
