#include "queue/lease_journal.h"

#include <fcntl.h>
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
constexpr char kLockFile[] = "journal.lock";
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
    Result<bool> locked =
        LockExclusive(journal->lock_fd_.get(), LockWait::kBlock, journal->folder_.PathOf(kLockFile));
    if (!locked.ok()) {
      status_ = locked.status();
      return;
    }
    locked_ = true;
    status_ = journal->commit_.Recover(journal->folder_);
  }
  ~Locked() {
    if (locked_) Unlock(journal_->lock_fd_.get());
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

LeaseJournal::LeaseJournal(std::string dir)
    : dir_(std::move(dir)),
      commit_(MultiFileCommit::Layout{
          .intent = "intent", .staged_prefix = "new-", .temp_prefix = "tmp-", .log = kDeadLetters}) {}

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
  if (lock_fd_.valid()) return Status::Ok();
  Result<Dir> folder = Dir::OpenOrCreate(dir_);
  if (!folder.ok()) return folder.status().WithContext("the lease journal");
  Fd lock = folder->OpenFile(kLockFile, O_RDWR | O_CREAT, 0644);
  if (!lock.valid()) return ErrnoError(folder->PathOf(kLockFile), "open");
  folder_ = std::move(folder.value());
  lock_fd_ = std::move(lock);
  return Status::Ok();
}

Status LeaseJournal::Commit(std::vector<std::pair<std::string, std::string>> files,
                            std::vector<std::string> removed, std::string dead_letter_lines) {
  return commit_.Commit(folder_, MultiFileCommit::Change{.install = std::move(files),
                                                         .remove = std::move(removed),
                                                         .append = std::move(dead_letter_lines)});
}

