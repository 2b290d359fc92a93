// HttpMqStandIn: an in-process stand-in for the upstream's HTTP
// message_queue service (/work/shared/UPSTREAM.md), for the tests of
// queue.kind http-mq. It serves, on 127.0.0.1 and a free port (or one asked
// for), what the upstream does, checked against the service's own code:
//   GET /pull-n?queue-name=Q&count=N  404 for an unknown queue, 400 when
//       count is not a positive integer; else waits up to `pull_wait` for a
//       first message, then takes up to N-1 more: 200 with a JSON array of
//       strings (each a message's JSON text), 204 when nothing came. Every
//       pull-n of every client goes through ONE connection, as the
//       service's shared blocking Redis connection: a pull waiting on an
//       empty queue holds up every other pull-n until it is answered.
//   POST /push-n {"queue_name":Q,"messages":[...]}  in the service's order:
//       400 {"error":"Invalid request body","message":[issues]} for a
//       missing queue_name or an empty or missing messages array; 404
//       {"error":"Queue does not exist","message":"Queue Q does not exist"};
//       then every message is validated, and the first that fails is 400
//       {"error":"Invalid message format for message at index i","message":
//       ...} (the index is only in that text): "Message must be an object."
//       for a non-object, else the schema's issues (zod's shape), a message
//       with an `is_fraudulent` key checked as a result, any other as a
//       transaction (UPSTREAM.md's rules); then 409 when the queue would
//       pass its cap; else 201, order kept (the first pushed is pulled first).
//   POST /create {"name":N}  a new queue, N 4-20 characters: 201; 400 for a
//       bad name, 409 when it exists.
// Timestamps are checked with scorepipe's ParseIso8601, narrower than the
// service's Date.parse (RFC 2822 dates, for one, pass there and fail here).
// A message is kept as its JSON text as it came (the upstream re-serialises
// it without unknown keys; scorepipe depends on neither). Queues live in
// memory, FIFO, and only those named at the start, or created, exist. Tests
// seed and drain queues directly, set caps, and read counters (requests by
// answer, pulls waiting right now).
//
// Owned by one test; its own threads (cpp-httplib's) serve requests; every
// method may be called from any thread. The destructor stops the server,
// answering waiting pulls with 204 first.
#ifndef SCOREPIPE_TESTS_SUPPORT_HTTP_MQ_STAND_IN_H_
#define SCOREPIPE_TESTS_SUPPORT_HTTP_MQ_STAND_IN_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "proto/status.h"

namespace httplib {
class Server;
}  // namespace httplib

namespace scorepipe::testing {

struct HttpMqStandInOptions {
  // The queues the service knows after its start (FLUSHDB): no dead-letter
  // queue; others are made with POST /create.
  std::vector<std::string> queues = {"transactions_queue", "results_queue"};
  // Validate messages as the service does. Off only for tests of the queue
  // adapter that carry synthetic messages ({"m":"a"}); the service itself
  // always validates.
  bool validate_messages = true;
  // How long a pull-n waits on an empty queue (the upstream: 30 s).
  std::chrono::milliseconds pull_wait{30000};
  int port = 0;  // 0: a free one
};

// Requests served so far, by what they were answered.
struct HttpMqCounters {
  int64_t pulls = 0;           // GET /pull-n, any answer
  int64_t pulls_empty = 0;     // ... answered 204
  int64_t pushes = 0;          // POST /push-n, any answer
  int64_t pushes_full = 0;     // ... answered 409
  int64_t pushes_refused = 0;  // ... answered 400
  int64_t not_found = 0;       // any request answered 404
  int64_t pulls_held_up = 0;   // pull-n that waited for the shared connection
  int64_t requests() const { return pulls + pushes; }
};

class HttpMqStandIn {
 public:
  static Result<std::unique_ptr<HttpMqStandIn>> Start(HttpMqStandInOptions options);
  ~HttpMqStandIn();
  HttpMqStandIn(const HttpMqStandIn&) = delete;
  HttpMqStandIn& operator=(const HttpMqStandIn&) = delete;

  // "http://127.0.0.1:<port>"
  std::string url() const;
  int port() const { return port_; }

  // Appends to `queue` as other producers would, unchecked and past any cap;
  // wakes waiting pulls. False for an unknown queue.
  bool Seed(const std::string& queue, const std::vector<std::string>& messages);
  // Removes and returns up to `max` of `queue`'s messages, oldest first.
  std::vector<std::string> Drain(const std::string& queue, size_t max = std::numeric_limits<size_t>::max());
  // What `queue` holds, oldest first, left in place.
  std::vector<std::string> Peek(const std::string& queue) const;
  size_t Size(const std::string& queue) const;
  // The most messages `queue` may hold for push-n (0: no cap).
  void SetCap(const std::string& queue, size_t cap);

  HttpMqCounters counters() const;
  // Pulls waiting on an empty queue right now (holding the connection).
  int waiting_pulls() const;
  // Pulls waiting for the one connection that another pull holds, right now.
  int queued_pulls() const;

  // Stops serving (waiting pulls are answered 204); the destructor calls it.
  void Stop();

 private:
  struct Queue {
    std::deque<std::string> messages;
    size_t cap = 0;
  };

  explicit HttpMqStandIn(HttpMqStandInOptions options);
  void Route();

  const HttpMqStandInOptions options_;
  std::unique_ptr<httplib::Server> server_;
  std::thread listener_;
  int port_ = 0;

  mutable std::mutex mutex_;
  std::condition_variable arrived_;
  std::map<std::string, Queue> queues_;
  HttpMqCounters counters_;
  int waiting_pulls_ = 0;
  int queued_pulls_ = 0;
  bool connection_busy_ = false;  // a pull-n holds the one connection
  bool stopping_ = false;
};

}  // namespace scorepipe::testing

#endif  // SCOREPIPE_TESTS_SUPPORT_HTTP_MQ_STAND_IN_H_
