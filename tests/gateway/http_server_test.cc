// The gateway's HTTP server (gateway/http_server.h) on real sockets, spoken to
// with raw TCP clients, curl and (for its certificates) the openssl CLI:
// keep-alive and pipelining, bodies and headers at and past their limits,
// garbage, slow, idle and non-reading clients, the limits of requests in
// progress and of connections (and ConnectionBudget itself), TLS, Start's
// errors, Stop, and generated and mutated hostile requests.
#include "gateway/http_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "tests/support/raw_http_client.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait.h"

namespace scorepipe {
namespace {

namespace net = boost::asio;
using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;
using Client = testing::RawHttpClient;
using Response = testing::RawResponse;
using testing::TakeResponse;
using testing::TempDir;
using testing::WaitUntil;
using Clock = std::chrono::steady_clock;

constexpr milliseconds kStep = testing::kRawStep;
constexpr size_t kMaxHeaderBytes = 4096;
constexpr size_t kMaxBodyBytes = 64 << 10;
constexpr size_t kBigBody = 1 << 20;  // the handler's answer to GET /big

// `text` as a JSON string; bytes outside printable ASCII as \u00XX.
std::string JsonString(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (byte < 0x20 || byte >= 0x7f) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", byte);
      out += escaped;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

// What the test handler answers to an ordinary request.
std::string Echo(std::string_view method, std::string_view target, std::string_view body) {
  return R"({"method":)" + JsonString(method) + R"(,"target":)" + JsonString(target) + R"(,"body":)" +
         JsonString(body) + "}";
}

std::string Get(const std::string& target, const std::string& more_headers = "") {
  return "GET " + target + " HTTP/1.1\r\nHost: test\r\n" + more_headers + "\r\n";
}

std::string Post(const std::string& target, const std::string& body) {
  return "POST " + target + " HTTP/1.1\r\nHost: test\r\nContent-Type: application/octet-stream\r\n" +
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

constexpr std::string_view kRequestLine = "GET /headers HTTP/1.1\r\n";

// A GET whose header block, request line to the blank line included, is `size` bytes.
std::string GetWithHeaderBytes(size_t size) {
  std::string head = std::string(kRequestLine) + "Host: test\r\nX-Pad: ";
  const std::string end = "\r\n\r\n";
  head.append(size - head.size() - end.size(), 'p');
  return head + end;
}

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

CommandResult RunShell(const std::string& command) {
  CommandResult result;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return result;
  char chunk[4096];
  size_t n = 0;
  while ((n = std::fread(chunk, 1, sizeof chunk, pipe)) > 0) result.output.append(chunk, n);
  const int status = ::pclose(pipe);
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  return result;
}

// A self-signed certificate (c.pem) and its key (k.pem) in `dir`, made with the openssl CLI.
bool MakeCertificate(const std::filesystem::path& dir) {
  const CommandResult made =
      RunShell("openssl req -x509 -newkey rsa:2048 -nodes -keyout '" + (dir / "k.pem").string() + "' -out '" +
               (dir / "c.pem").string() + "' -days 1 -subj /CN=localhost");
  EXPECT_EQ(made.exit_code, 0) << made.output;
  return made.exit_code == 0;
}

// Start()'s status for a server with `options`, on an io_context that never runs.
Status StartOnly(HttpServerOptions options) {
  net::io_context io;
  HttpServer server(
      io, std::move(options), [](HttpCall&&, HttpReply) {}, std::make_shared<ConnectionBudget>(1));
  return server.Start();
}

HttpServerOptions SmallLimits() {
  HttpServerOptions options;
  options.address = "127.0.0.1";
  options.port = 0;
  options.max_header_bytes = kMaxHeaderBytes;
  options.max_body_bytes = kMaxBodyBytes;
  options.read_timeout = milliseconds(300);
  options.idle_timeout = milliseconds(300);
  options.server_name = "http-server-test";
  return options;
}

// One HttpServer on an io_context run by the fixture's own thread. Its handler
// echoes the request as JSON, answers GET /big with kBigBody bytes and holds
// the replies to /hold until AnswerHeld().
class HttpServerTest : public ::testing::Test {
 protected:
  void StartServer(HttpServerOptions options = SmallLimits(), size_t max_connections = 64) {
    budget_ = std::make_shared<ConnectionBudget>(max_connections);
    server_ = std::make_unique<HttpServer>(
        io_, std::move(options),
        [this](HttpCall&& call, HttpReply reply) { Handle(std::move(call), std::move(reply)); }, budget_);
    const Status started = server_->Start();
    ASSERT_TRUE(started.ok()) << started.message();
    port_ = server_->port();
    ASSERT_GT(port_, 0);
    thread_ = std::thread([this] { io_.run(); });
  }

  // Runs `f` on the io thread and returns what it returns.
  template <typename F>
  auto OnIo(F f) {
    auto task = std::make_shared<std::packaged_task<decltype(f())()>>(std::move(f));
    auto done = task->get_future();
    net::post(io_, [task] { (*task)(); });
    return done.get();
  }

  void TearDown() override {
    if (thread_.joinable()) {
      OnIo([this] {
        server_->Stop();
        held_.clear();
      });
      work_.reset();
      if (!WaitUntil([this] { return io_.stopped(); }, kStep)) io_.stop();
      thread_.join();
    }
    server_.reset();
  }

  void StopServer() {
    OnIo([this] { server_->Stop(); });
  }

  HttpServerStats Stats() {
    return OnIo([this] { return server_->stats(); });
  }

  // Answers every held request with 200 and `body`; returns how many there were.
  size_t AnswerHeld(const std::string& body) {
    return OnIo([this, body] {
      const size_t n = held_.size();
      for (HttpReply& reply : held_) {
        HttpAnswer answer;
        answer.body = body;
        reply(std::move(answer));
      }
      held_.clear();
      return n;
    });
  }

  std::vector<HttpCall> Calls() {
    std::lock_guard<std::mutex> lock(calls_mutex_);
    return calls_;
  }

  int port_ = 0;
  std::shared_ptr<ConnectionBudget> budget_;
  std::atomic<size_t> held_count_{0};
  std::atomic<size_t> big_served_{0};

 private:
  void Handle(HttpCall&& call, HttpReply reply) {
    {
      std::lock_guard<std::mutex> lock(calls_mutex_);
      calls_.push_back(call);
    }
    if (call.target == "/hold") {
      held_.push_back(std::move(reply));
      ++held_count_;
      return;
    }
    HttpAnswer answer;
    if (call.target == "/big") {
      answer.content_type = "text/plain";
      answer.body.assign(kBigBody, 'x');
      ++big_served_;
    } else {
      answer.body = Echo(call.method, call.target, call.body);
    }
    reply(std::move(answer));
  }

  net::io_context io_;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work_{io_.get_executor()};
  std::thread thread_;
  std::unique_ptr<HttpServer> server_;
  std::vector<HttpReply> held_;  // the io thread's
  std::mutex calls_mutex_;
  std::vector<HttpCall> calls_;
};

TEST_F(HttpServerTest, KeepAliveAnswersRequestsInOrderOnOneConnectionPipelinedToo) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  Client client(port_);
  ASSERT_TRUE(client.ok()) << std::strerror(client.error());
  for (int i = 0; i < 5; ++i) {
    const std::string target = "/one/" + std::to_string(i) + "?x=1";
    ASSERT_TRUE(client.Send(Get(target)));
    const std::optional<Response> response = client.Read();
    ASSERT_TRUE(response.has_value()) << "request " << i;
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->body, Echo("GET", target, ""));
    EXPECT_EQ(response->Header("content-type"), "application/json");
    EXPECT_EQ(response->Header("server"), "http-server-test");
  }
  // Three requests in one send: three answers, in order.
  ASSERT_TRUE(client.Send(Get("/pipelined/1") + Post("/pipelined/2", "two") + Get("/pipelined/3")));
  const std::optional<Response> first = client.Read();
  const std::optional<Response> second = client.Read();
  const std::optional<Response> third = client.Read();
  ASSERT_TRUE(first && second && third);
  EXPECT_EQ(first->body, Echo("GET", "/pipelined/1", ""));
  EXPECT_EQ(second->body, Echo("POST", "/pipelined/2", "two"));
  EXPECT_EQ(third->body, Echo("GET", "/pipelined/3", ""));
  const HttpServerStats stats = Stats();
  EXPECT_EQ(stats.connections_accepted, 1u);
  EXPECT_EQ(stats.requests, 8u);
  EXPECT_EQ(stats.in_progress, 0u);
}

TEST_F(HttpServerTest, BodiesArriveIntactUpToMaxBodyBytesAndOneByteOverIs413ThenClose) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  std::mt19937 random(20);
  auto bytes = [&random](size_t n) {
    std::string text(n, '\0');
    for (char& c : text) c = static_cast<char>(random() & 0xff);
    return text;
  };
  const std::string tricky("a\0b\r\n\r\nHTTP/1.1 200 OK\r\n\r\n\xff\xfe", 29);
  Client client(port_);
  ASSERT_TRUE(client.ok());
  for (const std::string& body : {tricky, bytes(1000), bytes(kMaxBodyBytes)}) {
    ASSERT_TRUE(client.Send(Post("/body", body)));
    const std::optional<Response> response = client.Read();
    ASSERT_TRUE(response.has_value()) << body.size() << " bytes";
    EXPECT_EQ(response->status, 200);
    EXPECT_TRUE(response->body == Echo("POST", "/body", body)) << body.size() << " bytes";
    const std::vector<HttpCall> calls = Calls();
    ASSERT_FALSE(calls.empty());
    EXPECT_EQ(calls.back().content_type, "application/octet-stream");
    EXPECT_EQ(calls.back().body.size(), body.size());
    EXPECT_TRUE(calls.back().body == body) << "the handler got other bytes than were sent";
  }
  // The server may close before the client has sent it all: a failed send is no failure.
  (void)client.Send(Post("/body", bytes(kMaxBodyBytes + 1)));
  const std::optional<Response> refused = client.Read();
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->status, 413);
  EXPECT_EQ(refused->Header("content-type"), "application/json");
  EXPECT_EQ(refused->Header("connection"), "close");
  EXPECT_THAT(refused->body, StartsWith(R"({"error":")"));
  EXPECT_THAT(refused->body, EndsWith(R"("})"));
  EXPECT_THAT(refused->body, HasSubstr(std::to_string(kMaxBodyBytes)));
  EXPECT_TRUE(client.WaitClosed(kStep));
  EXPECT_EQ(Calls().size(), 3u) << "the refused body reached the handler";
  EXPECT_EQ(Stats().bad_requests, 1u);
}

TEST_F(HttpServerTest, HeadersUpToMaxHeaderBytesAreServedAndOverIs431ThenClose) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  Client client(port_);
  ASSERT_TRUE(client.ok());
  for (const size_t size : {kMaxHeaderBytes - 1, kMaxHeaderBytes}) {
    ASSERT_TRUE(client.Send(GetWithHeaderBytes(size)));
    const std::optional<Response> response = client.Read();
    ASSERT_TRUE(response.has_value()) << size;
    EXPECT_EQ(response->status, 200) << size;
  }
  // The header fields alone one byte over (Boost 1.74's parser does not count the request
  // line: see HeadersOverMaxHeaderBytesAre431HoweverTheyArrive), far over (arriving in
  // several reads), and a request line over.
  const std::vector<std::string> over_limit = {
      GetWithHeaderBytes(kRequestLine.size() + kMaxHeaderBytes + 1),
      GetWithHeaderBytes(5 * kMaxHeaderBytes),
      Get("/" + std::string(kMaxHeaderBytes, 't')),
  };
  for (size_t i = 0; i < over_limit.size(); ++i) {
    Client over(port_);
    ASSERT_TRUE(over.ok());
    (void)over.Send(over_limit[i]);  // the server may close before it has all
    const std::optional<Response> refused = over.Read();
    ASSERT_TRUE(refused.has_value()) << "case " << i;
    EXPECT_EQ(refused->status, 431) << "case " << i;
    EXPECT_EQ(refused->Header("connection"), "close");
    EXPECT_THAT(refused->body, StartsWith(R"({"error":")"));
    EXPECT_THAT(refused->body, HasSubstr(std::to_string(kMaxHeaderBytes)));
    EXPECT_TRUE(over.WaitClosed(kStep)) << "case " << i;
  }
  EXPECT_EQ(Stats().bad_requests, over_limit.size());
  EXPECT_EQ(Calls().size(), 2u);
}

// max_header_bytes holds per request, however the headers arrive: Boost
// 1.74's parser never counts the request line against its header_limit, nor
// the fields it already took from an earlier read, so the server counts the
// header bytes itself. Two ways past the parser's own limit: the request line
// plus max_header_bytes of fields in one read, and max_header_bytes of fields
// in a first read (ending with a short field, which the parser keeps for the
// next read) and nearly as much again in the next.
TEST_F(HttpServerTest, HeadersOverMaxHeaderBytesAre431HoweverTheyArrive) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  const std::string field = std::string("X-Pad: ") + std::string(kMaxHeaderBytes - 200, 'p') + "\r\n";
  const std::string first_part = std::string(kRequestLine) + "Host: test\r\n" + field + "X-Short: s\r\n";
  const std::string second_part = field + "\r\n";
  // In one read: one byte over, request line included.
  Client one_read(port_);
  ASSERT_TRUE(one_read.ok());
  (void)one_read.Send(GetWithHeaderBytes(kMaxHeaderBytes + 1));
  std::optional<Response> response = one_read.Read();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 431) << kMaxHeaderBytes + 1 << " bytes in one read";
  // In two reads 50 ms apart, each part under the limit and the whole near twice it.
  Client two_reads(port_);
  ASSERT_TRUE(two_reads.ok());
  ASSERT_TRUE(two_reads.Send(first_part));
  ASSERT_FALSE(two_reads.WaitClosed(milliseconds(50)));
  (void)two_reads.Send(second_part);
  response = two_reads.Read();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 431) << first_part.size() + second_part.size() << " bytes in two reads";
}

