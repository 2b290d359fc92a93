#include "tests/support/http_mq_stand_in.h"

#include <httplib.h>
#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <string_view>
#include <utility>

#include "proto/upstream_json.h"

namespace scorepipe::testing {
namespace {

// Long polls hold a thread each; keep-alive connections too.
constexpr size_t kServerThreads = 64;
constexpr auto kStartTimeout = std::chrono::seconds(10);

std::string ErrorBody(const std::string& what) {
  std::string body = "{\"error\":";
  AppendJsonString(what, &body);
  return body + "}";
}

// count: a positive decimal integer.
bool ParseCount(const std::string& text, size_t* count) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *count);
  return !text.empty() && ec == std::errc() && end == text.data() + text.size() && *count > 0;
}

}  // namespace

HttpMqStandIn::HttpMqStandIn(HttpMqStandInOptions options)
    : options_(std::move(options)), server_(std::make_unique<httplib::Server>()) {
  for (const std::string& name : options_.queues) queues_[name];
}

Result<std::unique_ptr<HttpMqStandIn>> HttpMqStandIn::Start(HttpMqStandInOptions options) {
  std::unique_ptr<HttpMqStandIn> stand_in(new HttpMqStandIn(std::move(options)));
  stand_in->Route();
  httplib::Server& server = *stand_in->server_;
  server.new_task_queue = [] { return new httplib::ThreadPool(kServerThreads); };
  const int asked = stand_in->options_.port;
  if (asked == 0) {
    stand_in->port_ = server.bind_to_any_port("127.0.0.1");
  } else if (server.bind_to_port("127.0.0.1", asked)) {
    stand_in->port_ = asked;
  } else {
    stand_in->port_ = -1;
  }
  if (stand_in->port_ <= 0) {
    return Status::Error("the HTTP queue stand-in cannot listen on 127.0.0.1:" + std::to_string(asked));
  }
  stand_in->listener_ = std::thread([&server] { server.listen_after_bind(); });
  // Connections wait in the backlog since the bind, but a stop() before the
  // accept loop runs would be missed: wait for it.
  const auto until = std::chrono::steady_clock::now() + kStartTimeout;
  while (!server.is_running() && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (!server.is_running()) {
    // Leaked on purpose: a listener that never started cannot be stopped.
    const int port = stand_in.release()->port_;
    return Status::Error("the HTTP queue stand-in on port " + std::to_string(port) + " did not start");
  }
  return stand_in;
}

HttpMqStandIn::~HttpMqStandIn() { Stop(); }

void HttpMqStandIn::Stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  arrived_.notify_all();
  server_->stop();
  if (listener_.joinable()) listener_.join();
}

std::string HttpMqStandIn::url() const { return "http://127.0.0.1:" + std::to_string(port_); }

