// A raw HTTP/1.1 client over TCP to 127.0.0.1 for the tests that must
// misbehave the way no HTTP library lets them: send a byte at a time,
// pipeline, never read, hold a connection idle, or count what arrives
// before the server closes. Every wait is a poll with a deadline: a test
// never blocks on a server that does not answer.
//
// A RawHttpClient is used by one thread.
#ifndef SCOREPIPE_TESTS_SUPPORT_RAW_HTTP_CLIENT_H_
#define SCOREPIPE_TESTS_SUPPORT_RAW_HTTP_CLIENT_H_

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace scorepipe::testing {

// How long one step of a raw client (connect aside) may take by default.
inline constexpr std::chrono::milliseconds kRawStep{5000};

struct RawResponse {
  int status = 0;                              // -1: what came was not HTTP
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;

  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

// Takes the first whole response (Content-Length bodies) off `bytes`;
// nullopt while it is incomplete. Bytes that do not start like a response
// give status -1 and are all taken.
std::optional<RawResponse> TakeResponse(std::string& bytes);

class RawHttpClient {
 public:
  // Connects at once; ok() says whether it did (error() why not). A
  // `receive_buffer` over 0 sets SO_RCVBUF first.
  explicit RawHttpClient(int port, int receive_buffer = 0);
  ~RawHttpClient();
  RawHttpClient(const RawHttpClient&) = delete;
  RawHttpClient& operator=(const RawHttpClient&) = delete;

  bool ok() const { return fd_ >= 0; }
  int error() const { return error_; }
  size_t bytes_received() const { return bytes_received_; }

  // Sends all of `data`; false when the peer is gone or it took over `timeout`.
  bool Send(std::string_view data, std::chrono::milliseconds timeout = kRawStep);
  void ShutdownWrite();
  void Close();
  // The next response; nullopt when the connection ended or `timeout` passed first.
  std::optional<RawResponse> Read(std::chrono::milliseconds timeout = kRawStep);
  // Reads until the peer closes (end of stream or reset): true when it did
  // within `timeout`. What arrives goes to *received, when given.
  bool WaitClosed(std::chrono::milliseconds timeout, std::string* received = nullptr);

 private:
  enum class Got { kData, kEnd, kTimeout };
  using Clock = std::chrono::steady_clock;

  bool Wait(short events, Clock::time_point deadline);
  // Appends what arrives to buffer_.
  Got Receive(Clock::time_point deadline);

  int fd_ = -1;
  int error_ = 0;
  std::string buffer_;
  size_t bytes_received_ = 0;
};

}  // namespace scorepipe::testing

#endif  // SCOREPIPE_TESTS_SUPPORT_RAW_HTTP_CLIENT_H_
