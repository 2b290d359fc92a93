#include "gateway/http_server.h"

#include <spdlog/spdlog.h>

#include <array>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>

#include "proto/json_writer.h"

namespace scorepipe {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

// The first read of a request waits for this much at most per call.
constexpr size_t kReadChunk = 16 << 10;
// After a refusal, this much of what the client still sends is read and dropped.
constexpr size_t kLingerBytes = 64 << 20;

using Clock = std::chrono::steady_clock;

// A connection as the server's sweep sees it: each waits against a deadline
// (the sweep closes it past that), set when it starts a read or a write;
// none while its request is with the handler. A timer per operation would
// cost a timer-queue change (and often a system call) per request.
class SessionBase {
 public:
  virtual ~SessionBase() = default;
  virtual void Close() = 0;
  Clock::time_point deadline = Clock::time_point::max();
};

}  // namespace

struct HttpServer::Impl : std::enable_shared_from_this<HttpServer::Impl> {
  Impl(net::io_context& io_context, HttpServerOptions opts, HttpHandler on_request,
       std::shared_ptr<ConnectionBudget> connections)
      : io(io_context),
        options(std::move(opts)),
        handler(std::move(on_request)),
        budget(std::move(connections)),
        acceptor(io_context),
        retry_accept(io_context) {}

  void Accept();
  // Closes the connections past their deadline, every sweep_period.
  void Sweep();

  net::io_context& io;
  const HttpServerOptions options;
  HttpHandler handler;
  std::shared_ptr<ConnectionBudget> budget;
  tcp::acceptor acceptor;
  net::steady_timer retry_accept;
  net::steady_timer sweep_timer{io};
  std::optional<ssl::context> tls;
  HttpServerStats stats;
  std::unordered_set<SessionBase*> sessions;
  bool stopped = false;
};

namespace {

template <typename Stream>
class Session final : public SessionBase, public std::enable_shared_from_this<Session<Stream>> {
 public:
  template <typename... StreamArgs>
  Session(std::shared_ptr<HttpServer::Impl> server, StreamArgs&&... stream_args)
      : server_(std::move(server)), stream_(std::forward<StreamArgs>(stream_args)...) {
    server_->sessions.insert(this);
  }
  ~Session() override {
    server_->sessions.erase(this);
    server_->budget->Give();
  }

  void Run() {
    if constexpr (kTls) {
      Within(server_->options.read_timeout);
      stream_.async_handshake(ssl::stream_base::server,
                              [self = this->shared_from_this()](beast::error_code ec) {
                                if (ec) {
                                  ++self->server_->stats.tls_failures;
                                  spdlog::debug("gateway: TLS handshake failed: {}", ec.message());
                                  self->Close();
                                  return;
                                }
                                self->WaitForRequest();
                              });
    } else {
      WaitForRequest();
    }
  }

  void Close() override {
    if (closed_) return;
    closed_ = true;
    beast::error_code ignored;
    Lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
    Lowest().close();
  }

 private:
  static constexpr bool kTls = std::is_same_v<Stream, beast::ssl_stream<beast::tcp_stream>>;

  beast::tcp_stream& Lowest() { return beast::get_lowest_layer(stream_); }

  // Waits up to idle_timeout for the first bytes of the next request.
  void WaitForRequest() {
    if (closed_) return;
    if (buffer_.size() > 0) {
      ReadRequest();
      return;
    }
    Within(server_->options.idle_timeout);
    stream_.async_read_some(buffer_.prepare(kReadChunk),
                            [self = this->shared_from_this()](beast::error_code ec, size_t n) {
                              if (ec) {
                                self->Close();
                                return;
                              }
                              self->buffer_.commit(n);
                              self->ReadRequest();
                            });
  }

