#include "tests/support/raw_http_client.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>

namespace scorepipe::testing {

using std::chrono::milliseconds;

std::optional<RawResponse> TakeResponse(std::string& bytes) {
  const std::string_view prefix = "HTTP/1.1 ";
  if (bytes.compare(0, std::min(bytes.size(), prefix.size()), prefix.substr(0, bytes.size())) != 0) {
    bytes.clear();
    return RawResponse{-1, {}, {}};
  }
  const size_t head_end = bytes.find("\r\n\r\n");
  if (head_end == std::string::npos) return std::nullopt;
  RawResponse response;
  const std::string head = bytes.substr(0, head_end + 2);
  size_t line_end = head.find("\r\n");
  const std::string status = head.substr(prefix.size(), 3);
  if (std::from_chars(status.data(), status.data() + status.size(), response.status).ec != std::errc()) {
    response.status = -1;
  }
  while (line_end + 2 < head.size()) {
    const size_t next = head.find("\r\n", line_end + 2);
    const std::string line = head.substr(line_end + 2, next - line_end - 2);
    line_end = next;
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = line.substr(0, colon);
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const size_t value = line.find_first_not_of(' ', colon + 1);
    response.headers[name] = value == std::string::npos ? "" : line.substr(value);
  }
  size_t length = 0;
  const std::string content_length = response.Header("content-length");
  std::from_chars(content_length.data(), content_length.data() + content_length.size(), length);
  if (bytes.size() < head_end + 4 + length) return std::nullopt;
  response.body = bytes.substr(head_end + 4, length);
  bytes.erase(0, head_end + 4 + length);
  return response;
}

RawHttpClient::RawHttpClient(int port, int receive_buffer) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) {
    error_ = errno;
    return;
  }
  if (receive_buffer > 0) {
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
  }
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    error_ = errno;
    Close();
    return;
  }
  ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) | O_NONBLOCK);
}

RawHttpClient::~RawHttpClient() { Close(); }

bool RawHttpClient::Send(std::string_view data, milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (!data.empty()) {
    const ssize_t sent = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    if (sent > 0) {
      data.remove_prefix(static_cast<size_t>(sent));
    } else if (sent < 0 && errno != EAGAIN && errno != EINTR) {
      return false;
    } else if (!Wait(POLLOUT, deadline)) {
      return false;
    }
  }
  return true;
}

void RawHttpClient::ShutdownWrite() { ::shutdown(fd_, SHUT_WR); }

void RawHttpClient::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

std::optional<RawResponse> RawHttpClient::Read(milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (true) {
    if (std::optional<RawResponse> response = TakeResponse(buffer_)) return response;
    if (Receive(deadline) != Got::kData) return std::nullopt;
  }
}

bool RawHttpClient::WaitClosed(milliseconds timeout, std::string* received) {
  const auto deadline = Clock::now() + timeout;
  while (true) {
    if (received != nullptr) received->append(buffer_);
    buffer_.clear();
    switch (Receive(deadline)) {
      case Got::kData:
        break;
      case Got::kEnd:
        return true;
      case Got::kTimeout:
        return false;
    }
  }
}

bool RawHttpClient::Wait(short events, Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
  if (left.count() <= 0) return false;
  pollfd one{fd_, events, 0};
  return ::poll(&one, 1, static_cast<int>(left.count())) > 0;
}

RawHttpClient::Got RawHttpClient::Receive(Clock::time_point deadline) {
  while (true) {
    char chunk[64 << 10];
    const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n > 0) {
      buffer_.append(chunk, static_cast<size_t>(n));
      bytes_received_ += static_cast<size_t>(n);
      return Got::kData;
    }
    if (n == 0 || (errno != EAGAIN && errno != EINTR)) return Got::kEnd;  // closed or reset
    if (!Wait(POLLIN, deadline)) return Got::kTimeout;
  }
}

}  // namespace scorepipe::testing