TEST_F(HttpServerTest, WhatIsNotHttpGets400ThenClose) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  const std::vector<std::string> garbage = {
      std::string("\x16\x03\x01\x02\x00 a TLS hello to a plain port\r\n\r\n", 39),
      "HELLO\r\n\r\n",
      "GET /x HTTP/1.1\r\nthis line is no header\r\n\r\n",
      "GET /x HTTP/1.1\r\nHost: test\r\nContent-Length: many\r\n\r\n",
      "POST /x HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\nnot a chunk size\r\n\r\n",
      "GET /x HTTP/1.1\r\nHost: test\r\nContent-Length: 5\r\n",  // then the client stops sending
  };
  for (size_t i = 0; i < garbage.size(); ++i) {
    Client client(port_);
    ASSERT_TRUE(client.ok());
    ASSERT_TRUE(client.Send(garbage[i]));
    if (i + 1 == garbage.size()) client.ShutdownWrite();
    const std::optional<Response> response = client.Read();
    ASSERT_TRUE(response.has_value()) << "input " << i;
    EXPECT_EQ(response->status, 400) << "input " << i;
    EXPECT_THAT(response->body, StartsWith(R"({"error":")")) << "input " << i;
    EXPECT_TRUE(client.WaitClosed(kStep)) << "input " << i;
  }
  EXPECT_EQ(Stats().bad_requests, garbage.size());
  EXPECT_TRUE(Calls().empty());
  Client normal(port_);
  ASSERT_TRUE(normal.Send(Get("/after")));
  const std::optional<Response> response = normal.Read();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 200);
}