  // The whole request must arrive within read_timeout. What the last read
  // brought is parsed here at once (a small request is whole after one
  // read: no further operation); only what is still missing is read
  // asynchronously, the headers first, whose size is checked here (the
  // parser's own limit counts only what it has not parsed yet, so it lets
  // up to about twice its limit through across reads), then the body.
  void ReadRequest() {
    parser_.emplace();
    parser_->header_limit(static_cast<uint32_t>(server_->options.max_header_bytes));
    parser_->body_limit(server_->options.max_body_bytes);
    header_bytes_ = 0;
    Within(server_->options.read_timeout);
    beast::error_code ec;
    if (ParseBuffered(ec)) {
      OnRead(ec);
      return;
    }
    if (!parser_->is_header_done()) {
      http::async_read_header(
          stream_, buffer_, *parser_,
          [self = this->shared_from_this()](beast::error_code read_ec, size_t header_bytes) {
            self->header_bytes_ += header_bytes;
            if (!read_ec && self->header_bytes_ > self->server_->options.max_header_bytes) {
              read_ec = http::error::header_limit;
            }
            if (read_ec || self->parser_->is_done()) {
              self->OnRead(read_ec);
              return;
            }
            self->ReadBody();
          });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    http::async_read(stream_, buffer_, *parser_,
                     [self = this->shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
  }

  // Feeds the parser what buffer_ holds: true when that made the request
  // whole, or wrong (`ec`); false when more must be read.
  bool ParseBuffered(beast::error_code& ec) {
    while (buffer_.size() > 0 && !parser_->is_done()) {
      const bool had_header = parser_->is_header_done();
      const size_t used = parser_->put(buffer_.data(), ec);
      buffer_.consume(used);
      if (!had_header) {
        header_bytes_ += used;  // the parser may take the request line before the rest has come
        if (header_bytes_ > server_->options.max_header_bytes) {
          ec = http::error::header_limit;
          return true;
        }
      }
      if (ec == http::error::need_more) {
        ec = {};
        return false;
      }
      if (ec) return true;
      if (!had_header && parser_->is_header_done()) parser_->eager(true);
      if (used == 0) return false;
    }
    return parser_->is_done();
  }

  void Within(std::chrono::milliseconds timeout) { deadline = Clock::now() + timeout; }

  void OnRead(beast::error_code ec) {
    if (closed_) return;
    HttpServerStats& stats = server_->stats;
    if (ec == http::error::end_of_stream || ec == net::error::eof) {
      Close();
      return;
    }
    if (ec == http::error::header_limit) {
      ++stats.bad_requests;
      Refuse(431, "the request headers are over " + std::to_string(server_->options.max_header_bytes) +
                      " bytes (gateway.max_header_bytes)");
      return;
    }
    if (ec == http::error::body_limit) {
      ++stats.bad_requests;
      Refuse(413, "the request body is over " + std::to_string(server_->options.max_body_bytes) +
                      " bytes (gateway.max_body_bytes)");
      return;
    }
    if (ec) {
      if (ec.category() == http::make_error_code(http::error::bad_target).category()) {
        ++stats.bad_requests;
        Refuse(400, "the request is not HTTP/1.1: " + ec.message());
        return;
      }
      Close();
      return;
    }
    http::request<http::string_body> request = parser_->release();
    keep_alive_ = request.keep_alive();
    deadline = Clock::time_point::max();  // with the handler now, which answers in its own time
    ++stats.requests;
    if (stats.in_progress >= server_->options.max_concurrent_requests) {
      ++stats.overloaded;
      HttpAnswer busy;
      busy.status = 503;
      busy.body =
          R"({"error":"the gateway is at its limit of requests in progress (gateway.max_concurrent_requests); try again"})";
      busy.headers.emplace_back("Retry-After", "1");
      Write(std::move(busy));
      return;
    }
    ++stats.in_progress;
    HttpCall out;
    out.method = std::string(request.method_string());
    out.target = std::string(request.target());
    if (auto it = request.find(http::field::authorization); it != request.end()) {
      out.authorization = std::string(it->value());
    }
    if (auto it = request.find(http::field::content_type); it != request.end()) {
      out.content_type = std::string(it->value());
    }
    out.body = std::move(request.body());
    answered_ = false;
    server_->handler(std::move(out), [self = this->shared_from_this()](HttpAnswer response) {
      if (self->answered_) return;  // a second answer is a bug of the caller: ignored
      self->answered_ = true;
      --self->server_->stats.in_progress;
      self->Write(std::move(response));
    });
  }

  // After a last answer: stops sending, then reads and drops what the
  // client still sends (the rest of a refused body) for up to read_timeout
  // and kLingerBytes, so that it reads the answer instead of losing it to a
  // reset; then closes.
  void LingerThenClose() {
    if (closed_) return;
    beast::error_code ignored;
    Lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
    Within(server_->options.read_timeout);
    Drain();
  }

  void Drain() {
    buffer_.clear();
    stream_.async_read_some(buffer_.prepare(kReadChunk),
                            [self = this->shared_from_this()](beast::error_code ec, size_t n) {
                              self->lingered_ += n;
                              if (ec || self->lingered_ > kLingerBytes) {
                                self->Close();
                                return;
                              }
                              self->Drain();
                            });
  }

  // Answers `status` with the reason, then closes.
  void Refuse(int status, const std::string& why) {
    keep_alive_ = false;
    HttpAnswer response;
    response.status = status;
    JsonWriter(&response.body).BeginObject().Key("error").String(why).EndObject();
    Write(std::move(response));
  }

  // Writes the answer: its head, serialized here into a buffer the
  // connection keeps (no allocation once it has grown), then its body, in
  // one gathered write.
  void Write(HttpAnswer answer) {
    if (closed_) return;
    head_.clear();
    head_ += "HTTP/1.1 ";
    head_ += std::to_string(answer.status);
    head_ += ' ';
    const beast::string_view reason =
        http::obsolete_reason(http::int_to_status(static_cast<unsigned>(answer.status)));
    head_.append(reason.data(), reason.size());
    AppendField("Server", server_->options.server_name);
    AppendField("Content-Type", answer.content_type);
    for (const auto& [name, value] : answer.headers) AppendField(name, value);
    AppendField("Content-Length", std::to_string(answer.body.size()));
    if (!keep_alive_) AppendField("Connection", "close");
    head_ += "\r\n\r\n";
    body_ = std::move(answer.body);
    Within(server_->options.read_timeout);
    const std::array<net::const_buffer, 2> out{net::buffer(head_), net::buffer(body_)};
    net::async_write(stream_, out, [self = this->shared_from_this()](beast::error_code ec, size_t) {
      if (ec) {
        self->Close();
        return;
      }
      if (!self->keep_alive_) {
        self->LingerThenClose();
        return;
      }
      self->WaitForRequest();
    });
  }

  // "\r\nName: value" (the head's line breaks come before each field).
  // Names and values are the server's and the handler's own, never a
  // client's.
  void AppendField(std::string_view name, std::string_view value) {
    head_ += "\r\n";
    head_ += name;
    head_ += ": ";
    head_ += value;
  }

  std::shared_ptr<HttpServer::Impl> server_;
  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  size_t header_bytes_ = 0;  // of the request being read
  std::string head_;         // of the answer being written
  std::string body_;
  bool keep_alive_ = true;
  bool answered_ = true;
  bool closed_ = false;
  size_t lingered_ = 0;
};

}  // namespace

void HttpServer::Impl::Sweep() {
  const auto shortest = std::min(options.read_timeout, options.idle_timeout);
  const auto period = std::clamp<std::chrono::milliseconds>(shortest / 4, std::chrono::milliseconds(10),
                                                            std::chrono::milliseconds(250));
  sweep_timer.expires_after(period);
  sweep_timer.async_wait([self = shared_from_this()](beast::error_code ec) {
    if (ec || self->stopped) return;
    const auto now = Clock::now();
    std::vector<SessionBase*> late;
    for (SessionBase* session : self->sessions) {
      if (session->deadline <= now) late.push_back(session);
    }
    for (SessionBase* session : late) {
      ++self->stats.timeouts;
      session->deadline = Clock::time_point::max();
      session->Close();
    }
    self->Sweep();
  });
}

void HttpServer::Impl::Accept() {
  acceptor.async_accept([self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
    if (self->stopped) return;
    if (ec) {
      // Out of descriptors, say: try again shortly instead of spinning.
      spdlog::warn("gateway: accept failed: {}", ec.message());
      self->retry_accept.expires_after(std::chrono::milliseconds(50));
      self->retry_accept.async_wait([self](beast::error_code wait_ec) {
        if (!wait_ec && !self->stopped) self->Accept();
      });
      return;
    }
    if (!self->budget->TryTake()) {
      ++self->stats.connections_refused;
      beast::error_code ignored;
      socket.close(ignored);
      self->Accept();
      return;
    }
    ++self->stats.connections_accepted;
    beast::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    if (self->tls) {
      std::make_shared<Session<beast::ssl_stream<beast::tcp_stream>>>(self, std::move(socket), *self->tls)
          ->Run();
    } else {
      std::make_shared<Session<beast::tcp_stream>>(self, std::move(socket))->Run();
    }
    self->Accept();
  });
}

HttpServer::HttpServer(net::io_context& io, HttpServerOptions options, HttpHandler handler,
                       std::shared_ptr<ConnectionBudget> budget)
    : impl_(std::make_shared<Impl>(io, std::move(options), std::move(handler), std::move(budget))) {}

HttpServer::~HttpServer() { Stop(); }

Status HttpServer::Start() {
  const HttpServerOptions& o = impl_->options;
  if (o.tls_cert_file.empty() != o.tls_key_file.empty()) {
    return Status::Error(o.tls_cert_file.empty()
                             ? "TLS needs a certificate file beside the key " + o.tls_key_file
                             : "TLS needs a key file beside the certificate " + o.tls_cert_file);
  }
  if (!o.tls_cert_file.empty()) {
    impl_->tls.emplace(ssl::context::tls_server);
    ssl::context& tls = *impl_->tls;
    tls.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                    ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
    beast::error_code ec;
    tls.use_certificate_chain_file(o.tls_cert_file, ec);
    if (ec) return Status::Error("TLS certificate " + o.tls_cert_file + ": " + ec.message());
    tls.use_private_key_file(o.tls_key_file, ssl::context::pem, ec);
    if (ec) return Status::Error("TLS key " + o.tls_key_file + ": " + ec.message());
  }
  beast::error_code ec;
  const net::ip::address address = net::ip::make_address(o.address == "*" ? "0.0.0.0" : o.address, ec);
  if (ec) return Status::Error("gateway.address '" + o.address + "': " + ec.message());
  const tcp::endpoint endpoint(address, static_cast<uint16_t>(o.port));
  tcp::acceptor& acceptor = impl_->acceptor;
  const std::string where = o.address + ":" + std::to_string(o.port);
  acceptor.open(endpoint.protocol(), ec);
  if (ec) return Status::Error("cannot open a socket for " + where + ": " + ec.message());
  acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (o.reuse_port) {
    const int on = 1;
    ::setsockopt(acceptor.native_handle(), SOL_SOCKET, SO_REUSEPORT, &on, sizeof on);
  }
  acceptor.bind(endpoint, ec);
  if (ec) return Status::Error("cannot listen on " + where + ": " + ec.message());
  acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) return Status::Error("cannot listen on " + where + ": " + ec.message());
  impl_->Accept();
  impl_->Sweep();
  return Status::Ok();
}

void HttpServer::Stop() {
  if (impl_->stopped) return;
  impl_->stopped = true;
  beast::error_code ignored;
  impl_->acceptor.close(ignored);
  impl_->retry_accept.cancel();
  impl_->sweep_timer.cancel();
  // Close() does not erase: the sessions go when their handlers finish.
  for (SessionBase* session : std::vector<SessionBase*>(impl_->sessions.begin(), impl_->sessions.end())) {
    session->Close();
  }
}

int HttpServer::port() const {
  beast::error_code ec;
  const tcp::endpoint endpoint = impl_->acceptor.local_endpoint(ec);
  return ec ? 0 : endpoint.port();
}

const HttpServerStats& HttpServer::stats() const { return impl_->stats; }

}  // namespace scorepipe
