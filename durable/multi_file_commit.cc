#include "durable/multi_file_commit.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <filesystem>
#include <set>

#include "durable/fault_hook.h"

namespace scorepipe {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kAppend = "append ";
constexpr std::string_view kRemove = "remove ";
constexpr std::string_view kInstall = "install ";

}  // namespace

Status MultiFileCommit::CheckNames(const Change& change) const {
  std::set<std::string_view> seen;
  auto check = [&](const std::string& name) -> Status {
    const bool plain =
        !name.empty() && name != "." && name != ".." && name.find_first_of("/\n") == std::string::npos;
    const bool own = name == layout_.intent || name == layout_.log ||
                     name.starts_with(layout_.staged_prefix) || name.starts_with(layout_.temp_prefix);
    if (!plain || own) return Status::Error("cannot change '" + name + "': not a name a change may use");
    if (!seen.insert(name).second) return Status::Error("cannot change '" + name + "' twice in one change");
    return Status::Ok();
  };
  for (const std::string& name : change.remove) {
    if (Status s = check(name); !s.ok()) return s;
  }
  for (const auto& entry : change.install) {
    if (Status s = check(entry.first); !s.ok()) return s;
  }
  return Status::Ok();
}

Status MultiFileCommit::WriteFile(const Dir& dir, const std::string& name, std::string_view bytes) const {
  return dir.WriteAndRename(name, bytes, layout_.temp_prefix + UniqueSuffix());
}

Status MultiFileCommit::Commit(const Dir& dir, const Change& change) const {
  if (Status s = CheckNames(change); !s.ok()) return s.WithContext(dir.path());
  std::string intent;
  if (!change.append.empty()) {
    if (layout_.log.empty()) return Status::Error(dir.path() + ": cannot append: the folder has no log file");
    struct stat st {};
    off_t size = 0;
    if (fstatat(dir.fd(), layout_.log.c_str(), &st, 0) == 0) {
      size = st.st_size;
    } else if (errno != ENOENT) {
      return ErrnoError(dir.PathOf(layout_.log), "look at");
    }
    const std::string staged = layout_.staged_prefix + "append-" + UniqueSuffix();
    if (Status s = WriteFile(dir, staged, change.append); !s.ok()) return s;
    intent.append(kAppend).append(std::to_string(size)).append(" ").append(staged).append("\n");
  }
  for (const std::string& name : change.remove) intent.append(kRemove).append(name).append("\n");
  for (const auto& [name, bytes] : change.install) {
    if (Status s = WriteFile(dir, layout_.staged_prefix + name, bytes); !s.ok()) return s;
    intent.append(kInstall).append(name).append("\n");
  }
  if (Status s = WriteFile(dir, layout_.intent, intent); !s.ok()) return s;
  if (Status s = dir.Sync(); !s.ok()) return s;  // the change is committed from here on
  return Recover(dir);
}

Status MultiFileCommit::Recover(const Dir& dir) const {
  Result<std::optional<std::string>> text = dir.ReadIfPresent(layout_.intent);
  if (!text.ok()) return text.status();
  if (!text->has_value()) return Status::Ok();
  std::string_view rest = **text;
  while (!rest.empty()) {
    const size_t newline = rest.find('\n');
    const std::string_view line = rest.substr(0, newline);
    rest.remove_prefix(newline == std::string_view::npos ? rest.size() : newline + 1);
    if (line.starts_with(kAppend)) {
      if (Status s = CompleteAppend(dir, line.substr(kAppend.size())); !s.ok()) return s;
    } else if (line.starts_with(kRemove)) {
      if (Result<bool> r = dir.Remove(std::string(line.substr(kRemove.size()))); !r.ok()) return r.status();
    } else if (line.starts_with(kInstall)) {
      const std::string name(line.substr(kInstall.size()));
      if (Result<bool> r = dir.RenameIfPresent(layout_.staged_prefix + name, name); !r.ok())
        return r.status();
    } else if (!line.empty()) {
      return Status::Error(dir.PathOf(layout_.intent) + " is damaged: '" + std::string(line) + "'");
    }
  }
  if (Result<bool> r = dir.Remove(layout_.intent); !r.ok()) return r.status();
  return dir.Sync();
}

// "append <offset> <staged>": the log is cut back to <offset> (its size when
// the change was committed: nothing else appends while the change is open)
// and the staged bytes written there; the staged file is removed last, so
// doing it again after a crash at any step writes the bytes exactly once.
Status MultiFileCommit::CompleteAppend(const Dir& dir, std::string_view args) const {
  const size_t space = args.find(' ');
  uint64_t offset = 0;
  auto [end, ec] = std::from_chars(args.data(), args.data() + args.size(), offset);
  if (space == std::string_view::npos || ec != std::errc() || end != args.data() + space) {
    return Status::Error(dir.PathOf(layout_.intent) + " is damaged: '" + std::string(kAppend) +
                         std::string(args) + "'");
  }
  const std::string staged(args.substr(space + 1));
  Result<std::optional<std::string>> bytes = dir.ReadIfPresent(staged);
  if (!bytes.ok()) return bytes.status();
  if (!bytes->has_value()) return Status::Ok();  // appended and removed before the crash
  const std::string log = dir.PathOf(layout_.log);
  Fd fd = dir.OpenFile(layout_.log, O_WRONLY | O_CREAT, 0644);
  if (!fd.valid()) return ErrnoError(log, "open");
  struct stat st {};
  if (fstat(fd.get(), &st) != 0) return ErrnoError(log, "look at");
  // A log shorter than the offset was moved away (rotated) meanwhile: the
  // bytes go at the end of the new one.
  const off_t at = std::min(static_cast<off_t>(offset), st.st_size);
  if (st.st_size > at && (BeforeFileStep(FileStep::kTruncate) != 0 || ftruncate(fd.get(), at) != 0)) {
    return ErrnoError(log, "cut back");
  }
  if (Status s = WriteAllAt(fd.get(), **bytes, at, log); !s.ok()) return s;
  if (Status s = SyncFile(fd.get(), log); !s.ok()) return s;
  fd.Reset();
  if (Result<bool> r = dir.Remove(staged); !r.ok()) return r.status();
  return Status::Ok();
}

Status MultiFileCommit::RemoveDebris(const Dir& dir) const {
  std::vector<std::string> debris;
  std::error_code error;
  for (fs::directory_iterator it(dir.path(), error), end; !error && it != end; it.increment(error)) {
    const std::string name = it->path().filename().string();
    for (const std::string* prefix : {&layout_.staged_prefix, &layout_.temp_prefix}) {
      if (name.starts_with(*prefix) && name.size() > prefix->size()) debris.push_back(name);
    }
  }
  if (error) return Status::Error(dir.path() + ": cannot list: " + error.message());
  // Each is a file no change refers to; one that cannot go now goes next time.
  for (const std::string& name : debris) (void)dir.Remove(name);
  return Status::Ok();
}

}  // namespace scorepipe