TEST_F(HttpServerTest, ASlowlorisIsClosedAfterReadTimeoutWhileAnotherClientIsServed) {
  const milliseconds read_timeout = SmallLimits().read_timeout;
  ASSERT_NO_FATAL_FAILURE(StartServer());
  const std::string request = Get("/slow", "X-Slow: " + std::string(200, 's') + "\r\n");
  Client slow(port_);
  ASSERT_TRUE(slow.ok());
  const auto start = Clock::now();
  std::optional<Clock::duration> closed_after;
  bool other_served = false;
  for (size_t i = 0; i < request.size() && Clock::now() - start < 4 * read_timeout; ++i) {
    if (!slow.Send(request.substr(i, 1)) || slow.WaitClosed(milliseconds(50))) {  // one byte per 50 ms
      closed_after = Clock::now() - start;
      break;
    }
    if (i == 2) {
      Client other(port_);
      ASSERT_TRUE(other.Send(Get("/other")));
      const std::optional<Response> response = other.Read();
      other_served = response && response->status == 200;
    }
  }
  EXPECT_TRUE(other_served);
  ASSERT_TRUE(closed_after.has_value()) << "the slow client was still connected after 4 x read_timeout";
  EXPECT_GE(*closed_after, read_timeout - milliseconds(10));
  EXPECT_LE(*closed_after, 3 * read_timeout);
  EXPECT_EQ(slow.bytes_received(), 0u);
  EXPECT_EQ(Stats().timeouts, 1u);
}