void HttpMqStandIn::Route() {
  server_->Get("/pull-n", [this](const httplib::Request& request, httplib::Response& response) {
    const std::string name = request.get_param_value("queue-name");
    size_t count = 0;
    std::unique_lock<std::mutex> lock(mutex_);
    ++counters_.pulls;
    auto queue = queues_.find(name);
    if (queue == queues_.end()) {
      ++counters_.not_found;
      response.status = 404;
      response.set_content(ErrorBody("no queue '" + name + "'"), "application/json");
      return;
    }
    if (!ParseCount(request.get_param_value("count"), &count)) {
      response.status = 400;
      response.set_content(ErrorBody("count must be a positive integer"), "application/json");
      return;
    }
    ++waiting_pulls_;
    arrived_.wait_for(lock, options_.pull_wait,
                      [&] { return stopping_ || !queue->second.messages.empty(); });
    --waiting_pulls_;
    std::deque<std::string>& messages = queue->second.messages;
    if (messages.empty()) {
      ++counters_.pulls_empty;
      response.status = 204;
      return;
    }
    std::string body = "[";
    for (size_t i = 0; i < count && !messages.empty(); ++i) {
      if (i > 0) body += ',';
      AppendJsonString(messages.front(), &body);
      messages.pop_front();
    }
    body += "]";
    lock.unlock();
    response.status = 200;
    response.set_content(body, "application/json");
  });

  server_->Post("/push-n", [this](const httplib::Request& request, httplib::Response& response) {
    auto refuse = [&](int status, const std::string& body) {
      std::lock_guard<std::mutex> lock(mutex_);
      ++counters_.pushes;
      if (status == 400) ++counters_.pushes_refused;
      if (status == 404) ++counters_.not_found;
      response.status = status;
      response.set_content(body, "application/json");
    };
    // Checked whole first (the DOM parser validates everything), then each
    // message's text taken as it came (On Demand's raw view of an object).
    simdjson::dom::parser parser;
    simdjson::dom::element root;
    if (auto error = parser.parse(request.body).get(root); error) {
      return refuse(400, ErrorBody(std::string("the body is not JSON: ") + simdjson::error_message(error)));
    }
    std::string_view name;
    simdjson::dom::array messages;
    if (root["queue_name"].get_string().get(name) || root["messages"].get_array().get(messages)) {
      return refuse(400, ErrorBody("expected {\"queue_name\": string, \"messages\": [...]}"));
    }
    size_t index = 0;
    for (simdjson::dom::element message : messages) {
      if (!message.is_object()) {
        return refuse(400, "{\"error\":\"message " + std::to_string(index) +
                               " is not a JSON object\",\"index\":" + std::to_string(index) + "}");
      }
      ++index;
    }
    std::vector<std::string> texts;
    texts.reserve(index);
    simdjson::ondemand::parser raw_parser;
    simdjson::padded_string padded(request.body);
    simdjson::ondemand::document document;
    simdjson::ondemand::array raw_messages;
    if (raw_parser.iterate(padded).get(document) ||
        document.find_field_unordered("messages").get_array().get(raw_messages)) {
      return refuse(400, ErrorBody("the messages cannot be read"));
    }
    for (auto element : raw_messages) {
      simdjson::ondemand::object object;
      std::string_view text;
      if (element.get_object().get(object) || object.raw_json().get(text)) {
        return refuse(400, ErrorBody("a message cannot be read"));
      }
      texts.emplace_back(text);
    }

    std::unique_lock<std::mutex> lock(mutex_);
    ++counters_.pushes;
    auto queue = queues_.find(std::string(name));
    if (queue == queues_.end()) {
      ++counters_.not_found;
      response.status = 404;
      response.set_content(ErrorBody("no queue '" + std::string(name) + "'"), "application/json");
      return;
    }
    Queue& q = queue->second;
    if (q.cap > 0 && q.messages.size() + texts.size() > q.cap) {
      ++counters_.pushes_full;
      response.status = 409;
      response.set_content(ErrorBody("queue '" + std::string(name) + "' holds " + std::to_string(q.messages.size()) +
                                     " of " + std::to_string(q.cap) + ": no room for " +
                                     std::to_string(texts.size())),
                           "application/json");
      return;
    }
    for (std::string& text : texts) q.messages.push_back(std::move(text));
    lock.unlock();
    arrived_.notify_all();
    response.status = 201;
    response.set_content("{\"pushed\":" + std::to_string(index) + "}", "application/json");
  });
}

bool HttpMqStandIn::Seed(const std::string& queue, const std::vector<std::string>& messages) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = queues_.find(queue);
    if (it == queues_.end()) return false;
    it->second.messages.insert(it->second.messages.end(), messages.begin(), messages.end());
  }
  arrived_.notify_all();
  return true;
}

std::vector<std::string> HttpMqStandIn::Drain(const std::string& queue, size_t max) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<std::string> out;
  auto it = queues_.find(queue);
  if (it == queues_.end()) return out;
  std::deque<std::string>& messages = it->second.messages;
  const size_t n = std::min(max, messages.size());
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    out.push_back(std::move(messages.front()));
    messages.pop_front();
  }
  return out;
}

std::vector<std::string> HttpMqStandIn::Peek(const std::string& queue) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = queues_.find(queue);
  if (it == queues_.end()) return {};
  return std::vector<std::string>(it->second.messages.begin(), it->second.messages.end());
}

size_t HttpMqStandIn::Size(const std::string& queue) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = queues_.find(queue);
  return it == queues_.end() ? 0 : it->second.messages.size();
}

void HttpMqStandIn::SetCap(const std::string& queue, size_t cap) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = queues_.find(queue);
  if (it != queues_.end()) it->second.cap = cap;
}

HttpMqCounters HttpMqStandIn::counters() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return counters_;
}

int HttpMqStandIn::waiting_pulls() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return waiting_pulls_;
}

}  // namespace scorepipe::testing
