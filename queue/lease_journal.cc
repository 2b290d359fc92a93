#include "queue/lease_journal.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <utility>

namespace scorepipe {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kMagic = "scorepipe-journal 1";
constexpr std::string_view kReady = "ready-";
constexpr std::string_view kLease = "lease-";
constexpr std::string_view kSettling = "settling-";
constexpr std::string_view kNew = "new-";
constexpr std::string_view kTmp = "tmp-";
constexpr char kIntent[] = "intent";
constexpr char kDeadLetters[] = "dead_letters.jsonl";
// Expired leases with nothing left to answer that one Reclaim removes at most.
constexpr int kReclaimScan = 1000;

Status SysError(const std::string& what) { return Status::Error(what + ": " + std::strerror(errno)); }

int64_t NowUnixNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string OrderText(uint64_t order) {
  std::string digits = std::to_string(order);
  return std::string(digits.size() < 20 ? 20 - digits.size() : 0, '0') + digits;
}

// One journal file's content.
struct Content {
  uint64_t order = 0;
  uint32_t deliveries = 1;  // files written before the count was kept: 1
  std::vector<std::string> messages;
  std::vector<bool> done;  // empty, or one per message

  size_t Undone() const {
    return messages.size() - static_cast<size_t>(std::count(done.begin(), done.end(), true));
  }
  bool IsDone(size_t i) const { return i < done.size() && done[i]; }
};

std::string Serialize(uint64_t order, uint32_t deliveries, const std::vector<std::string>& messages,
                      const std::vector<bool>& done) {
  size_t bytes = 64;
  for (const std::string& m : messages) bytes += m.size() + 12;
  std::string out;
  out.reserve(bytes);
  out.append(kMagic).append("\norder ").append(std::to_string(order));
  out.append("\ndeliveries ").append(std::to_string(deliveries));
  out.append("\nmessages ").append(std::to_string(messages.size()));
  std::string positions;
  size_t count = 0;
  for (size_t i = 0; i < done.size(); ++i) {
    if (!done[i]) continue;
    ++count;
    positions.append(" ").append(std::to_string(i));
  }
  out.append("\ndone ").append(std::to_string(count)).append(positions).append("\n");
  for (const std::string& m : messages)
    out.append(std::to_string(m.size())).append("\n").append(m).append("\n");
  return out;
}

// Reads "<word> <number>" and the space or newline after it.
bool ReadNumber(std::string_view* text, std::string_view word, uint64_t* value) {
  if (!word.empty()) {
    if (!text->starts_with(word) || text->size() <= word.size() || (*text)[word.size()] != ' ') return false;
    text->remove_prefix(word.size() + 1);
  }
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), *value);
  if (ec != std::errc() || end == text->data() || end == text->data() + text->size()) return false;
  if (*end != ' ' && *end != '\n') return false;
  text->remove_prefix(static_cast<size_t>(end - text->data()) + 1);
  return true;
}

Result<Content> Parse(std::string_view text, const std::string& name) {
  auto bad = [&](const std::string& what) {
    return Status::Error("journal file " + name + " is damaged: " + what);
  };
  Content c;
  if (!text.starts_with(kMagic) || text.size() <= kMagic.size() || text[kMagic.size()] != '\n') {
    return bad("no '" + std::string(kMagic) + "' line");
  }
  text.remove_prefix(kMagic.size() + 1);
  uint64_t count = 0;
  uint64_t done_count = 0;
  if (!ReadNumber(&text, "order", &c.order)) return bad("no order line");
  if (text.starts_with("deliveries ")) {
    uint64_t deliveries = 0;
    if (!ReadNumber(&text, "deliveries", &deliveries) || deliveries == 0 || deliveries > UINT32_MAX) {
      return bad("a bad deliveries line");
    }
    c.deliveries = static_cast<uint32_t>(deliveries);
  }
  if (!ReadNumber(&text, "messages", &count) || count > text.size()) return bad("no messages line");
  if (!ReadNumber(&text, "done", &done_count) || done_count > count) return bad("no done line");
  c.done.assign(count, false);
  for (uint64_t i = 0; i < done_count; ++i) {
    uint64_t position = 0;
    if (!ReadNumber(&text, "", &position) || position >= count) return bad("a bad done position");
    c.done[position] = true;
  }
  c.messages.reserve(count);
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t bytes = 0;
    if (!ReadNumber(&text, "", &bytes) || bytes >= text.size() || text[bytes] != '\n') {
      return bad("message " + std::to_string(i) + " is cut short");
    }
    c.messages.emplace_back(text.substr(0, bytes));
    text.remove_prefix(bytes + 1);
  }
  if (!text.empty()) return bad("bytes after the last message");
  return c;
}