TEST_F(HttpServerTest, AnIdleKeepAliveConnectionIsClosedAfterIdleTimeoutAndABusyOneIsNot) {
  const milliseconds idle_timeout = SmallLimits().idle_timeout;
  ASSERT_NO_FATAL_FAILURE(StartServer());
  Client busy(port_);
  ASSERT_TRUE(busy.ok());
  // Requests every idle_timeout / 5 for longer than idle_timeout: the connection stays.
  const auto busy_start = Clock::now();
  while (Clock::now() - busy_start < idle_timeout + idle_timeout / 5) {
    ASSERT_TRUE(busy.Send(Get("/busy")));
    const std::optional<Response> response = busy.Read();
    ASSERT_TRUE(response.has_value());
    EXPECT_EQ(response->status, 200);
    ASSERT_FALSE(busy.WaitClosed(idle_timeout / 5)) << "a connection in use was closed";
  }
  // Now idle: closed after about idle_timeout.
  auto start = Clock::now();
  EXPECT_TRUE(busy.WaitClosed(3 * idle_timeout));
  EXPECT_GE(Clock::now() - start, idle_timeout / 2);
  // A connection that never sends a byte goes the same way.
  Client silent(port_);
  ASSERT_TRUE(silent.ok());
  start = Clock::now();
  EXPECT_TRUE(silent.WaitClosed(3 * idle_timeout));
  EXPECT_GE(Clock::now() - start, idle_timeout - milliseconds(10));
  EXPECT_EQ(silent.bytes_received(), 0u);
  EXPECT_EQ(Stats().timeouts, 2u);
}

