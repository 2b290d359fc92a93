#include "runtime/node.h"

#include <fcntl.h>
#include <limits.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <thread>

#include "proto/json_writer.h"
#include "proto/upstream_json.h"
#include "runtime/service_notify.h"

namespace scorepipe {
namespace {

std::atomic<int> g_stop_signals{0};

void OnStopSignal(int /*signal*/) {
  if (g_stop_signals.fetch_add(1) >= 1) _exit(130);  // second Ctrl-C: give up draining
}

// What SIGHUP reopens: the path each of stderr and stdout had when the
// handlers were installed, "" when it was no regular file. Written before the
// handler is installed, only read by it.
constexpr int kLogFds[2] = {STDERR_FILENO, STDOUT_FILENO};
char g_log_paths[2][PATH_MAX] = {};
std::atomic<uint64_t> g_log_reopens{0};
bool g_had_terminal = false;    // the process had a controlling terminal at install time
bool g_hangup_ignored = false;  // SIGHUP was ignored at install time (nohup)

// The path `fd` was opened with, when it is a regular file that this path
// still names; else "".
void RememberLogPath(int fd, char* path) {
  path[0] = '\0';
  struct stat open_file {};
  if (fstat(fd, &open_file) != 0 || !S_ISREG(open_file.st_mode)) return;
  char link[32];
  std::snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  const ssize_t n = readlink(link, path, PATH_MAX - 1);
  if (n <= 0) {
    path[0] = '\0';
    return;
  }
  path[n] = '\0';
  struct stat named {};
  if (stat(path, &named) != 0 || named.st_dev != open_file.st_dev || named.st_ino != open_file.st_ino) {
    path[0] = '\0';  // deleted or replaced already: nothing to reopen
  }
}

// Async-signal-safe: open, dup2, close and write only.
void ReopenLogs() {
  int opened[2] = {-1, -1};
  for (int i = 0; i < 2; ++i) {
    const char* path = g_log_paths[i];
    if (path[0] == '\0') continue;
    if (i == 1 && opened[0] >= 0 && std::strcmp(path, g_log_paths[0]) == 0) {
      dup2(opened[0], kLogFds[i]);  // stdout and stderr shared one file: they share the new one
      continue;
    }
    opened[i] = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (opened[i] < 0) {
      constexpr char kWhat[] = "SIGHUP: cannot open the log file again, writing on to the old one: ";
      [[maybe_unused]] ssize_t ignored = write(kLogFds[i], kWhat, sizeof kWhat - 1);
      ignored = write(kLogFds[i], path, std::strlen(path));
      ignored = write(kLogFds[i], "\n", 1);
      continue;
    }
    dup2(opened[i], kLogFds[i]);
  }
  for (int fd : opened) {
    if (fd >= 0) close(fd);
  }
}

void OnHangupSignal(int /*signal*/) {
  const int saved_errno = errno;
  if (g_had_terminal && !g_hangup_ignored) {
    const int tty = open("/dev/tty", O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (tty < 0 && errno == ENXIO) {
      // The controlling terminal is gone: a hangup, not a request to reopen.
      int none = 0;
      g_stop_signals.compare_exchange_strong(none, 1);
      errno = saved_errno;
      return;
    }
    if (tty >= 0) close(tty);
  }
  ReopenLogs();
  g_log_reopens.fetch_add(1);
  errno = saved_errno;
}

constexpr int kPollSliceMs = 50;  // how often waiting code looks at the stop flag

}  // namespace

void InstallStopSignalHandlers() {
  struct sigaction action {};
  action.sa_handler = OnStopSignal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  struct sigaction hangup {};
  hangup.sa_handler = OnHangupSignal;
  sigemptyset(&hangup.sa_mask);
  hangup.sa_flags = SA_RESTART;  // a reopen is no reason to interrupt a blocking call
  struct sigaction before {};
  sigaction(SIGHUP, nullptr, &before);
  if (before.sa_handler != OnHangupSignal) g_hangup_ignored = before.sa_handler == SIG_IGN;
  for (int i = 0; i < 2; ++i) RememberLogPath(kLogFds[i], g_log_paths[i]);
  const int tty = open("/dev/tty", O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
  g_had_terminal = tty >= 0;
  if (tty >= 0) close(tty);
  sigaction(SIGHUP, &hangup, nullptr);
}

uint64_t LogReopenRequests() { return g_log_reopens.load(); }

bool StopRequested() { return g_stop_signals.load(std::memory_order_relaxed) > 0; }
void RequestStop() { g_stop_signals.fetch_add(1); }

void SleepUnlessStopped(int ms) {
  auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (!StopRequested()) {
    auto now = std::chrono::steady_clock::now();
    if (now >= until) return;
    NotifyAlive();  // waiting to retry a dependency is not hung
    std::this_thread::sleep_for(
        std::min<std::chrono::steady_clock::duration>(until - now, std::chrono::milliseconds(kPollSliceMs)));
  }
}

namespace {

// One JSON object per line, for log shippers: every message is escaped,
// whatever it holds (a dead letter's original message, say).
class JsonLineFormatter final : public spdlog::formatter {
 public:
  JsonLineFormatter(std::string role, std::string id) : role_(std::move(role)), id_(std::move(id)) {}

  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const int64_t unix_us =
        std::chrono::duration_cast<std::chrono::microseconds>(msg.time.time_since_epoch()).count();
    const auto level = spdlog::level::to_string_view(msg.level);
    line_.clear();
    JsonWriter json(&line_);
    json.BeginObject().Field("time", FormatIso8601Millis(unix_us));
    json.Field("level", std::string_view(level.data(), level.size())).Field("role", role_).Field("id", id_);
    json.Field("message", std::string_view(msg.payload.data(), msg.payload.size())).EndObject();
    line_ += '\n';
    dest.append(line_.data(), line_.data() + line_.size());
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonLineFormatter>(role_, id_);
  }

 private:
  std::string role_;
  std::string id_;
  std::string line_;  // reused from line to line
};

}  // namespace

std::unique_ptr<spdlog::formatter> JsonLogFormatter(std::string role, std::string id) {
  return std::make_unique<JsonLineFormatter>(std::move(role), std::move(id));
}

Status InitLogging(std::string_view role, std::string_view id, std::string_view level, LogLineFormat format) {
  spdlog::level::level_enum parsed = spdlog::level::from_str(std::string(level));
  if (parsed == spdlog::level::off && level != "off") {
    return Status::Error("log level '" + std::string(level) +
                         "' is not known; allowed: trace, debug, info, warn, error, off");
  }
  auto logger = spdlog::stderr_logger_mt(std::string(role) + "-" + std::string(id));
  if (format == LogLineFormat::kJson) {
    logger->set_formatter(JsonLogFormatter(std::string(role), std::string(id)));
  } else {
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e " + std::string(role) + "[" + std::string(id) + "] %l %v");
  }
  logger->set_level(parsed);
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
  return Status::Ok();
}

std::string HostName() {
  char name[256] = {};
  if (gethostname(name, sizeof(name) - 1) != 0) return "unknown";
  return name;
}

uint64_t NewSession() {
  std::random_device device;
  uint64_t session = 0;
  while (session == 0) session = (static_cast<uint64_t>(device()) << 32) ^ device();
  return session;
}

int64_t NowUnixMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int Backoff::NextDelayMs() {
  ++attempts_;
  next_ms_ = next_ms_ == 0 ? initial_ms_ : std::min(max_ms_, next_ms_ * 2);
  return next_ms_;
}

bool RateLimitedLog::ShouldLog(uint64_t* suppressed) {
  auto now = std::chrono::steady_clock::now();
  if (logged_once_ && now - last_ < interval_) {
    ++held_back_;
    return false;
  }
  logged_once_ = true;
  last_ = now;
  *suppressed = held_back_;
  held_back_ = 0;
  return true;
}

void PollFor(zmq::socket_t& socket, short events, int ms) {
  zmq::pollitem_t item{socket.handle(), 0, events, 0};
  try {
    zmq::poll(&item, 1, std::chrono::milliseconds(ms));
  } catch (const zmq::error_t& e) {
    if (e.num() != EINTR) throw;
  }
}

Status BindSocket(zmq::socket_t& socket, const std::string& endpoint) {
  try {
    socket.bind(endpoint);
  } catch (const zmq::error_t& e) {
    return Status::Error("cannot bind " + endpoint + ": " + e.what());
  }
  return Status::Ok();
}

Status ConnectSocket(zmq::socket_t& socket, const std::string& endpoint) {
  try {
    socket.connect(endpoint);
  } catch (const zmq::error_t& e) {
    return Status::Error("cannot connect to " + endpoint + ": " + e.what());
  }
  return Status::Ok();
}

bool SendFrame(zmq::socket_t& socket, zmq::message_t& frame,
               std::optional<std::chrono::steady_clock::time_point> deadline) {
  while (true) {
    if (socket.send(frame, zmq::send_flags::dontwait)) return true;
    if (deadline ? std::chrono::steady_clock::now() >= *deadline : StopRequested()) return false;
    NotifyAlive();  // held back by a full peer is not hung
    PollFor(socket, ZMQ_POLLOUT, kPollSliceMs);
  }
}

std::optional<zmq::message_t> ReceiveFor(zmq::socket_t& socket, int timeout_ms) {
  PollFor(socket, ZMQ_POLLIN, timeout_ms);
  zmq::message_t frame;
  if (!socket.recv(frame, zmq::recv_flags::dontwait)) return std::nullopt;
  return frame;
}

}  // namespace scorepipe
