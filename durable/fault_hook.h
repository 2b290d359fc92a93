// The one place where a test can cut a durable change short. Every step of
// durable/ that changes a file or a folder (a write, an fsync, a rename, a
// removal, a truncation) asks the hook first, so a test can make the step
// fail as the system would (ENOSPC, EIO, EINTR), make a write short, or end
// the process right there (in a forked child: a crash at that very byte) and
// then check what is left on disk.
//
// Production code never sets a hook: each step then costs one atomic load.
// SetFaultHook is for tests only; set it before the steps it should see
// start, and reset it (nullptr) after. The hook runs on the thread of the
// step and must be thread-safe if steps run on several threads.
#ifndef SCOREPIPE_DURABLE_FAULT_HOOK_H_
#define SCOREPIPE_DURABLE_FAULT_HOOK_H_

#include <cstddef>

namespace scorepipe {

enum class FileStep {
  kWrite,     // write(2) or pwrite(2)
  kSyncFile,  // fsync(2) of a file
  kSyncDir,   // fsync(2) of a folder
  kRename,    // rename(2) of a file or a folder
  kRemove,    // unlink(2) of a file, or removing a folder
  kTruncate,  // ftruncate(2)
};

// Called before `step`. For kWrite, *bytes is how many bytes are about to be
// written, and the hook may lower it (to at least 1) to make the write
// short; for the other steps `bytes` is null. Returns 0 to let the step run,
// or an errno value to make it fail with, as the system would.
using FaultHook = int (*)(FileStep step, size_t* bytes);

// Tests only: every later step asks `hook` (nullptr: none).
void SetFaultHook(FaultHook hook);

// What durable/ calls before each step: 0, or the errno the hook chose (and
// errno is set to it).
int BeforeFileStep(FileStep step, size_t* bytes = nullptr);

}  // namespace scorepipe

#endif  // SCOREPIPE_DURABLE_FAULT_HOOK_H_