Result<std::string> ReadAll(int fd, const std::string& name) {
  std::string out;
  char buffer[65536];
  off_t offset = 0;
  while (true) {
    const ssize_t n = pread(fd, buffer, sizeof buffer, offset);
    if (n < 0) {
      if (errno == EINTR) continue;
      return SysError("reading journal file " + name);
    }
    if (n == 0) return out;
    out.append(buffer, static_cast<size_t>(n));
    offset += n;
  }
}

// The process's part of every lease id, and a counter for the rest.
std::string IdPrefix() {
  static const std::string prefix =
      std::to_string(NowUnixNanos() / 1000) + "-" + std::to_string(getpid()) + "-";
  return prefix;
}
std::atomic<uint64_t> next_id{1};

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

// A file of the journal, as a directory listing shows it.
struct LeaseJournal::Entry {
  std::string name;
  std::string id;
  int64_t mtime_ns = 0;
};

// The in-process mutex and the journal's flock, held together; completes
// what a crashed holder committed before anything else looks at the files.
class LeaseJournal::Locked {
 public:
  explicit Locked(LeaseJournal* journal) : journal_(journal), guard_(journal->mutex_) {
    status_ = journal->Open();
    if (!status_.ok()) return;
    while (flock(journal->lock_fd_, LOCK_EX) != 0) {
      if (errno == EINTR) continue;
      status_ = SysError("locking " + journal->dir_ + "/journal.lock");
      return;
    }
    locked_ = true;
    status_ = journal->CompleteIntent();
  }
  ~Locked() {
    if (locked_) flock(journal_->lock_fd_, LOCK_UN);
  }
  Locked(const Locked&) = delete;
  Locked& operator=(const Locked&) = delete;

  const Status& status() const { return status_; }

 private:
  LeaseJournal* journal_;
  std::lock_guard<std::mutex> guard_;
  bool locked_ = false;
  Status status_;
};

LeaseClaim::~LeaseClaim() {
  if (fd_ >= 0) close(fd_);
}

LeaseClaim::LeaseClaim(LeaseClaim&& other) noexcept
    : id(std::move(other.id)),
      order(other.order),
      messages(other.messages),
      done(std::move(other.done)),
      fd_(std::exchange(other.fd_, -1)) {}

LeaseClaim& LeaseClaim::operator=(LeaseClaim&& other) noexcept {
  if (this == &other) return *this;
  if (fd_ >= 0) close(fd_);
  id = std::move(other.id);
  order = other.order;
  messages = other.messages;
  done = std::move(other.done);
  fd_ = std::exchange(other.fd_, -1);
  return *this;
}

LeaseJournal::LeaseJournal(std::string dir) : dir_(std::move(dir)) {}

LeaseJournal::~LeaseJournal() {
  if (lock_fd_ >= 0) close(lock_fd_);
  if (dir_fd_ >= 0) close(dir_fd_);
}

