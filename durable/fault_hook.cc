#include "durable/fault_hook.h"

#include <atomic>
#include <cerrno>

namespace scorepipe {
namespace {

std::atomic<FaultHook> fault_hook{nullptr};

}  // namespace

void SetFaultHook(FaultHook hook) { fault_hook.store(hook); }

int BeforeFileStep(FileStep step, size_t* bytes) {
  const FaultHook hook = fault_hook.load(std::memory_order_relaxed);
  if (hook == nullptr) return 0;
  const size_t asked = bytes == nullptr ? 0 : *bytes;
  const int error = hook(step, bytes);
  if (bytes != nullptr && (*bytes == 0 || *bytes > asked)) *bytes = asked;  // only shorter, never empty
  if (error != 0) errno = error;
  return error;
}

}  // namespace scorepipe
