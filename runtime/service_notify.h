// Tells the service manager how this node process is doing (systemd's
// Type=notify protocol through libsystemd's sd_notify): "ready" once its
// sockets are bound, its model is loaded and its dependencies answer; a
// watchdog ping from its main loop, so that a hung node (not only a dead
// one) is restarted; a status line; "stopping" when it drains. Outside
// systemd (no NOTIFY_SOCKET in the environment) every call does nothing.
//
// A ServiceNotifier reads the environment (NOTIFY_SOCKET, WATCHDOG_USEC,
// WATCHDOG_PID) when it is made and belongs to one thread. A node uses the
// process-wide one through the free functions below, from its main thread:
// the loop whose progress the watchdog vouches for.
#ifndef SCOREPIPE_RUNTIME_SERVICE_NOTIFY_H_
#define SCOREPIPE_RUNTIME_SERVICE_NOTIFY_H_

#include <chrono>
#include <string_view>

#include "runtime/node_health.h"

namespace scorepipe {

class ServiceNotifier {
 public:
  ServiceNotifier();
  ServiceNotifier(const ServiceNotifier&) = delete;
  ServiceNotifier& operator=(const ServiceNotifier&) = delete;

  // READY=1 with `status` as the status line; only the first call sends
  // READY=1, later ones only the status.
  void Ready(std::string_view status);
  bool ready() const { return ready_; }
  // STATUS=<status>: what `systemctl status` shows under the unit.
  void Status(std::string_view status);
  // STOPPING=1: the node drains and leaves.
  void Stopping();
  // WATCHDOG=1, at most once per half watchdog interval, so it is cheap to
  // call on every turn of a loop. Nothing when the unit has no WatchdogSec=
  // (or the watchdog is meant for another process).
  void Alive();
  // The interval systemd expects pings within, zero when there is none.
  std::chrono::microseconds watchdog_interval() const { return watchdog_interval_; }

 private:
  std::chrono::microseconds watchdog_interval_{0};
  bool ready_ = false;
  std::chrono::steady_clock::time_point last_ping_{};
};

// The process-wide notifier (made on first use) and shorthands for it, which
// also keep the node's health (runtime/node_health.h: /livez, /readyz) in
// step: NotifyReady starts the node, NotifyAlive beats, NotifyStopping stops.
ServiceNotifier& ProcessNotifier();
inline void NotifyReady(std::string_view status) {
  ProcessNotifier().Ready(status);
  ProcessHealth().Started(status);
}
inline bool NotifiedReady() { return ProcessNotifier().ready(); }
inline void NotifyStatus(std::string_view status) { ProcessNotifier().Status(status); }
inline void NotifyStopping() {
  ProcessNotifier().Stopping();
  ProcessHealth().Stopping();
}
inline void NotifyAlive() {
  ProcessNotifier().Alive();
  ProcessHealth().Beat();
}

}  // namespace scorepipe

#endif  // SCOREPIPE_RUNTIME_SERVICE_NOTIFY_H_