TEST_F(HttpServerTest, AClientThatNeverReadsDoesNotBlockAnotherAndIsClosedWhenTheWriteTimesOut) {
  HttpServerOptions options = SmallLimits();
  options.read_timeout = milliseconds(1000);  // room to serve the other client while the write waits
  ASSERT_NO_FATAL_FAILURE(StartServer(options));
  constexpr size_t kRequests = 16;
  Client greedy(port_, 4096);
  ASSERT_TRUE(greedy.ok());
  std::string requests;
  for (size_t i = 0; i < kRequests; ++i) requests += Get("/big");
  ASSERT_TRUE(greedy.Send(requests));
  ASSERT_TRUE(WaitUntil([this] { return big_served_ >= 1; }, kStep));

  Client other(port_);
  ASSERT_TRUE(other.Send(Get("/other")));
  const std::optional<Response> response = other.Read();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(Stats().timeouts, 0u) << "the other client was served only after the greedy one was closed";
  other.Close();  // lest its idle timeout count

  ASSERT_TRUE(WaitUntil([this] { return Stats().timeouts == 1; }, seconds(10)));
  EXPECT_TRUE(greedy.WaitClosed(kStep));
  EXPECT_LT(greedy.bytes_received(), kRequests * kBigBody);
  EXPECT_LT(big_served_, kRequests);
  EXPECT_TRUE(WaitUntil([this] { return budget_->held() == 0; }, kStep)) << "the greedy one's place was kept";
}

