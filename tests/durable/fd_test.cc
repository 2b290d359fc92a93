// Fd and the whole-file reads and writes (durable/fd.h): descriptors close
// once, writes finish whatever the system does (short writes, EINTR, both
// injected and real), errors name the file.
#include "durable/fd.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <random>
#include <string>
#include <thread>

#include "durable/fault_hook.h"
#include "tests/durable/durable_test_util.h"
#include "tests/support/temp_dir.h"

namespace scorepipe {
namespace {

using ::testing::HasSubstr;
using testing::RandomBytes;

bool IsOpen(int fd) { return fcntl(fd, F_GETFD) != -1; }

class FdFileTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(temp_.ok()); }
  void TearDown() override { SetFaultHook(nullptr); }

  std::string Path(const std::string& name) const { return (temp_.path() / name).string(); }
  Fd Create(const std::string& name) const {
    Fd fd = OpenPath(Path(name), O_RDWR | O_CREAT | O_TRUNC, 0644);
    EXPECT_TRUE(fd.valid()) << std::strerror(errno);
    return fd;
  }
  std::string Contents(const Fd& fd) const {
    Result<std::string> bytes = ReadAll(fd.get(), "file");
    EXPECT_TRUE(bytes.ok()) << bytes.status().message();
    return bytes.ok() ? bytes.value() : "";
  }

  testing::TempDir temp_{"durable-fd"};
};

TEST(FdTest, ClosesItsDescriptorOnceWhenDestroyedAndMovesOwnership) {
  int raw = -1;
  {
    Fd fd = OpenPath("/dev/null", O_RDONLY);
    ASSERT_TRUE(fd.valid());
    raw = fd.get();
    Fd moved(std::move(fd));
    EXPECT_FALSE(fd.valid());  // NOLINT(bugprone-use-after-move): the moved-from state is the contract
    EXPECT_EQ(moved.get(), raw);
    Fd assigned;
    assigned = std::move(moved);
    EXPECT_EQ(assigned.get(), raw);
    EXPECT_TRUE(IsOpen(raw));
  }
  EXPECT_FALSE(IsOpen(raw)) << "the last owner closed it";
}

TEST(FdTest, ReleaseGivesTheDescriptorUpAndResetClosesTheOldOne) {
  Fd fd = OpenPath("/dev/null", O_RDONLY);
  const int raw = fd.Release();
  EXPECT_FALSE(fd.valid());
  EXPECT_TRUE(IsOpen(raw));
  Fd other = OpenPath("/dev/null", O_RDONLY);
  const int replaced = other.get();
  other.Reset(raw);
  EXPECT_FALSE(IsOpen(replaced));
  EXPECT_EQ(other.get(), raw);
}

TEST(FdTest, OpeningWhatIsNotThereLeavesErrnoToTellWhy) {
  Fd fd = OpenPath("/nonexistent/file", O_RDONLY);
  EXPECT_FALSE(fd.valid());
  EXPECT_EQ(errno, ENOENT);
  EXPECT_EQ(ErrnoError("/nonexistent/file", "open").message(),
            "/nonexistent/file: cannot open: No such file or directory");
}

TEST_F(FdFileTest, WriteAllAndReadAllKeepEveryByte) {
  std::mt19937_64 rng(1);
  for (size_t size : {size_t{0}, size_t{1}, size_t{65535}, size_t{65536}, size_t{65537}, size_t{300000}}) {
    const std::string bytes = RandomBytes(rng, size);
    Fd fd = Create("f");
    ASSERT_TRUE(WriteAll(fd.get(), bytes, "f").ok());
    EXPECT_EQ(Contents(fd), bytes) << size << " bytes";
  }
}

TEST_F(FdFileTest, WriteAllAtWritesAtTheOffsetAndLeavesTheRest) {
  Fd fd = Create("f");
  ASSERT_TRUE(WriteAll(fd.get(), "0123456789", "f").ok());
  ASSERT_TRUE(WriteAllAt(fd.get(), "ab", 3, "f").ok());
  ASSERT_TRUE(WriteAllAt(fd.get(), "XY", 10, "f").ok());
  EXPECT_EQ(Contents(fd), "012ab56789XY");
  EXPECT_FALSE(WriteAllAt(fd.get(), "z", -1, "f").ok());
}

