// HttpMqStandIn: an in-process stand-in for the upstream's HTTP
// message_queue service (/work/shared/UPSTREAM.md), for the tests of
// queue.kind http-mq. It serves, on 127.0.0.1 and a free port (or one asked
// for), what the upstream documents:
//   GET /pull-n?queue-name=Q&count=N  waits up to `pull_wait` for a first
//       message, then takes up to N-1 more: 200 with a JSON array of strings
//       (each a message's JSON text), 204 when nothing came, 400 when count
//       is not a positive integer, 404 for an unknown queue.
//   POST /push-n {"queue_name":Q,"messages":[...]}  every message must be a
//       JSON object (400 {"error","index"} names the first that is not), 409
//       when the queue would pass its cap, 404 for an unknown queue, else 201;
//       order is kept (the first pushed is the first pulled).
// A message is kept as its JSON text as it came (the upstream re-serialises
// it; scorepipe depends on neither). Queues live in memory, FIFO, and only
// those named at the start exist. Tests seed and drain queues directly, set
// caps, and read counters (requests by answer, pulls waiting right now).
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
  std::vector<std::string> queues = {"transactions_queue", "results_queue", "transactions_dead",
                                     "results_shadow"};
  // How long a pull-n waits on an empty queue (the upstream: 30 s).
  std::chrono::milliseconds pull_wait{30000};
  int port = 0;  // 0: a free one
};

// Requests served so far, by what they were answered.
struct HttpMqCounters {
  int64_t pulls = 0;          // GET /pull-n, any answer
  int64_t pulls_empty = 0;    // ... answered 204
  int64_t pushes = 0;         // POST /push-n, any answer
  int64_t pushes_full = 0;    // ... answered 409
  int64_t pushes_refused = 0; // ... answered 400
  int64_t not_found = 0;      // any request answered 404
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
  std::vector<std::string> Drain(const std::string& queue,
                                 size_t max = std::numeric_limits<size_t>::max());
  // What `queue` holds, oldest first, left in place.
  std::vector<std::string> Peek(const std::string& queue) const;
  size_t Size(const std::string& queue) const;
  // The most messages `queue` may hold for push-n (0: no cap).
  void SetCap(const std::string& queue, size_t cap);

  HttpMqCounters counters() const;
  // Pulls waiting on an empty queue right now.
  int waiting_pulls() const;

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
  bool stopping_ = false;
};

}  // namespace scorepipe::testing

#endif  // SCOREPIPE_TESTS_SUPPORT_HTTP_MQ_STAND_IN_H_
