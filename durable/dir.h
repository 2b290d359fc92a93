// Files that survive a crash, written in the few ways that keep them whole:
//
//   atomic replace   the bytes go to a temporary file in the same folder,
//                    which is fsync()ed and renamed over the file, and the
//                    folder fsync()ed: a reader, and the disk after a crash
//                    of the process or the host, hold the old content or
//                    the new, never a part (ReplaceFile, Dir::Replace)
//   create-new       O_EXCL, written and fsync()ed: never replaces a file
//                    someone relies on (CreateNewFile, Dir::CreateNew)
//   append a line    one line at the end, fsync()ed; the bytes before it
//                    are never touched (AppendLine)
//   staged folder    a folder built under a temporary name beside its place
//                    and renamed into it whole (StagedFolder)
//
// A Dir is an open folder: the same steps by name inside it (openat(2),
// renameat(2): the folder cannot change under them), for a caller that
// writes many files and syncs the folder once (durable/multi_file_commit.h).
//
// Errors read "<path>: cannot <what>: <reason>". Every step asks the test
// fault hook first (durable/fault_hook.h).
//
// Dir and StagedFolder are move-only, owned by one thread at a time; the
// free functions keep no state: any thread. None of them locks: writers of
// one file or folder exclude each other (durable/file_lock.h).
#ifndef SCOREPIPE_DURABLE_DIR_H_
#define SCOREPIPE_DURABLE_DIR_H_

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>

#include "durable/fd.h"
#include "proto/status.h"

namespace scorepipe {

struct FileOptions {
  mode_t mode = 0644;  // of a file created, less the process's umask unless exact_mode
  // The file gets exactly `mode` (fchmod), whatever the umask: a program or
  // a unit installed for other users to read.
  bool exact_mode = false;
};

// "<pid>-<n>", n counting up in the process: no other call, in this
// process or another one alive, returns it.
std::string UniqueSuffix();
// A name for a temporary file beside `name` that no other writer picks:
// "<name>.tmp-<pid>-<n>".
std::string UniqueTempName(std::string_view name);

class Dir {
 public:
  Dir() = default;  // holds no folder: every call fails

  // Opens the folder at `path`: "<path>: cannot open: <reason>".
  static Result<Dir> Open(const std::string& path);
  // Creates it (and its parents) first when it is missing.
  static Result<Dir> OpenOrCreate(const std::string& path);

  const std::string& path() const { return path_; }
  int fd() const { return fd_.get(); }
  // "<path>/<name>", as messages name a file of the folder.
  std::string PathOf(std::string_view name) const;

  // openat(2) with O_CLOEXEC: nothing and errno set on failure.
  Fd OpenFile(const std::string& name, int flags, mode_t mode = 0) const;
  // The file's bytes; "<path>/<name>: cannot open: ..." when it is missing.
  Result<std::string> Read(const std::string& name) const;
  // The same, or nothing when there is no such file.
  Result<std::optional<std::string>> ReadIfPresent(const std::string& name) const;
  Result<bool> Exists(const std::string& name) const;

  // fsync(2) of the folder: the renames, creations and removals in it so
  // far are on the disk when it returns.
  Status Sync() const;
  // renameat(2) of `from` over `to` (replacing it); durable after Sync().
  Status Rename(const std::string& from, const std::string& to) const;
  // The same; false, and nothing done, when there is no `from`.
  Result<bool> RenameIfPresent(const std::string& from, const std::string& to) const;
  // Removes the file; false when there was none. Durable after Sync().
  Result<bool> Remove(const std::string& name) const;

  // Atomic replace but the folder's sync: writes `bytes` to `temp` (made
  // anew), fsyncs it and renames it over `name`. A reader sees the old or
  // the new content; the rename is durable once Sync() returns. On a
  // failure `temp` is removed and `name` left as it was.
  Status WriteAndRename(const std::string& name, std::string_view bytes, const std::string& temp,
                        const FileOptions& options = {}) const;
  // The whole atomic replace: WriteAndRename (through UniqueTempName(name)),
  // then Sync().
  Status Replace(const std::string& name, std::string_view bytes, const FileOptions& options = {}) const;
  // Creates `name` (never replacing a file), writes `bytes` and fsyncs it:
  // true. False, and nothing written, when `name` exists. On a failure
  // after creating it the file is removed again. The new name is durable
  // once Sync() returns.
  Result<bool> CreateNew(const std::string& name, std::string_view bytes,
                         const FileOptions& options = {}) const;

 private:
  Dir(std::string path, Fd fd) : path_(std::move(path)), fd_(std::move(fd)) {}
  std::string path_;
  Fd fd_;
};

// fsync(2) of the folder at `path`.
Status SyncDir(const std::string& path);

// Atomic replace of the file at `path` (its folder must exist), through
// `temp_name` in the same folder (default: UniqueTempName; a fixed name
// that a later run writes again leaves no debris after a crash, where only
// one writer runs at a time).
Status ReplaceFile(const std::string& path, std::string_view bytes, const FileOptions& options = {},
                   const std::string& temp_name = "");

// Creates the file at `path` (never replacing one), writes `bytes` and
// fsyncs it: true; false, nothing written, when it exists. The folder is not
// synced (a caller that needs the name durable syncs it, or the folder is
// synced before it is renamed into place: StagedFolder).
Result<bool> CreateNewFile(const std::string& path, std::string_view bytes, const FileOptions& options = {});

// Appends `line` and a newline to the file at `path` (created 0644 when
// missing) and fsyncs it. The earlier bytes are never touched (O_APPEND),
// so a crash can at most leave a last line cut short.
Status AppendLine(const std::string& path, std::string_view line);

// A folder built under a temporary name in `parent` and renamed into place
// whole: before Install() there is no folder at its place, after it every
// file written into it is there, across crashes. One builder per parent at
// a time (the caller holds a lock): Start() removes what a builder that
// died left under the same temporary name. Destroyed before Install(), it
// removes the staged folder and what is in it.
class StagedFolder {
 public:
  // Makes <parent>/<temp_name> anew. Hidden temporary names (".tmp-v2")
  // keep it out of listings of the parent.
  static Result<StagedFolder> Start(const std::string& parent, const std::string& temp_name);
  ~StagedFolder();
  StagedFolder(StagedFolder&& other) noexcept = default;
  StagedFolder& operator=(StagedFolder&& other) = delete;
  StagedFolder(const StagedFolder&) = delete;
  StagedFolder& operator=(const StagedFolder&) = delete;

  // The staged folder, to write the files into (Dir::CreateNew).
  const Dir& dir() const { return dir_; }
  // Syncs the staged folder, renames it to <parent>/<name> and syncs the
  // parent. `name` must not exist (rename(2) would replace an empty folder:
  // the caller checks, under its lock).
  Status Install(const std::string& name);

 private:
  StagedFolder(std::string parent, Dir dir) : parent_(std::move(parent)), dir_(std::move(dir)) {}
  std::string parent_;
  Dir dir_;
  bool installed_ = false;
};

}  // namespace scorepipe

#endif  // SCOREPIPE_DURABLE_DIR_H_