TEST_F(HttpServerTest, RequestsPastMaxConcurrentRequestsGet503WithRetryAfterUntilTheHeldOnesAreAnswered) {
  HttpServerOptions options = SmallLimits();
  options.max_concurrent_requests = 2;
  options.idle_timeout = seconds(10);
  ASSERT_NO_FATAL_FAILURE(StartServer(options));
  Client first(port_);
  Client second(port_);
  ASSERT_TRUE(first.Send(Get("/hold")));
  ASSERT_TRUE(second.Send(Get("/hold")));
  ASSERT_TRUE(WaitUntil([this] { return held_count_ == 2; }, kStep));

  Client past(port_);
  for (int i = 0; i < 2; ++i) {  // kept alive after a 503
    ASSERT_TRUE(past.Send(Get("/past")));
    const std::optional<Response> busy = past.Read();
    ASSERT_TRUE(busy.has_value());
    EXPECT_EQ(busy->status, 503);
    EXPECT_EQ(busy->Header("retry-after"), "1");
    EXPECT_THAT(busy->body, StartsWith(R"({"error":")"));
  }
  for (const HttpCall& call : Calls()) EXPECT_NE(call.target, "/past") << "a 503 reached the handler";

  EXPECT_EQ(AnswerHeld("held"), 2u);
  for (Client* held : {&first, &second}) {
    const std::optional<Response> answer = held->Read();
    ASSERT_TRUE(answer.has_value());
    EXPECT_EQ(answer->status, 200);
    EXPECT_EQ(answer->body, "held");
  }
  ASSERT_TRUE(past.Send(Get("/after")));
  const std::optional<Response> after = past.Read();
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(after->status, 200);
  const HttpServerStats stats = Stats();
  EXPECT_EQ(stats.overloaded, 2u);
  EXPECT_EQ(stats.in_progress, 0u);
}

TEST_F(HttpServerTest, ConnectionsPastTheBudgetAreClosedAtOnceAndAFreedPlaceIsTakenAgain) {
  constexpr size_t kBudget = 3;
  HttpServerOptions options = SmallLimits();
  options.idle_timeout = seconds(10);  // only the budget closes connections here
  ASSERT_NO_FATAL_FAILURE(StartServer(options, kBudget));
  std::vector<std::unique_ptr<Client>> clients;
  for (size_t i = 0; i < kBudget; ++i) {
    clients.push_back(std::make_unique<Client>(port_));
    ASSERT_TRUE(clients.back()->Send(Get("/in")));
    const std::optional<Response> response = clients.back()->Read();
    ASSERT_TRUE(response.has_value());
    EXPECT_EQ(response->status, 200);
  }
  EXPECT_EQ(budget_->held(), kBudget);

  Client extra(port_);  // the kernel takes it; the server closes it
  ASSERT_TRUE(extra.ok());
  EXPECT_TRUE(extra.WaitClosed(kStep));
  EXPECT_EQ(extra.bytes_received(), 0u);
  EXPECT_EQ(Stats().connections_refused, 1u);

  clients.front().reset();
  ASSERT_TRUE(WaitUntil([this] { return budget_->held() == kBudget - 1; }, kStep));
  Client again(port_);
  ASSERT_TRUE(again.Send(Get("/again")));
  const std::optional<Response> response = again.Read();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 200);
  const HttpServerStats stats = Stats();
  EXPECT_EQ(stats.connections_accepted, kBudget + 1);
  EXPECT_EQ(stats.connections_refused, 1u);
  EXPECT_EQ(budget_->held(), kBudget);
}

TEST_F(HttpServerTest, StopClosesOpenConnectionsAndStopsAccepting) {
  HttpServerOptions options = SmallLimits();
  options.idle_timeout = seconds(10);  // only Stop closes connections here
  ASSERT_NO_FATAL_FAILURE(StartServer(options));
  Client kept(port_);
  ASSERT_TRUE(kept.Send(Get("/kept")));
  ASSERT_TRUE(kept.Read().has_value());
  Client holding(port_);
  ASSERT_TRUE(holding.Send(Get("/hold")));
  ASSERT_TRUE(WaitUntil([this] { return held_count_ == 1; }, kStep));
  Client silent(port_);
  ASSERT_TRUE(WaitUntil([this] { return Stats().connections_accepted == 3; }, kStep));

  StopServer();
  for (Client* client : {&kept, &holding, &silent}) EXPECT_TRUE(client->WaitClosed(kStep));
  Client late(port_);
  EXPECT_FALSE(late.ok());
  EXPECT_EQ(late.error(), ECONNREFUSED);
  // The held request's answer, after Stop, goes nowhere and harms nothing.
  EXPECT_EQ(AnswerHeld("too late"), 1u);
  EXPECT_EQ(holding.bytes_received(), 0u);
  EXPECT_EQ(Stats().in_progress, 0u);
  EXPECT_TRUE(WaitUntil([this] { return budget_->held() == 0; }, kStep));
}

// `text` changed at random: cut, bytes changed, inserted or removed, or a piece repeated.
std::string Mutate(std::string text, std::mt19937& random) {
  auto below = [&random](size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(random); };
  auto byte = [&random] { return static_cast<char>(random() & 0xff); };
  switch (below(5)) {
    case 0:
      text.resize(below(text.size()));
      break;
    case 1:
      for (size_t n = 1 + below(4); n > 0; --n) text[below(text.size())] = byte();
      break;
    case 2:
      for (size_t n = 1 + below(8); n > 0; --n) text.insert(text.begin() + below(text.size()), byte());
      break;
    case 3: {
      const size_t from = below(text.size());
      text.erase(from, 1 + below(text.size() - from));
      break;
    }
    default: {
      const size_t from = below(text.size());
      text.insert(below(text.size()), text.substr(from, 1 + below(text.size() - from)));
      break;
    }
  }
  return text;
}

