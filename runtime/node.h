// What every scorepipe node process shares besides the wire format: the stop
// request raised by SIGINT/SIGTERM, log files reopened on SIGHUP, log set-up with the node's role and id,
// retry back-off, rate-limited logging, clocks, and ZeroMQ send/receive that
// keep a node responsive to a stop request while it waits.
//
// The stop flag is process-wide and async-signal-safe; the other types are
// owned by the one thread that uses them.
#ifndef SCOREPIPE_RUNTIME_NODE_H_
#define SCOREPIPE_RUNTIME_NODE_H_

#include <spdlog/formatter.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <zmq.hpp>

#include "proto/status.h"

namespace scorepipe {

// SIGINT and SIGTERM set the stop flag; a second one exits at once.
//
// SIGHUP never stops a node by itself: it reopens the log files, so that
// logrotate can rename them away without copytruncate. When stderr (or
// stdout) was a regular file here, the handler opens the path it had then
// again (O_APPEND, created 0644 if missing) and puts it in place of fd 2 (and
// fd 1), and counts one LogReopenRequests(); a terminal, a pipe or journald's
// socket is left as it is. The one exception is a real hangup: a SIGHUP that
// comes with the loss of the controlling terminal the process had here (its
// terminal window closed) requests a stop as SIGTERM does, unless SIGHUP was
// ignored here (nohup, or a child of ChildProcess, whose parent decides).
void InstallStopSignalHandlers();
// How many SIGHUPs have reopened the logs since the start (a supervisor
// passes each on to its children). Any thread.
uint64_t LogReopenRequests();
bool StopRequested();
void RequestStop();
// Sleeps for `ms`, returning early when a stop is requested. Pings the
// service watchdog while it waits (runtime/service_notify.h): main thread only.
void SleepUnlessStopped(int ms);

// How log lines look (the topology's logging.format).
enum class LogLineFormat {
  kText,  // "<time> <role>[<id>] <level> <message>"
  kJson,  // {"time":"<ISO-8601 UTC>","level":"info","role":"...","id":"...","message":"..."}
};

// Configures the default spdlog logger on stderr. `level` is one of
// trace|debug|info|warn|error|off.
Status InitLogging(std::string_view role, std::string_view id, std::string_view level,
                   LogLineFormat format = LogLineFormat::kText);
// The formatter of LogLineFormat::kJson (the message and every field escaped).
std::unique_ptr<spdlog::formatter> JsonLogFormatter(std::string role, std::string id);

std::string HostName();
int64_t NowUnixMicros();
// A random non-zero 64-bit number: tells two starts of one process apart.
uint64_t NewSession();

// Exponential back-off between retries of a failing dependency (Redis).
class Backoff {
 public:
  explicit Backoff(int initial_ms = 50, int max_ms = 2000) : initial_ms_(initial_ms), max_ms_(max_ms) {}
  int NextDelayMs();  // initial, doubled each call, capped at max
  // After a success: the next delay is the initial one and attempts() is 0.
  void Reset() {
    next_ms_ = 0;
    attempts_ = 0;
  }
  int attempts() const { return attempts_; }  // NextDelayMs() calls since the last Reset()

 private:
  int initial_ms_;
  int max_ms_;
  int next_ms_ = 0;
  int attempts_ = 0;
};

// Lets one log line through per interval; counts the ones it held back, so a
// flood of bad messages costs one line a second, not one per message.
class RateLimitedLog {
 public:
  explicit RateLimitedLog(std::chrono::milliseconds interval = std::chrono::seconds(1))
      : interval_(interval) {}
  // True when this event should be logged; `suppressed` then says how many
  // were held back since the last logged one.
  bool ShouldLog(uint64_t* suppressed);

 private:
  std::chrono::milliseconds interval_;
  std::chrono::steady_clock::time_point last_{};
  uint64_t held_back_ = 0;
  bool logged_once_ = false;
};

// Binds or connects `socket`; ZeroMQ's exception becomes an error value
// naming the endpoint.
Status BindSocket(zmq::socket_t& socket, const std::string& endpoint);
Status ConnectSocket(zmq::socket_t& socket, const std::string& endpoint);

// Waits up to `ms` for `events` (ZMQ_POLLIN, ZMQ_POLLOUT) on `socket`. A
// signal (the stop request) interrupting the wait is an ordinary wake-up,
// not an error.
void PollFor(zmq::socket_t& socket, short events, int ms);
// Sends `frame`, waiting while the peers are full (back-pressure; the
// service watchdog is pinged meanwhile: main thread only). Without a
// deadline it gives up (false) when a stop is requested; with one, used while
// draining after a stop, it gives up only when the deadline passes.
bool SendFrame(zmq::socket_t& socket, zmq::message_t& frame,
               std::optional<std::chrono::steady_clock::time_point> deadline = std::nullopt);
// The bytes of a ZeroMQ frame, for the decoders (valid while `frame` lives).
inline std::string_view FrameView(const zmq::message_t& frame) {
  return std::string_view(static_cast<const char*>(frame.data()), frame.size());
}
// Receives one frame within `timeout_ms`; nullopt when none came.
std::optional<zmq::message_t> ReceiveFor(zmq::socket_t& socket, int timeout_ms);

}  // namespace scorepipe

#endif  // SCOREPIPE_RUNTIME_NODE_H_