Result<std::vector<LeaseJournal::Entry>> LeaseJournal::List(std::string_view prefix) {
  std::vector<Entry> out;
  std::error_code error;
  for (fs::directory_iterator it(dir_, error), end; !error && it != end; it.increment(error)) {
    std::string name = it->path().filename().string();
    const size_t id_at = prefix == kReady ? kReady.size() + 21 : prefix.size();  // ready-<20 digits>-<id>
    if (!name.starts_with(prefix) || name.size() <= id_at) continue;
    struct stat st {};
    if (fstatat(folder_.fd(), name.c_str(), &st, 0) != 0) {
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

Result<Content> ReadContent(const Dir& folder, const std::string& name) {
  Result<std::string> text = folder.Read(name);
  if (!text.ok()) return text.status();
  return Parse(text.value(), folder.PathOf(name));
}

// Sets a file's times to now (nullptr) or to `mtime_ns`.
void Touch(const Dir& folder, const std::string& name, const int64_t* mtime_ns = nullptr) {
  if (mtime_ns == nullptr) {
    utimensat(folder.fd(), name.c_str(), nullptr, 0);
    return;
  }
  struct timespec times[2];
  times[0].tv_sec = static_cast<time_t>(*mtime_ns / 1000000000);
  times[0].tv_nsec = static_cast<long>(*mtime_ns % 1000000000);
  times[1] = times[0];
  utimensat(folder.fd(), name.c_str(), times, 0);
}

}  // namespace

Status LeaseJournal::AddReady(const std::vector<std::string>& messages) {
  if (messages.empty()) return Status::Ok();
  Locked locked(this);
  if (!locked.status().ok()) return locked.status();
  const uint64_t order = static_cast<uint64_t>(NowUnixNanos() / 1000);
  const std::string name = std::string(kReady) + OrderText(order) + "-" + NewId();
  if (Status s = commit_.WriteFile(folder_, name, Serialize(order, 1, messages, {})); !s.ok()) return s;
  return folder_.Sync();
}

Result<size_t> LeaseJournal::TakeReady(size_t max, Lease* lease) {
  Locked locked(this);
  if (!locked.status().ok()) return locked.status();
  const std::string lease_name = std::string(kLease) + lease->id;
  if (!lease->id.empty()) {
    Result<bool> held = folder_.Exists(lease_name);
    if (!held.ok() || !held.value()) {
      const std::string lost = lease->id;
      *lease = Lease{};
      return Status::Error("lease " + lost + " is no longer held (reclaimed, settled or released)");
    }
  }
  if (max == 0) return size_t{0};
  Result<std::vector<Entry>> ready = List(kReady);
  if (!ready.ok()) return ready.status();
  if (ready->empty()) return size_t{0};
  const Entry& oldest = *std::min_element(ready->begin(), ready->end(),
                                          [](const Entry& a, const Entry& b) { return a.name < b.name; });
  Result<Content> taken = ReadContent(folder_, oldest.name);
  if (!taken.ok()) return taken.status();
  const size_t count = std::min(max, taken->messages.size());

  if (lease->id.empty() && count == taken->messages.size()) {
    // The common case: the ready file becomes the lease, in one rename.
    const std::string id = oldest.id;
    const std::string name = std::string(kLease) + id;
    if (Status s = folder_.Rename(oldest.name, name); !s.ok()) return s.WithContext("taking ready messages");
    Touch(folder_, name);
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
    Result<Content> current = ReadContent(folder_, lease_name);
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
  const std::string lease_file = files.front().first;
  if (Status s = Commit(std::move(files), {oldest.name}); !s.ok()) return s;
  Touch(folder_, lease_file);
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
  Fd fd = folder_.OpenFile(from, O_RDONLY);
  if (!fd.valid()) {
    if (errno == ENOENT) return std::optional<LeaseClaim>();
    return ErrnoError(folder_.PathOf(from), "open");
  }
  // Nobody else locks a lease- file, and the journal lock keeps other
  // claims out: this succeeds at once.
  Result<std::optional<FileLock>> lock = FileLock::TryTake(std::move(fd), folder_.PathOf(from));
  if (!lock.ok()) return lock.status();
  if (!lock->has_value()) return Status::Error(folder_.PathOf(from) + ": cannot lock: another holds it");
  LeaseClaim claim;
  claim.lock_ = std::move(**lock);
  Result<std::string> text = ReadAll(claim.lock_.fd(), folder_.PathOf(from));
  if (!text.ok()) return text.status();
  Result<Content> content = Parse(text.value(), folder_.PathOf(from));
  if (!content.ok()) return content.status();
  if (Status s = folder_.Rename(from, to); !s.ok()) return s.WithContext("claiming lease " + id);
  Touch(folder_, to);
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
    Result<bool> claimed = folder_.Exists(name);
    if (!claimed.ok() || !claimed.value()) return claimed;
    std::string lines;
    for (const std::string& line : dead_letters) lines.append(line).append("\n");
    if (Status s = Commit({}, {name}, std::move(lines)); !s.ok()) return s;
    return true;
  }
  return folder_.Remove(name);
}

Status LeaseJournal::Unclaim(LeaseClaim claim) {
  Locked locked(this);
  if (!locked.status().ok()) return locked.status();
  const std::string from = std::string(kSettling) + claim.id;
  const std::string to = std::string(kLease) + claim.id;
  if (std::find(claim.done.begin(), claim.done.end(), true) == claim.done.end()) {
    return folder_.Rename(from, to).WithContext("giving up the claim of lease " + claim.id);
  }
  // Record what was published, so that nobody publishes it again.
  Result<std::string> text = ReadAll(claim.lock_.fd(), folder_.PathOf(from));
  if (!text.ok()) return text.status();
  Result<Content> content = Parse(text.value(), folder_.PathOf(from));
  if (!content.ok()) return content.status();
  return Commit({{to, Serialize(content->order, content->deliveries, content->messages, claim.done)}},
                {from});
}

Status LeaseJournal::Release(const std::string& id) {
  Locked locked(this);
  if (!locked.status().ok()) return locked.status();
  const std::string name = std::string(kLease) + id;
  Result<bool> held = folder_.Exists(name);
  if (!held.ok()) return held.status();
  if (!held.value()) return Status::Ok();
  Result<Content> content = ReadContent(folder_, name);
  if (!content.ok()) return content.status();
  // Under a new id: the released lease's id settles nothing any more. Ready
  // messages are taken as a first delivery again (Lease::deliveries).
  const std::string ready = std::string(kReady) + OrderText(content->order) + "-";
  if (content->Undone() == content->messages.size() && content->deliveries == 1) {
    return folder_.Rename(name, ready + NewId()).WithContext("releasing lease " + id);
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
  if (Status s = commit_.RemoveDebris(folder_); !s.ok()) return s;
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
    Fd fd = folder_.OpenFile(old.name, O_RDONLY);
    if (!fd.valid()) continue;
    // A settling file whose claimer is alive is locked: its Settle is in
    // progress, however long it takes. A dead claimer's lock is gone.
    Result<std::optional<FileLock>> lock = FileLock::TryTake(std::move(fd), folder_.PathOf(old.name));
    const bool claimed_by_the_living = !lock.ok() || !lock->has_value();
    if (claimed_by_the_living) continue;
    Result<std::string> text = ReadAll((*lock)->fd(), old.name);
    *lock = std::nullopt;  // closed, as a dead claimer's
    if (!text.ok()) return text.status();
    Result<Content> content = Parse(text.value(), folder_.PathOf(old.name));
    if (!content.ok()) return content.status();
    std::vector<std::string> undone;
    for (size_t i = 0; i < content->messages.size(); ++i) {
      if (!content->IsDone(i)) undone.push_back(std::move(content->messages[i]));
    }
    if (undone.empty()) {  // everything was published; only the removal was missing
      if (Result<bool> removed = folder_.Remove(old.name); !removed.ok()) return removed.status();
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
    if (Status s = Commit(std::move(files), {old.name}); !s.ok()) return s;
    if (!rest_name.empty()) Touch(folder_, rest_name, &old.mtime_ns);  // as old: the next call takes it
    Touch(folder_, name);
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
  Result<std::optional<std::string>> text = folder_.ReadIfPresent(kDeadLetters);
  if (!text.ok()) return text.status();
  if (!text->has_value()) return lines;
  std::string_view rest = **text;
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
      Result<Content> content = ReadContent(folder_, e.name);
      if (!content.ok()) return content.status();
      held += static_cast<int64_t>(content->Undone());
    }
  }
  return held;
}

}  // namespace scorepipe