bool LeaseJournal::IsLeaseId(std::string_view id) {
  const size_t first = id.find('-');
  if (first == std::string_view::npos) return false;
  const size_t second = id.find('-', first + 1);
  if (second == std::string_view::npos) return false;
  return AllDigits(id.substr(0, first)) && AllDigits(id.substr(first + 1, second - first - 1)) &&
         AllDigits(id.substr(second + 1));
}

std::string LeaseJournal::NewId() { return IdPrefix() + std::to_string(next_id++); }

Status LeaseJournal::Open() {
  if (lock_fd_ >= 0) return Status::Ok();
  std::error_code error;
  fs::create_directories(dir_, error);
  if (error) return Status::Error("creating the lease journal " + dir_ + ": " + error.message());
  dir_fd_ = open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd_ < 0) return SysError("opening the lease journal " + dir_);
  lock_fd_ = openat(dir_fd_, "journal.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock_fd_ < 0) {
    Status s = SysError("opening " + dir_ + "/journal.lock");
    close(dir_fd_);
    dir_fd_ = -1;
    return s;
  }
  return Status::Ok();
}

Status LeaseJournal::SyncDir() {
  return fsync(dir_fd_) == 0 ? Status::Ok() : SysError("syncing the lease journal " + dir_);
}

Status LeaseJournal::WriteFile(const std::string& name, const std::string& content) {
  const std::string tmp = std::string(kTmp) + std::to_string(getpid()) + "-" + std::to_string(next_tmp_++);
  const int fd = openat(dir_fd_, tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return SysError("creating " + dir_ + "/" + tmp);
  size_t written = 0;
  while (written < content.size()) {
    const ssize_t n = write(fd, content.data() + written, content.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      Status s = SysError("writing " + dir_ + "/" + tmp);
      close(fd);
      unlinkat(dir_fd_, tmp.c_str(), 0);
      return s;
    }
    written += static_cast<size_t>(n);
  }
  if (fdatasync(fd) != 0) {
    Status s = SysError("syncing " + dir_ + "/" + tmp);
    close(fd);
    unlinkat(dir_fd_, tmp.c_str(), 0);
    return s;
  }
  close(fd);
  if (renameat(dir_fd_, tmp.c_str(), dir_fd_, name.c_str()) != 0) {
    Status s = SysError("renaming " + dir_ + "/" + tmp + " to " + name);
    unlinkat(dir_fd_, tmp.c_str(), 0);
    return s;
  }
  return Status::Ok();
}

Status LeaseJournal::CompleteIntent() {
  const int fd = openat(dir_fd_, kIntent, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno == ENOENT ? Status::Ok() : SysError("opening " + dir_ + "/intent");
  Result<std::string> text = ReadAll(fd, dir_ + "/intent");
  close(fd);
  if (!text.ok()) return text.status();
  // Removals first, then installs; a name is never both, so running it again
  // after a crash in the middle changes nothing that was done.
  std::string_view rest = text.value();
  while (!rest.empty()) {
    const size_t newline = rest.find('\n');
    const std::string_view line = rest.substr(0, newline);
    rest.remove_prefix(newline == std::string_view::npos ? rest.size() : newline + 1);
    if (line.starts_with("append ")) {
      if (Status s = CompleteAppend(line.substr(7)); !s.ok()) return s;
    } else if (line.starts_with("remove ")) {
      const std::string name(line.substr(7));
      if (unlinkat(dir_fd_, name.c_str(), 0) != 0 && errno != ENOENT) return SysError("removing " + name);
    } else if (line.starts_with("install ")) {
      const std::string name(line.substr(8));
      const std::string from = std::string(kNew) + name;
      if (renameat(dir_fd_, from.c_str(), dir_fd_, name.c_str()) != 0 && errno != ENOENT) {
        return SysError("installing " + name);
      }
    } else if (!line.empty()) {
      return Status::Error("journal file " + dir_ + "/intent is damaged: '" + std::string(line) + "'");
    }
  }
  if (unlinkat(dir_fd_, kIntent, 0) != 0) return SysError("removing " + dir_ + "/intent");
  return SyncDir();
}

// "append <offset> <from>": the dead-letter file is cut back to <offset> (its
// size when the change was committed: nothing else appends while the change
// is open) and <from>'s lines written there; <from> is removed last, so
// doing it again after a crash at any step writes the lines exactly once.
Status LeaseJournal::CompleteAppend(std::string_view args) {
  const size_t space = args.find(' ');
  uint64_t offset = 0;
  auto [end, ec] = std::from_chars(args.data(), args.data() + args.size(), offset);
  if (space == std::string_view::npos || ec != std::errc() || end != args.data() + space) {
    return Status::Error("journal file " + dir_ + "/intent is damaged: 'append " + std::string(args) + "'");
  }
  const std::string from(args.substr(space + 1));
  const int from_fd = openat(dir_fd_, from.c_str(), O_RDONLY | O_CLOEXEC);
  if (from_fd < 0) return errno == ENOENT ? Status::Ok() : SysError("opening " + dir_ + "/" + from);
  Result<std::string> lines = ReadAll(from_fd, dir_ + "/" + from);
  close(from_fd);
  if (!lines.ok()) return lines.status();
  const std::string target = dir_ + "/" + kDeadLetters;
  const int fd = openat(dir_fd_, kDeadLetters, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return SysError("opening " + target);
  struct stat st {};
  Status status = fstat(fd, &st) == 0 ? Status::Ok() : SysError("looking at " + target);
  // A file shorter than the offset was moved away (rotated) meanwhile: the
  // lines go at the end of the new one.
  off_t at = static_cast<off_t>(offset);
  if (status.ok() && st.st_size < at) at = st.st_size;
  if (status.ok() && st.st_size > at && ftruncate(fd, at) != 0)
    status = SysError("cutting " + target + " back");
  for (size_t written = 0; status.ok() && written < lines->size();) {
    const ssize_t n =
        pwrite(fd, lines->data() + written, lines->size() - written, at + static_cast<off_t>(written));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      status = SysError("writing " + target);
      break;
    }
    written += static_cast<size_t>(n);
  }
  if (status.ok() && fsync(fd) != 0) status = SysError("syncing " + target);
  close(fd);
  if (!status.ok()) return status;
  if (unlinkat(dir_fd_, from.c_str(), 0) != 0 && errno != ENOENT)
    return SysError("removing " + dir_ + "/" + from);
  return Status::Ok();
}

Status LeaseJournal::Commit(const std::vector<std::pair<std::string, std::string>>& files,
                            const std::vector<std::string>& removed, std::string_view dead_letter_lines) {
  std::string intent;
  if (!dead_letter_lines.empty()) {
    struct stat st {};
    off_t size = 0;
    if (fstatat(dir_fd_, kDeadLetters, &st, 0) == 0) {
      size = st.st_size;
    } else if (errno != ENOENT) {
      return SysError("looking at " + dir_ + "/" + kDeadLetters);
    }
    const std::string from = std::string(kNew) + "dead-letters-" + NewId();
    if (Status s = WriteFile(from, std::string(dead_letter_lines)); !s.ok()) return s;
    intent += "append " + std::to_string(size) + " " + from + "\n";
  }
  for (const std::string& name : removed) intent += "remove " + name + "\n";
  for (const auto& [name, content] : files) {
    if (Status s = WriteFile(std::string(kNew) + name, content); !s.ok()) return s;
    intent += "install " + name + "\n";
  }
  if (Status s = WriteFile(kIntent, intent); !s.ok()) return s;
  if (Status s = SyncDir(); !s.ok()) return s;  // the change is committed from here on
  return CompleteIntent();
}

Result<std::vector<LeaseJournal::Entry>> LeaseJournal::List(std::string_view prefix) {
  std::vector<Entry> out;
  std::error_code error;
  for (fs::directory_iterator it(dir_, error), end; !error && it != end; it.increment(error)) {
    std::string name = it->path().filename().string();
    const size_t id_at = prefix == kReady ? kReady.size() + 21 : prefix.size();  // ready-<20 digits>-<id>
    if (!name.starts_with(prefix) || name.size() <= id_at) continue;
    struct stat st {};
    if (fstatat(dir_fd_, name.c_str(), &st, 0) != 0) {
      if (errno == ENOENT) continue;
      return SysError("looking at " + dir_ + "/" + name);
    }
    Entry entry;
    entry.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
    entry.id = name.substr(id_at);
    entry.name = std::move(name);
    out.push_back(std::move(entry));
  }
  if (error) return Status::Error("listing the lease journal " + dir_ + ": " + error.message());
  return out;
}

namespace {

Result<Content> ReadContent(int dir_fd, const std::string& dir, const std::string& name) {
  const int fd = openat(dir_fd, name.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return SysError("opening " + dir + "/" + name);
  Result<std::string> text = ReadAll(fd, dir + "/" + name);
  close(fd);
  if (!text.ok()) return text.status();
  return Parse(text.value(), dir + "/" + name);
}

// Sets a file's times to now (nullptr) or to `mtime_ns`.
void Touch(int dir_fd, const std::string& name, const int64_t* mtime_ns = nullptr) {
  if (mtime_ns == nullptr) {
    utimensat(dir_fd, name.c_str(), nullptr, 0);
    return;
  }
  struct timespec times[2];
  times[0].tv_sec = static_cast<time_t>(*mtime_ns / 1000000000);
  times[0].tv_nsec = static_cast<long>(*mtime_ns % 1000000000);
  times[1] = times[0];
  utimensat(dir_fd, name.c_str(), times, 0);
}

}  // namespace

Status LeaseJournal::AddReady(const std::vector<std::string>& messages) {
  if (messages.empty()) return Status::Ok();
  Locked locked(this);
  if (!locked.status().ok()) return locked.status();
  const uint64_t order = static_cast<uint64_t>(NowUnixNanos() / 1000);
  const std::string name = std::string(kReady) + OrderText(order) + "-" + NewId();
  if (Status s = WriteFile(name, Serialize(order, 1, messages, {})); !s.ok()) return s;
  return SyncDir();
}

Result<size_t> LeaseJournal::TakeReady(size_t max, Lease* lease) {
  Locked locked(this);
  if (!locked.status().ok()) return locked.status();
  const std::string lease_name = std::string(kLease) + lease->id;
  if (!lease->id.empty() && faccessat(dir_fd_, lease_name.c_str(), F_OK, 0) != 0) {
    const std::string lost = lease->id;
    *lease = Lease{};
    return Status::Error("lease " + lost + " is no longer held (reclaimed, settled or released)");
  }
  if (max == 0) return size_t{0};
  Result<std::vector<Entry>> ready = List(kReady);
  if (!ready.ok()) return ready.status();
  if (ready->empty()) return size_t{0};
  const Entry& oldest = *std::min_element(ready->begin(), ready->end(),
                                          [](const Entry& a, const Entry& b) { return a.name < b.name; });
  Result<Content> taken = ReadContent(dir_fd_, dir_, oldest.name);
  if (!taken.ok()) return taken.status();
  const size_t count = std::min(max, taken->messages.size());

  if (lease->id.empty() && count == taken->messages.size()) {
    // The common case: the ready file becomes the lease, in one rename.
    const std::string id = oldest.id;
    const std::string name = std::string(kLease) + id;
    if (renameat(dir_fd_, oldest.name.c_str(), dir_fd_, name.c_str()) != 0) {
      return SysError("taking " + dir_ + "/" + oldest.name);
    }
    Touch(dir_fd_, name);
    lease->id = id;
    lease->messages = std::move(taken->messages);
    lease->deliveries = taken->deliveries;
    return count;
  }

  // Appending to a held lease, or a part of the ready file: one change that
  // rewrites the lease and leaves the rest ready under the same order.
  Content held;
  std::string id = lease->id;
  if (id.empty()) {
    id = NewId();
    held.order = taken->order;
  } else {
    Result<Content> current = ReadContent(dir_fd_, dir_, lease_name);
    if (!current.ok()) return current.status();
    held = std::move(current.value());
  }
  const size_t before = held.messages.size();
  held.done.resize(before, false);
  for (size_t i = 0; i < count; ++i) {
    held.messages.push_back(taken->messages[i]);
    held.done.push_back(false);
  }
  std::vector<std::pair<std::string, std::string>> files;
  files.emplace_back(std::string(kLease) + id,
                     Serialize(held.order, held.deliveries, held.messages, held.done));
  if (count < taken->messages.size()) {
    std::vector<std::string> rest(taken->messages.begin() + static_cast<ptrdiff_t>(count),
                                  taken->messages.end());
    files.emplace_back(std::string(kReady) + OrderText(taken->order) + "-" + NewId(),
                       Serialize(taken->order, taken->deliveries, rest, {}));
  }
  if (Status s = Commit(files, {oldest.name}); !s.ok()) return s;
  Touch(dir_fd_, files.front().first);
  lease->id = id;
  lease->deliveries = held.deliveries;
  lease->messages.insert(lease->messages.end(), held.messages.begin() + static_cast<ptrdiff_t>(before),
                         held.messages.end());
  return count;
}

Result<std::optional<LeaseClaim>> LeaseJournal::Claim(const std::string& id) {
  Locked locked(this);
  if (!locked.status().ok()) return locked.status();
  const std::string from = std::string(kLease) + id;
  const std::string to = std::string(kSettling) + id;
  LeaseClaim claim;
  claim.fd_ = openat(dir_fd_, from.c_str(), O_RDONLY | O_CLOEXEC);
  if (claim.fd_ < 0) {
    if (errno == ENOENT) return std::optional<LeaseClaim>();
    return SysError("opening " + dir_ + "/" + from);
  }
  // Nobody else locks a lease- file, and the journal lock keeps other
  // claims out: this succeeds at once.
  if (flock(claim.fd_, LOCK_EX | LOCK_NB) != 0) return SysError("locking " + dir_ + "/" + from);
  Result<std::string> text = ReadAll(claim.fd_, dir_ + "/" + from);
  if (!text.ok()) return text.status();
  Result<Content> content = Parse(text.value(), dir_ + "/" + from);
  if (!content.ok()) return content.status();
  if (renameat(dir_fd_, from.c_str(), dir_fd_, to.c_str()) != 0)
    return SysError("claiming " + dir_ + "/" + from);
  Touch(dir_fd_, to);
  claim.id = id;
  claim.order = content->order;
  claim.messages = content->messages.size();
  claim.done = std::move(content->done);
  return std::optional<LeaseClaim>(std::move(claim));
}

Result<bool> LeaseJournal::Finish(LeaseClaim claim, const std::vector<std::string>& dead_letters) {
  Locked locked(this);
  if (!locked.status().ok()) return locked.status();
  const std::string name = std::string(kSettling) + claim.id;
  if (!dead_letters.empty()) {
    if (faccessat(dir_fd_, name.c_str(), F_OK, 0) != 0) {
      return errno == ENOENT ? Result<bool>(false)
                             : Result<bool>(SysError("looking for " + dir_ + "/" + name));
    }
    std::string lines;
    for (const std::string& line : dead_letters) lines.append(line).append("\n");
    if (Status s = Commit({}, {name}, lines); !s.ok()) return s;
    return true;
  }
  if (unlinkat(dir_fd_, name.c_str(), 0) != 0) {
    if (errno == ENOENT) return false;
    return SysError("removing " + dir_ + "/" + name);
  }
  return true;
}

Status LeaseJournal::Unclaim(LeaseClaim claim) {
  Locked locked(this);
  if (!locked.status().ok()) return locked.status();
  const std::string from = std::string(kSettling) + claim.id;
  const std::string to = std::string(kLease) + claim.id;
  if (std::find(claim.done.begin(), claim.done.end(), true) == claim.done.end()) {
    if (renameat(dir_fd_, from.c_str(), dir_fd_, to.c_str()) != 0)
      return SysError("giving up " + dir_ + "/" + from);
    return Status::Ok();
  }
  // Record what was published, so that nobody publishes it again.
  Result<std::string> text = ReadAll(claim.fd_, dir_ + "/" + from);
  if (!text.ok()) return text.status();
  Result<Content> content = Parse(text.value(), dir_ + "/" + from);
  if (!content.ok()) return content.status();
  return Commit({{to, Serialize(content->order, content->deliveries, content->messages, claim.done)}},
                {from});
}

Status LeaseJournal::Release(const std::string& id) {
  Locked locked(this);
  if (!locked.status().ok()) return locked.status();
  const std::string name = std::string(kLease) + id;
  if (faccessat(dir_fd_, name.c_str(), F_OK, 0) != 0) {
    return errno == ENOENT ? Status::Ok() : SysError("looking for " + dir_ + "/" + name);
  }
  Result<Content> content = ReadContent(dir_fd_, dir_, name);
  if (!content.ok()) return content.status();
  // Under a new id: the released lease's id settles nothing any more. Ready
  // messages are taken as a first delivery again (Lease::deliveries).
  const std::string ready = std::string(kReady) + OrderText(content->order) + "-";
  if (content->Undone() == content->messages.size() && content->deliveries == 1) {
    const std::string to = ready + NewId();
    if (renameat(dir_fd_, name.c_str(), dir_fd_, to.c_str()) != 0)
      return SysError("releasing " + dir_ + "/" + name);
    return Status::Ok();
  }
  std::vector<std::string> undone;
  for (size_t i = 0; i < content->messages.size(); ++i) {
    if (!content->IsDone(i)) undone.push_back(std::move(content->messages[i]));
  }
  if (undone.empty()) return Commit({}, {name});
  return Commit({{ready + NewId(), Serialize(content->order, 1, undone, {})}}, {name});
}

Status LeaseJournal::Reclaim(int older_than_ms, size_t max, Lease* out) {
  *out = Lease{};
  Locked locked(this);
  if (!locked.status().ok()) return locked.status();
  // Half-written files of a change that never committed.
  for (std::string_view prefix : {kNew, kTmp}) {
    Result<std::vector<Entry>> leftovers = List(prefix);
    if (!leftovers.ok()) return leftovers.status();
    for (const Entry& e : leftovers.value()) unlinkat(dir_fd_, e.name.c_str(), 0);
  }
  std::vector<Entry> candidates;
  for (std::string_view prefix : {kLease, kSettling}) {
    Result<std::vector<Entry>> listed = List(prefix);
    if (!listed.ok()) return listed.status();
    candidates.insert(candidates.end(), listed->begin(), listed->end());
  }
  const int64_t cutoff = NowUnixNanos() - static_cast<int64_t>(older_than_ms) * 1000000;
  std::erase_if(candidates, [&](const Entry& e) { return e.mtime_ns > cutoff; });
  std::sort(candidates.begin(), candidates.end(), [](const Entry& a, const Entry& b) {
    return a.mtime_ns != b.mtime_ns ? a.mtime_ns < b.mtime_ns : a.name < b.name;
  });
  int scanned = 0;
  for (const Entry& old : candidates) {
    if (++scanned > kReclaimScan) break;
    const int fd = openat(dir_fd_, old.name.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    // A settling file whose claimer is alive is locked: its Settle is in
    // progress, however long it takes. A dead claimer's lock is gone.
    const bool claimed_by_the_living = flock(fd, LOCK_EX | LOCK_NB) != 0;
    Result<std::string> text =
        claimed_by_the_living ? Result<std::string>(std::string()) : ReadAll(fd, old.name);
    close(fd);
    if (claimed_by_the_living) continue;
    if (!text.ok()) return text.status();
    Result<Content> content = Parse(text.value(), dir_ + "/" + old.name);
    if (!content.ok()) return content.status();
    std::vector<std::string> undone;
    for (size_t i = 0; i < content->messages.size(); ++i) {
      if (!content->IsDone(i)) undone.push_back(std::move(content->messages[i]));
    }
    if (undone.empty()) {  // everything was published; only the removal was missing
      if (unlinkat(dir_fd_, old.name.c_str(), 0) != 0 && errno != ENOENT)
        return SysError("removing " + old.name);
      continue;
    }
    // The new lease is one more delivery of its messages; the rest of a
    // larger one keeps the old count until it is reclaimed in its turn.
    const std::string id = NewId();
    const std::string name = std::string(kLease) + id;
    const uint32_t deliveries = content->deliveries == UINT32_MAX ? UINT32_MAX : content->deliveries + 1;
    const size_t first = std::min(max, undone.size());
    std::vector<std::string> head(undone.begin(), undone.begin() + static_cast<ptrdiff_t>(first));
    std::vector<std::pair<std::string, std::string>> files;
    files.emplace_back(name, Serialize(content->order, deliveries, head, {}));
    std::string rest_name;
    if (first < undone.size()) {
      std::vector<std::string> rest(undone.begin() + static_cast<ptrdiff_t>(first), undone.end());
      rest_name = std::string(kLease) + NewId();
      files.emplace_back(rest_name, Serialize(content->order, content->deliveries, rest, {}));
    }
    if (Status s = Commit(files, {old.name}); !s.ok()) return s;
    if (!rest_name.empty()) Touch(dir_fd_, rest_name, &old.mtime_ns);  // as old: the next call takes it
    Touch(dir_fd_, name);
    out->id = id;
    out->messages = std::move(head);
    out->deliveries = deliveries;
    return Status::Ok();
  }
  return Status::Ok();
}

std::string LeaseJournal::dead_letter_path() const { return dir_ + "/" + kDeadLetters; }

Result<std::vector<std::string>> LeaseJournal::DeadLetters(size_t max) {
  Locked locked(this);
  if (!locked.status().ok()) return locked.status();
  std::vector<std::string> lines;
  const int fd = openat(dir_fd_, kDeadLetters, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return lines;
    return SysError("opening " + dead_letter_path());
  }
  Result<std::string> text = ReadAll(fd, dead_letter_path());
  close(fd);
  if (!text.ok()) return text.status();
  std::string_view rest = text.value();
  while (!rest.empty()) {
    const size_t newline = rest.find('\n');
    lines.emplace_back(rest.substr(0, newline));
    rest.remove_prefix(newline == std::string_view::npos ? rest.size() : newline + 1);
  }
  if (lines.size() > max) lines.erase(lines.begin(), lines.end() - static_cast<ptrdiff_t>(max));
  return lines;
}

Result<int64_t> LeaseJournal::MessagesHeld() {
  Locked locked(this);
  if (!locked.status().ok()) return locked.status();
  int64_t held = 0;
  for (std::string_view prefix : {kReady, kLease, kSettling}) {
    Result<std::vector<Entry>> listed = List(prefix);
    if (!listed.ok()) return listed.status();
    for (const Entry& e : listed.value()) {
      Result<Content> content = ReadContent(dir_fd_, dir_, e.name);
      if (!content.ok()) return content.status();
      held += static_cast<int64_t>(content->Undone());
    }
  }
  return held;
}

}  // namespace scorepipe
