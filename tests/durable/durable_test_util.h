// Small helpers of the durable/ tests: random bytes, a folder's files and
// their contents as a plain map, and a hook that records the steps taken.
//
// Header-only; used from the test's thread.
#ifndef SCOREPIPE_TESTS_DURABLE_DURABLE_TEST_UTIL_H_
#define SCOREPIPE_TESTS_DURABLE_DURABLE_TEST_UTIL_H_

#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "durable/fault_hook.h"

namespace scorepipe::testing {

inline std::string RandomBytes(std::mt19937_64& rng, size_t size) {
  std::string bytes(size, '\0');
  for (char& c : bytes) c = static_cast<char>(rng());
  return bytes;
}

// The file's bytes, or nothing when there is no file.
inline std::optional<std::string> FileBytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

inline void PutFile(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

// Every file of a folder (not of its sub-folders) by name, with its bytes.
using Files = std::map<std::string, std::string>;
inline Files FolderFiles(const std::filesystem::path& folder) {
  Files files;
  for (const auto& entry : std::filesystem::directory_iterator(folder)) {
    if (entry.is_regular_file()) files[entry.path().filename().string()] = *FileBytes(entry.path());
  }
  return files;
}

// Lays `files` in `folder`, and nothing else.
inline void LayFolder(const std::filesystem::path& folder, const Files& files) {
  std::filesystem::remove_all(folder);
  std::filesystem::create_directories(folder);
  for (const auto& [name, bytes] : files) PutFile(folder / name, bytes);
}

// The steps taken while it is installed, in order.
inline std::vector<FileStep> recorded_steps;
inline int RecordStep(FileStep step, size_t*) {
  recorded_steps.push_back(step);
  return 0;
}
// The steps, writes folded into one ("write" however many write(2) calls).
inline std::vector<std::string> StepNames(const std::vector<FileStep>& steps) {
  std::vector<std::string> names;
  for (FileStep step : steps) {
    const char* name = step == FileStep::kWrite      ? "write"
                       : step == FileStep::kSyncFile ? "sync-file"
                       : step == FileStep::kSyncDir  ? "sync-dir"
                       : step == FileStep::kRename   ? "rename"
                       : step == FileStep::kRemove   ? "remove"
                                                     : "truncate";
    if (step == FileStep::kWrite && !names.empty() && names.back() == "write") continue;
    names.push_back(name);
  }
  return names;
}

// While it lives, SIGUSR1 runs a handler that only counts, installed
// without SA_RESTART: a system call blocked when the signal comes returns
// early (EINTR, or a short count), as the code under test must handle.
class InterruptingSignal {
 public:
  InterruptingSignal() {
    caught_ = 0;
    struct sigaction action {};
    action.sa_handler = &Count;
    sigemptyset(&action.sa_mask);
    action.sa_flags = 0;  // no SA_RESTART
    installed_ = sigaction(SIGUSR1, &action, &old_) == 0;
  }
  ~InterruptingSignal() {
    if (installed_) sigaction(SIGUSR1, &old_, nullptr);
  }
  InterruptingSignal(const InterruptingSignal&) = delete;
  InterruptingSignal& operator=(const InterruptingSignal&) = delete;

  bool installed() const { return installed_; }
  static int caught() { return caught_.load(); }
  // Interrupts `thread`, whatever it is blocked in.
  static void Send(pthread_t thread) { pthread_kill(thread, SIGUSR1); }

 private:
  static void Count(int) { caught_.fetch_add(1, std::memory_order_relaxed); }
  static inline std::atomic<int> caught_{0};
  struct sigaction old_ {};
  bool installed_ = false;
};

// Fails the `fail_at`-th step (from 0) with `error`; the others run.
inline int fail_at = -1;
inline int fail_error = 0;
inline int steps_before_failure = 0;
inline int FailOneStep(FileStep, size_t*) { return steps_before_failure++ == fail_at ? fail_error : 0; }

}  // namespace scorepipe::testing

#endif  // SCOREPIPE_TESTS_DURABLE_DURABLE_TEST_UTIL_H_
