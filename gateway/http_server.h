// The gateway's HTTP/1.1 server, on Boost.Beast and Asio: keep-alive, any
// number of connections on one event-loop thread (no thread per
// connection), optional TLS (Debian's OpenSSL), and the limits a public
// port needs (docs/gateway.md, "Limits"):
// - headers over max_header_bytes get 431 and a body over max_body_bytes 413,
//   then the connection closes;
// - a request's headers and body must arrive within read_timeout once it
//   started, and a keep-alive connection idle for idle_timeout is closed, so
//   a slow client (a slowloris) holds only its own connection for a bounded
//   time; a response the client does not read within read_timeout closes the
//   connection;
// - connections past max_connections are closed at accept;
// - requests in progress past max_concurrent_requests get 503 with
//   Retry-After without reaching the handler.
// A request that does not parse gets 400 and the connection closes.
//
// The handler sees neither Beast nor Asio: it gets an HttpCall and a
// Reply to call exactly once, at once or later, on the server's thread.
//
// An HttpServer lives on one io_context, run by one thread; Start and Stop
// are called on that thread (or before it runs). Several servers (one per
// event-loop thread) may share a port with `reuse_port`, and a
// ConnectionBudget, which is thread-safe.
#ifndef SCOREPIPE_GATEWAY_HTTP_SERVER_H_
#define SCOREPIPE_GATEWAY_HTTP_SERVER_H_

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "proto/status.h"

namespace boost::asio {
class io_context;
}

namespace scorepipe {

struct HttpCall {
  std::string method;  // "GET", "POST", ...
  std::string target;  // "/v2/models/fraud/infer?x=1"
  std::string authorization;
  std::string content_type;
  std::string body;
};

struct HttpAnswer {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;  // extra ones ("Retry-After")
};

// Answers one request; call exactly once.
using HttpReply = std::function<void(HttpAnswer)>;
using HttpHandler = std::function<void(HttpCall&&, HttpReply)>;

struct HttpServerOptions {
  std::string address = "0.0.0.0";
  int port = 8080;  // 0: any free port (port() says which)
  bool reuse_port = false;
  size_t max_header_bytes = 16 << 10;
  size_t max_body_bytes = 8 << 20;
  std::chrono::milliseconds read_timeout{10000};
  std::chrono::milliseconds idle_timeout{60000};
  size_t max_concurrent_requests = 8192;  // per server
  // TLS: both set, or neither (plain HTTP).
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string server_name = "scorepipe-gateway";
};

// How many connections all servers of a process hold, against one limit.
class ConnectionBudget {
 public:
  explicit ConnectionBudget(size_t limit) : limit_(limit) {}
  bool TryTake() {
    size_t now = held_.load(std::memory_order_relaxed);
    while (now < limit_) {
      if (held_.compare_exchange_weak(now, now + 1, std::memory_order_relaxed)) return true;
    }
    return false;
  }
  void Give() { held_.fetch_sub(1, std::memory_order_relaxed); }
  size_t held() const { return held_.load(std::memory_order_relaxed); }

 private:
  const size_t limit_;
  std::atomic<size_t> held_{0};
};

struct HttpServerStats {
  uint64_t connections_accepted = 0;
  uint64_t connections_refused = 0;  // over max_connections
  uint64_t requests = 0;
  uint64_t overloaded = 0;    // 503: over max_concurrent_requests
  uint64_t bad_requests = 0;  // 400, 413, 431
  uint64_t timeouts = 0;      // connections closed for a slow or idle client
  uint64_t tls_failures = 0;
  size_t in_progress = 0;
};

class HttpServer {
 public:
  HttpServer(boost::asio::io_context& io, HttpServerOptions options, HttpHandler handler,
             std::shared_ptr<ConnectionBudget> budget);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Loads the TLS files (when set), binds and starts accepting. An error
  // names the address or the file and the reason.
  Status Start();
  // Stops accepting and closes every connection.
  void Stop();
  int port() const;
  const HttpServerStats& stats() const;

  struct Impl;  // http_server.cc's own: the acceptor and the connections

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace scorepipe

#endif  // SCOREPIPE_GATEWAY_HTTP_SERVER_H_
