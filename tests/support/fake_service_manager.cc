#include "tests/support/fake_service_manager.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

namespace scorepipe::testing {

FakeServiceManager::FakeServiceManager() {
  char dir[] = "/tmp/scorepipe-notify-XXXXXX";
  if (mkdtemp(dir) == nullptr) {
    error_ = std::string("mkdtemp: ") + std::strerror(errno);
    return;
  }
  dir_ = dir;
  path_ = dir_ + "/notify.sock";
  fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) {
    error_ = std::string("socket: ") + std::strerror(errno);
    return;
  }
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, path_.c_str(), sizeof(address.sun_path) - 1);
  if (bind(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    error_ = "bind " + path_ + ": " + std::strerror(errno);
  }
}

FakeServiceManager::~FakeServiceManager() {
  unsetenv("NOTIFY_SOCKET");
  unsetenv("WATCHDOG_USEC");
  if (fd_ >= 0) close(fd_);
  std::error_code ignored;
  if (!dir_.empty()) std::filesystem::remove_all(dir_, ignored);
}

void FakeServiceManager::Expose(long long watchdog_usec) {
  setenv("NOTIFY_SOCKET", path_.c_str(), 1);
  unsetenv("WATCHDOG_PID");
  if (watchdog_usec > 0) {
    setenv("WATCHDOG_USEC", std::to_string(watchdog_usec).c_str(), 1);
  } else {
    unsetenv("WATCHDOG_USEC");
  }
}

std::optional<std::string> FakeServiceManager::Next(std::chrono::milliseconds timeout) {
  if (fd_ < 0) return std::nullopt;
  pollfd item{fd_, POLLIN, 0};
  if (poll(&item, 1, static_cast<int>(timeout.count())) <= 0) return std::nullopt;
  char buffer[4096];
  const ssize_t n = recv(fd_, buffer, sizeof buffer, 0);
  if (n < 0) return std::nullopt;
  return std::string(buffer, static_cast<size_t>(n));
}

std::optional<std::string> FakeServiceManager::WaitFor(const std::string& state,
                                                       std::chrono::milliseconds timeout,
                                                       std::string* skipped) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (true) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    std::optional<std::string> datagram = Next(left);
    if (!datagram) return std::nullopt;
    if (datagram->find(state) != std::string::npos) return datagram;
    if (skipped != nullptr) *skipped += *datagram + "|";
  }
}

}  // namespace scorepipe::testing
