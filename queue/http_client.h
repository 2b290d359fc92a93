// HttpClient: a minimal HTTP/1.1 client on libcurl's easy interface, for the
// http-mq queue (queue/http_mq_queue.h): GET and POST of JSON against one
// base URL, each with its own total time limit, answering the status code
// and body. Transport failures (refused, timed out, reset) are Status errors
// naming the method and the full URL; any HTTP status is an answer, not an
// error: the caller decides what 409 or 404 means.
//
// The connection is kept alive between requests. A request is never
// cancelled except by its own time limit, so a caller that must not lose an
// answer (a pull-n that removes messages) gives it a limit above the
// server's own wait.
//
// Owns one curl easy handle: one thread uses one instance (a second thread
// needs its own HttpClient). Not copyable.
#ifndef SCOREPIPE_QUEUE_HTTP_CLIENT_H_
#define SCOREPIPE_QUEUE_HTTP_CLIENT_H_

#include <string>
#include <string_view>

#include "proto/status.h"

namespace scorepipe {

struct HttpResponse {
  long status = 0;  // 200, 204, 404, ...
  std::string body;
};

class HttpClient {
 public:
  // `base_url` ("http://host:port" with an optional path prefix; a trailing
  // '/' is dropped) is put in front of every path. `connect_timeout_ms`
  // bounds the connection set-up of each request.
  HttpClient(std::string base_url, int connect_timeout_ms);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // `path_and_query` starts with '/'; values in the query must be escaped
  // (EscapeQueryValue). The whole exchange takes at most `timeout_ms`.
  Result<HttpResponse> Get(std::string_view path_and_query, int timeout_ms);
  // POSTs `json` with Content-Type application/json.
  Result<HttpResponse> PostJson(std::string_view path, std::string_view json, int timeout_ms);

  const std::string& base_url() const { return base_url_; }

  // Percent-encodes everything but unreserved characters (RFC 3986).
  static std::string EscapeQueryValue(std::string_view value);

 private:
  Result<HttpResponse> Perform(const char* method, const std::string& url, int timeout_ms);

  std::string base_url_;
  int connect_timeout_ms_;
  void* curl_;     // CURL*, kept out of this header
  void* headers_;  // curl_slist* for POSTs
};

}  // namespace scorepipe

#endif  // SCOREPIPE_QUEUE_HTTP_CLIENT_H_
