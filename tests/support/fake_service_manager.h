// FakeServiceManager: the receiving end of systemd's notify protocol, for
// tests: a unix datagram socket in a temp folder whose path goes into
// NOTIFY_SOCKET, so that a ServiceNotifier in this process, or a node
// started as a child, sends its READY=1 / WATCHDOG=1 / STOPPING=1 here.
//
// Owned by one test; Next() from one thread. Setting the environment is
// process-wide: Expose() sets it, the destructor restores it.
#ifndef SCOREPIPE_TESTS_SUPPORT_FAKE_SERVICE_MANAGER_H_
#define SCOREPIPE_TESTS_SUPPORT_FAKE_SERVICE_MANAGER_H_

#include <chrono>
#include <optional>
#include <string>

namespace scorepipe::testing {

class FakeServiceManager {
 public:
  FakeServiceManager();  // binds the socket; error() says why when it could not
  ~FakeServiceManager();
  FakeServiceManager(const FakeServiceManager&) = delete;
  FakeServiceManager& operator=(const FakeServiceManager&) = delete;

  const std::string& error() const { return error_; }
  const std::string& path() const { return path_; }

  // Sets NOTIFY_SOCKET to this socket and, when `watchdog_usec` > 0,
  // WATCHDOG_USEC (WATCHDOG_PID is left unset: any process may ping).
  void Expose(long long watchdog_usec = 0);

  // The next datagram, or nullopt when none came within `timeout`.
  std::optional<std::string> Next(std::chrono::milliseconds timeout);
  // Datagrams until one contains `state` (e.g. "READY=1"); that one, or
  // nullopt at the timeout. The ones skipped are appended to `skipped`.
  std::optional<std::string> WaitFor(const std::string& state, std::chrono::milliseconds timeout,
                                     std::string* skipped = nullptr);

 private:
  std::string dir_;
  std::string path_;
  std::string error_;
  int fd_ = -1;
};

}  // namespace scorepipe::testing

#endif  // SCOREPIPE_TESTS_SUPPORT_FAKE_SERVICE_MANAGER_H_
