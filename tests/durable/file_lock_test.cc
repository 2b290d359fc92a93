// Locks (durable/file_lock.h) between processes: another process holding
// the lock keeps a blocking Take waiting and makes TryTake answer at once;
// the lock goes with its holder's death; a signal during a blocking wait is
// retried, not reported.
#include "durable/file_lock.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <string>
#include <thread>

#include "tests/durable/durable_test_util.h"
#include "tests/support/temp_dir.h"

namespace scorepipe {
namespace {

using std::chrono::milliseconds;
using ::testing::HasSubstr;

// Another process that takes the lock on `path` and holds it until told to
// let go, or until it is killed.
class LockHolder {
 public:
  explicit LockHolder(const std::string& path) {
    int ready[2], release[2];
    if (pipe(ready) != 0 || pipe(release) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      close(ready[0]);
      close(release[1]);
      Result<FileLock> lock = FileLock::Take(path);
      char c = lock.ok() ? 'L' : 'E';
      if (write(ready[1], &c, 1) != 1) _exit(2);
      while (read(release[0], &c, 1) < 0 && errno == EINTR) {
      }
      _exit(0);  // the lock goes with the process
    }
    close(ready[1]);
    close(release[0]);
    release_ = release[1];
    char c = 0;
    while (read(ready[0], &c, 1) < 0 && errno == EINTR) {
    }
    close(ready[0]);
    holding_ = c == 'L';
  }
  ~LockHolder() {
    if (pid_ > 0) Kill();
  }
  LockHolder(const LockHolder&) = delete;
  LockHolder& operator=(const LockHolder&) = delete;

  bool holding() const { return holding_; }
  void Release() {
    close(release_);  // end of file: the child exits
    Wait();
  }
  void Kill() {
    kill(pid_, SIGKILL);
    close(release_);
    Wait();
  }

 private:
  void Wait() {
    int status = 0;
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
  }
  pid_t pid_ = -1;
  int release_ = -1;
  bool holding_ = false;
};

class FileLockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(temp_.ok());
    std::ofstream(path_) << "";
  }

  testing::TempDir temp_{"durable-lock"};
  const std::string path_ = (temp_.path() / "lock").string();
};

TEST_F(FileLockTest, TryTakeAnswersAtOnceWhileAnotherProcessHoldsTheLock) {
  LockHolder other(path_);
  ASSERT_TRUE(other.holding());
  const auto start = std::chrono::steady_clock::now();
  Result<std::optional<FileLock>> lock = FileLock::TryTake(path_);
  ASSERT_TRUE(lock.ok()) << lock.status().message();
  EXPECT_FALSE(lock->has_value()) << "the other process holds it";
  EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(500)) << "no wait";
  Fd fd = OpenPath(path_, O_RDONLY);
  Result<bool> locked = LockExclusive(fd.get(), LockWait::kTry, path_);
  ASSERT_TRUE(locked.ok());
  EXPECT_FALSE(locked.value());
  other.Release();
  lock = FileLock::TryTake(path_);
  ASSERT_TRUE(lock.ok());
  EXPECT_TRUE(lock->has_value() && (*lock)->held()) << "free once the other let go";
}

TEST_F(FileLockTest, TakeWaitsUntilTheOtherProcessLetsGo) {
  LockHolder other(path_);
  ASSERT_TRUE(other.holding());
  std::future<Result<FileLock>> taken = std::async(std::launch::async, [&] { return FileLock::Take(path_); });
  EXPECT_EQ(taken.wait_for(milliseconds(300)), std::future_status::timeout) << "Take went past a held lock";
  other.Release();
  ASSERT_EQ(taken.wait_for(std::chrono::seconds(30)), std::future_status::ready);
  Result<FileLock> lock = taken.get();
  ASSERT_TRUE(lock.ok()) << lock.status().message();
  EXPECT_TRUE(lock->held());
}

TEST_F(FileLockTest, TheLockGoesWithAKilledHolder) {
  LockHolder other(path_);
  ASSERT_TRUE(other.holding());
  other.Kill();
  Result<std::optional<FileLock>> lock = FileLock::TryTake(path_);
  ASSERT_TRUE(lock.ok());
  EXPECT_TRUE(lock->has_value());
}

TEST_F(FileLockTest, TwoOpensInOneProcessExcludeEachOtherUntilTheFirstIsDestroyed) {
  std::optional<Result<FileLock>> first(FileLock::Take(path_));
  ASSERT_TRUE(first->ok());
  Result<std::optional<FileLock>> second = FileLock::TryTake(path_);
  ASSERT_TRUE(second.ok());
  EXPECT_FALSE(second->has_value());
  first.reset();  // closes its descriptor: released
  second = FileLock::TryTake(path_);
  ASSERT_TRUE(second.ok());
  EXPECT_TRUE(second->has_value());
}

TEST_F(FileLockTest, UnlockReleasesWithoutClosing) {
  Fd fd = OpenPath(path_, O_RDONLY);
  ASSERT_TRUE(LockExclusive(fd.get(), LockWait::kBlock, path_).value());
  EXPECT_FALSE(FileLock::TryTake(path_)->has_value());
  Unlock(fd.get());
  EXPECT_TRUE(FileLock::TryTake(path_)->has_value());
  EXPECT_NE(fcntl(fd.get(), F_GETFD), -1) << "still open";
}

TEST_F(FileLockTest, AFolderCanBeLocked) {
  Result<FileLock> lock = FileLock::Take(temp_.path().string());
  ASSERT_TRUE(lock.ok()) << lock.status().message();
  EXPECT_FALSE(FileLock::TryTake(temp_.path().string())->has_value());
}

TEST_F(FileLockTest, ErrorsNameTheFileAndWhy) {
  EXPECT_EQ(FileLock::Take("/nonexistent/lock").status().message(),
            "/nonexistent/lock: cannot open to lock: No such file or directory");
  EXPECT_EQ(FileLock::TryTake("/nonexistent/lock").status().message(),
            "/nonexistent/lock: cannot open to lock: No such file or directory");
  EXPECT_THAT(LockExclusive(-1, LockWait::kBlock, "f").status().message(),
              HasSubstr("f: cannot lock: Bad file descriptor"));
  EXPECT_FALSE(LockExclusive(-1, LockWait::kTry, "f").ok()) << "an error is not 'another holds it'";
}

// A signal during a blocking flock(2) makes it return EINTR: Take waits on
// instead of failing.
TEST_F(FileLockTest, SignalsDuringABlockingTakeAreRetried) {
  testing::InterruptingSignal signal;
  ASSERT_TRUE(signal.installed());

  LockHolder other(path_);
  ASSERT_TRUE(other.holding());
  std::atomic<bool> taken{false};
  const pthread_t waiter = pthread_self();
  std::thread signaller([&] {
    // Signals while the waiter is in flock(2), then the holder lets go.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (signal.caught() < 50 && std::chrono::steady_clock::now() < deadline) {
      signal.Send(waiter);
      std::this_thread::sleep_for(milliseconds(2));
    }
    other.Release();
    while (!taken) {
      signal.Send(waiter);  // also while it takes the lock
      std::this_thread::sleep_for(milliseconds(1));
    }
  });
  Result<FileLock> lock = FileLock::Take(path_);
  taken = true;
  signaller.join();
  ASSERT_TRUE(lock.ok()) << lock.status().message();
  EXPECT_TRUE(lock->held());
  EXPECT_GE(signal.caught(), 50);
}

}  // namespace
}  // namespace scorepipe