TEST_F(HttpServerTest, GeneratedAndMutatedRequestsGetA2xxOr4xxOrACloseAndTheServerLivesOn) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  std::mt19937 random(2024);
  const std::string valid =
      "POST /v2/models/fraud/infer HTTP/1.1\r\nHost: gateway\r\nAuthorization: Bearer t0ken\r\n"
      "Content-Type: application/json\r\nContent-Length: 13\r\n\r\n{\"inputs\":[]}";
  std::vector<std::string> inputs;
  for (int i = 0; i < 200; ++i) {
    std::string text(1 + random() % 512, '\0');
    for (char& c : text) c = static_cast<char>(random() & 0xff);
    inputs.push_back(std::move(text));
  }
  for (int i = 0; i < 200; ++i) inputs.push_back(Mutate(valid, random));

  std::map<int, size_t> statuses;  // how many of each status
  size_t closed_unanswered = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    Client client(port_);
    ASSERT_TRUE(client.ok()) << "input " << i << ": " << std::strerror(client.error());
    (void)client.Send(inputs[i]);  // the server may have answered and closed already
    client.ShutdownWrite();
    std::string received;
    ASSERT_TRUE(client.WaitClosed(kStep, &received)) << "input " << i << " left its connection open";
    if (received.empty()) ++closed_unanswered;
    while (std::optional<Response> response = TakeResponse(received)) {
      ++statuses[response->status];
      EXPECT_TRUE((response->status >= 200 && response->status < 300) ||
                  (response->status >= 400 && response->status < 500))
          << "input " << i << " got " << response->status << ": " << JsonString(inputs[i]);
    }
    EXPECT_TRUE(received.empty()) << "input " << i << ": a cut response " << JsonString(received);
  }
  // The inputs reach both the handler and the parser's refusals (the seed fixes which).
  EXPECT_GT(statuses[200], 0u);
  EXPECT_GT(statuses[400], 0u);
  EXPECT_LT(closed_unanswered, inputs.size());

  Client normal(port_);
  ASSERT_TRUE(normal.Send(valid));
  const std::optional<Response> response = normal.Read();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, Echo("POST", "/v2/models/fraud/infer", R"({"inputs":[]})"));
  const std::vector<HttpCall> calls = Calls();
  ASSERT_FALSE(calls.empty());
  EXPECT_EQ(calls.back().authorization, "Bearer t0ken");
  EXPECT_EQ(calls.back().content_type, "application/json");
  EXPECT_EQ(Stats().in_progress, 0u);
}

