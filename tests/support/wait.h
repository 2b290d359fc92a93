// WaitUntil: the one way the tests wait for a cluster: poll a condition until
// it holds or a deadline passes. Never a fixed sleep.
//
// A header-only free function; any thread.
#ifndef SCOREPIPE_TESTS_SUPPORT_WAIT_H_
#define SCOREPIPE_TESTS_SUPPORT_WAIT_H_

#include <chrono>
#include <thread>

namespace scorepipe::testing {

// Calls `condition` every `poll` until it returns true (then true) or
// `timeout` has passed (then false, after one last call).
template <typename Condition>
bool WaitUntil(Condition condition, std::chrono::milliseconds timeout,
               std::chrono::milliseconds poll = std::chrono::milliseconds(20)) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    if (condition()) return true;
    std::this_thread::sleep_for(poll);
  }
  return condition();
}

}  // namespace scorepipe::testing

#endif  // SCOREPIPE_TESTS_SUPPORT_WAIT_H_
