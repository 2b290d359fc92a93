// Crashes on purpose, for the durable/ tests: runs a piece of durable code
// in a forked child that dies (_exit, no cleanup, nothing flushed that the
// code did not write) at a chosen step of durable/fault_hook.h, in the
// middle of a write if the step is one, and tells how the child ended. The
// parent then looks at what is on disk, as the next process would after a
// crash.
//
// A killed process is not a lost host: what the child wrote stays in the
// page cache. These tests check the order of the steps (temporary file,
// rename, intent, removal), which is what makes a crash at any point leave
// the old state or the new; that every step is followed by the right fsync
// is checked by counting the steps (the tests that list them).
//
// Header-only; used from the test's thread, before it starts any other.
#ifndef SCOREPIPE_TESTS_DURABLE_CRASH_CHILD_H_
#define SCOREPIPE_TESTS_DURABLE_CRASH_CHILD_H_

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstddef>
#include <functional>

#include "durable/fault_hook.h"

namespace scorepipe::testing {

enum class ChildEnd {
  kFinished,        // the work ran to its end and succeeded: the crash point lies beyond its steps
  kFailed,          // the work returned an error (no crash)
  kCrashedAtStep,   // died just before a step that is not a write
  kCrashedInWrite,  // died after writing the first `byte` bytes of a write (none when 0)
  kPastTheWrite,    // the step is a write of at most `byte` bytes: died before it (nothing new)
};

// The `step`-th step (from 0) that the child takes; `byte`: where a write
// is cut.
struct CrashPoint {
  int step = 0;
  size_t byte = 0;
};

namespace crash_child_internal {

enum ExitCode { kOk = 0, kError = 1, kAtStep = 40, kInWrite = 41, kPast = 42 };

inline CrashPoint crash_at;
inline int steps_seen = 0;
inline bool die_next = false;

inline int Hook(FileStep step, size_t* bytes) {
  if (die_next) _exit(kInWrite);
  if (steps_seen++ < crash_at.step) return 0;
  if (step != FileStep::kWrite) _exit(kAtStep);
  if (crash_at.byte >= *bytes) _exit(kPast);
  if (crash_at.byte == 0) _exit(kInWrite);
  *bytes = crash_at.byte;  // this much reaches the file; the next step ends the process
  die_next = true;
  return 0;
}

}  // namespace crash_child_internal

// Runs `work` (true: it succeeded) in a child that dies at `at`.
inline ChildEnd RunInChild(CrashPoint at, const std::function<bool()>& work) {
  namespace internal = crash_child_internal;
  const pid_t pid = fork();
  if (pid == 0) {
    internal::crash_at = at;
    internal::steps_seen = 0;
    internal::die_next = false;
    SetFaultHook(&internal::Hook);
    const bool ok = work();
    // A write cut short that was the work's last step: it dies here.
    _exit(internal::die_next ? internal::kInWrite : ok ? internal::kOk : internal::kError);
  }
  EXPECT_GT(pid, 0) << "fork failed";
  if (pid <= 0) return ChildEnd::kFailed;
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
  }
  EXPECT_TRUE(WIFEXITED(status)) << "the child died of signal " << WTERMSIG(status);
  switch (WEXITSTATUS(status)) {
    case internal::kOk:
      return ChildEnd::kFinished;
    case internal::kAtStep:
      return ChildEnd::kCrashedAtStep;
    case internal::kInWrite:
      return ChildEnd::kCrashedInWrite;
    case internal::kPast:
      return ChildEnd::kPastTheWrite;
    default:
      return ChildEnd::kFailed;
  }
}

// Crashes `work` at every step it takes, and inside each write at every
// byte: before each run `reset` lays the starting state, after it `check`
// looks at what the crash left. Stops at the first failed expectation.
// Returns the number of crash points tried (the last run finished).
inline int ForEveryCrashPoint(const std::function<void()>& reset, const std::function<bool()>& work,
                              const std::function<void(CrashPoint, ChildEnd)>& check) {
  int tried = 0;
  for (int step = 0;; ++step) {
    for (size_t byte = 0;; ++byte) {
      reset();
      const CrashPoint at{step, byte};
      const ChildEnd end = RunInChild(at, work);
      ++tried;
      EXPECT_NE(end, ChildEnd::kFailed) << "the work failed without a crash, at step " << step;
      check(at, end);
      if (::testing::Test::HasFailure() || end == ChildEnd::kFinished) return tried;
      if (end != ChildEnd::kCrashedInWrite) break;
    }
  }
}

}  // namespace scorepipe::testing

#endif  // SCOREPIPE_TESTS_DURABLE_CRASH_CHILD_H_
