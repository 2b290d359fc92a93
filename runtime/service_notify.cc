#include "runtime/service_notify.h"

#include <systemd/sd-daemon.h>

#include <cstdint>
#include <string>

namespace scorepipe {
namespace {

void Send(const std::string& state) {
  // unset_environment = 0: the environment stays as systemd set it. A
  // manager that cannot be reached is not the node's problem: it keeps
  // working, and systemd notices a missing READY or WATCHDOG by itself.
  (void)sd_notify(0, state.c_str());
}

}  // namespace

ServiceNotifier::ServiceNotifier() {
  uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) > 0) watchdog_interval_ = std::chrono::microseconds(usec);
}

void ServiceNotifier::Ready(std::string_view status) {
  std::string state = "STATUS=" + std::string(status);
  if (!ready_) state = "READY=1\n" + state;
  ready_ = true;
  Send(state);
}

void ServiceNotifier::Status(std::string_view status) { Send("STATUS=" + std::string(status)); }

void ServiceNotifier::Stopping() { Send("STOPPING=1\nSTATUS=draining what it holds, then stopping"); }

void ServiceNotifier::Alive() {
  if (watchdog_interval_.count() == 0) return;
  const auto now = std::chrono::steady_clock::now();
  if (last_ping_ != std::chrono::steady_clock::time_point{} && now - last_ping_ < watchdog_interval_ / 2)
    return;
  last_ping_ = now;
  Send("WATCHDOG=1");
}

ServiceNotifier& ProcessNotifier() {
  static ServiceNotifier notifier;
  return notifier;
}

}  // namespace scorepipe