TEST(HttpServerStartTest, ATakenPortOrABadAddressIsAnErrorNamingIt) {
  const int taken_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(taken_fd, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  ASSERT_EQ(::bind(taken_fd, reinterpret_cast<const sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(::listen(taken_fd, 1), 0);
  ASSERT_EQ(::getsockname(taken_fd, reinterpret_cast<sockaddr*>(&address), &length), 0);
  const int taken = ntohs(address.sin_port);

  HttpServerOptions options = SmallLimits();
  options.port = taken;
  const Status status = StartOnly(options);
  ::close(taken_fd);
  ASSERT_FALSE(status.ok());
  EXPECT_THAT(status.message(), HasSubstr("127.0.0.1:" + std::to_string(taken)));

  options = SmallLimits();
  options.address = "not-an-address";
  const Status bad = StartOnly(options);
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.message(), HasSubstr("not-an-address"));
}

TEST(ConnectionBudgetTest, TakesUpToItsLimitAndGivesBack) {
  ConnectionBudget budget(3);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(budget.TryTake()) << i;
  EXPECT_FALSE(budget.TryTake());
  EXPECT_EQ(budget.held(), 3u);
  budget.Give();
  EXPECT_EQ(budget.held(), 2u);
  EXPECT_TRUE(budget.TryTake());
  EXPECT_FALSE(budget.TryTake());
  ConnectionBudget none(0);
  EXPECT_FALSE(none.TryTake());
  EXPECT_EQ(none.held(), 0u);
}

// Threads take and give at random (each gives only what it took): never more
// holders than the limit, held() within [0, limit], and all back at the end.
TEST(ConnectionBudgetTest, GeneratedTakesAndGivesFromSeveralThreadsStayWithinTheLimit) {
  constexpr size_t kLimit = 5;
  constexpr int kThreads = 4;
  ConnectionBudget budget(kLimit);
  std::atomic<size_t> holders{0};
  std::atomic<bool> over{false};
  std::atomic<size_t> refused{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 random(static_cast<unsigned>(100 + t));
      size_t mine = 0;
      for (int step = 0; step < 20000; ++step) {
        if (random() % 2 == 0) {
          if (budget.TryTake()) {
            ++mine;
            if (++holders > kLimit) over = true;
          } else {
            ++refused;
          }
        } else if (mine > 0) {
          --mine;
          --holders;
          budget.Give();
        }
        if (budget.held() > kLimit) over = true;  // an underflow shows as a huge number too
      }
      for (; mine > 0; --mine) {
        --holders;
        budget.Give();
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_FALSE(over);
  EXPECT_GT(refused, 0u) << "the limit was never reached: the test proves little";
  EXPECT_EQ(budget.held(), 0u);
}

class HttpServerTlsTest : public HttpServerTest {};

TEST_F(HttpServerTlsTest, ServesHttpsAndPlainHttpOnTheTlsPortFailsCleanly) {
  TempDir dir("http-server-tls");
  ASSERT_TRUE(dir.ok());
  ASSERT_TRUE(MakeCertificate(dir.path()));
  HttpServerOptions options = SmallLimits();
  options.tls_cert_file = (dir.path() / "c.pem").string();
  options.tls_key_file = (dir.path() / "k.pem").string();
  ASSERT_NO_FATAL_FAILURE(StartServer(options));
  const std::string where = "127.0.0.1:" + std::to_string(port_);
  const std::string curl = "curl -sS --max-time 10 ";

  CommandResult https = RunShell(curl + "-k -w '\\n%{http_code}' https://" + where + "/x");
  EXPECT_EQ(https.exit_code, 0) << https.output;
  EXPECT_EQ(https.output, Echo("GET", "/x", "") + "\n200");

  const CommandResult plain = RunShell(curl + "http://" + where + "/x");
  EXPECT_NE(plain.exit_code, 0) << plain.output;
  EXPECT_THAT(plain.output, Not(HasSubstr("\"target\"")));
  ASSERT_TRUE(WaitUntil([this] { return Stats().tls_failures >= 1; }, kStep));
  EXPECT_EQ(Stats().tls_failures, 1u);

  https = RunShell(curl + "-k --data-binary 'after' -w '\\n%{http_code}' https://" + where + "/y");
  EXPECT_EQ(https.exit_code, 0) << https.output;
  EXPECT_EQ(https.output, Echo("POST", "/y", "after") + "\n200");

  // A client that never starts its handshake holds the connection for read_timeout only.
  Client silent(port_);
  ASSERT_TRUE(silent.ok());
  EXPECT_TRUE(silent.WaitClosed(3 * options.read_timeout));
  // Counted as the connection ends, which the client may see first.
  EXPECT_TRUE(WaitUntil([this] { return Stats().tls_failures == 2; }, kStep)) << Stats().tls_failures;
}

TEST_F(HttpServerTlsTest, StartNamesAMissingOrUnusableCertificateOrKeyFile) {
  TempDir dir("http-server-tls");
  ASSERT_TRUE(dir.ok());
  ASSERT_TRUE(MakeCertificate(dir.path()));
  const std::string cert = (dir.path() / "c.pem").string();
  const std::string key = (dir.path() / "k.pem").string();
  const std::string missing = (dir.path() / "missing.pem").string();
  struct Case {
    std::string cert, key, named;
  };
  for (const Case& c : {Case{missing, key, missing}, Case{cert, missing, missing}, Case{key, key, key},
                        Case{cert, cert, cert}}) {
    HttpServerOptions options = SmallLimits();
    options.tls_cert_file = c.cert;
    options.tls_key_file = c.key;
    const Status status = StartOnly(options);
    ASSERT_FALSE(status.ok()) << c.cert << " and " << c.key;
    EXPECT_THAT(status.message(), HasSubstr(c.named));
  }
}

TEST_F(HttpServerTlsTest, OnlyOneOfTheTwoTlsFilesIsAnError) {
  TempDir dir("http-server-tls");
  ASSERT_TRUE(dir.ok());
  ASSERT_TRUE(MakeCertificate(dir.path()));
  HttpServerOptions cert_only = SmallLimits();
  cert_only.tls_cert_file = (dir.path() / "c.pem").string();
  HttpServerOptions key_only = SmallLimits();
  key_only.tls_key_file = (dir.path() / "k.pem").string();
  for (const HttpServerOptions& options : {cert_only, key_only}) {
    const Status status = StartOnly(options);
    ASSERT_FALSE(status.ok()) << options.tls_cert_file << options.tls_key_file;
    EXPECT_THAT(status.message(), HasSubstr("certificate"));
    EXPECT_THAT(status.message(), HasSubstr("key"));
  }
}

}  // namespace
}  // namespace scorepipe