// Short writes and EINTR at random, as a slow disk, a signal or a full pipe
// make them: the file still gets every byte, once, in order.
std::mt19937_64 hook_rng;
int interrupted = 0;
int ShortAndInterruptedWrites(FileStep step, size_t* bytes) {
  if (step != FileStep::kWrite) return 0;
  if (hook_rng() % 4 == 0) {
    ++interrupted;
    return EINTR;
  }
  *bytes = 1 + hook_rng() % *bytes;
  return 0;
}

TEST_F(FdFileTest, WriteAllFinishesThroughShortWritesAndEintrWhereverTheyFall) {
  std::mt19937_64 rng(2);
  for (int round = 0; round < 200; ++round) {
    hook_rng.seed(round);
    const std::string bytes = RandomBytes(rng, rng() % 5000);
    Fd fd = Create("f");
    SetFaultHook(&ShortAndInterruptedWrites);
    const bool at_offset = round % 2 == 1;
    Status s = at_offset ? WriteAllAt(fd.get(), bytes, 7, "f") : WriteAll(fd.get(), bytes, "f");
    SetFaultHook(nullptr);
    ASSERT_TRUE(s.ok()) << s.message();
    std::string expected = bytes;
    if (at_offset && !bytes.empty()) expected = std::string(7, '\0') + bytes;
    ASSERT_EQ(Contents(fd), expected) << "round " << round;
  }
  EXPECT_GT(interrupted, 0);
}

int no_space_after = 0;
int NoSpaceLeft(FileStep step, size_t* bytes) {
  if (step != FileStep::kWrite) return 0;
  if (no_space_after <= 0) return ENOSPC;
  *bytes = std::min<size_t>(*bytes, static_cast<size_t>(no_space_after));
  no_space_after -= static_cast<int>(*bytes);
  return 0;
}

TEST_F(FdFileTest, AFailedWriteIsAnErrorNamingTheFileAndWhy) {
  Fd fd = Create("f");
  no_space_after = 5;
  SetFaultHook(&NoSpaceLeft);
  Status s = WriteAll(fd.get(), "0123456789", Path("f"));
  SetFaultHook(nullptr);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(), Path("f") + ": cannot write: No space left on device");
  EXPECT_EQ(Contents(fd), "01234");
  EXPECT_THAT(WriteAll(-1, "x", "nowhere").message(),
              HasSubstr("nowhere: cannot write: Bad file descriptor"));
}

TEST_F(FdFileTest, SyncFileSyncsOrSaysWhy) {
  Fd fd = Create("f");
  EXPECT_TRUE(SyncFile(fd.get(), "f").ok());
  EXPECT_EQ(SyncFile(-1, "f").message(), "f: cannot sync: Bad file descriptor");
}

// Real EINTR: a writer blocked on a full pipe is interrupted by signals, so
// write(2) returns early with part of the bytes or with EINTR. Every byte
// still arrives, in order.
TEST(FdSignalsTest, WriteAllToAPipeFinishesThroughRealSignals) {
  testing::InterruptingSignal signal;
  ASSERT_TRUE(signal.installed());

  int ends[2];
  ASSERT_EQ(pipe(ends), 0);
  Fd read_end(ends[0]);
  Fd write_end(ends[1]);
  std::mt19937_64 rng(3);
  const std::string bytes = RandomBytes(rng, 4 << 20);
  std::atomic<bool> writer_done{false};
  Status written;
  std::thread writer([&] {
    written = WriteAll(write_end.get(), bytes, "pipe");
    writer_done = true;
    write_end.Reset();  // end of file for the reader, whether all was written or not
  });
  std::string received;
  char buffer[4096];
  while (true) {
    // The pipe is full most of the time: the writer is blocked in write(2)
    // when the signal comes.
    if (!writer_done) signal.Send(writer.native_handle());
    const ssize_t n = read(read_end.get(), buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    received.append(buffer, static_cast<size_t>(n));
  }
  writer.join();
  ASSERT_TRUE(written.ok()) << written.message();
  EXPECT_TRUE(received == bytes) << "the bytes arrived changed";
  EXPECT_GT(signal.caught(), 100) << "the signals reached the writer";
}

}  // namespace
}  // namespace scorepipe
