#include "tests/support/http_mq_stand_in.h"

#include <httplib.h>
#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <string_view>
#include <utility>

#include "proto/timestamp.h"
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

// {"error": what, "message": message_json}
std::string ErrorBody(const std::string& what, const std::string& message_json) {
  std::string body = "{\"error\":";
  AppendJsonString(what, &body);
  return body + ",\"message\":" + message_json + "}";
}

std::string JsonString(std::string_view text) {
  std::string out;
  AppendJsonString(text, &out);
  return out;
}

// zod's issues for a failed parse, in its shape: a JSON array of
// {"code", ..., "path", "message"}.
class Issues {
 public:
  // `fields`: more members after the code, each starting with a comma.
  void Add(std::string_view path, std::string_view code, const std::string& message,
           const std::string& fields = "") {
    if (!json_.empty()) json_ += ',';
    json_ += "{\"code\":" + JsonString(code) + fields + ",\"path\":[";
    if (!path.empty()) json_ += JsonString(path);
    json_ += "],\"message\":" + JsonString(message) + "}";
  }
  bool empty() const { return json_.empty(); }
  std::string Json() const { return "[" + json_ + "]"; }

 private:
  std::string json_;
};

std::string_view TypeName(simdjson::dom::element element) {
  switch (element.type()) {
    case simdjson::dom::element_type::ARRAY:
      return "array";
    case simdjson::dom::element_type::OBJECT:
      return "object";
    case simdjson::dom::element_type::STRING:
      return "string";
    case simdjson::dom::element_type::BOOL:
      return "boolean";
    case simdjson::dom::element_type::NULL_VALUE:
      return "null";
    default:
      return "number";
  }
}

std::string Number(double value) {
  std::string text = std::to_string(value);
  text.erase(text.find_last_not_of('0') + 1);
  if (text.ends_with('.')) text.pop_back();
  return text;
}

// `key` of `object` as zod's z.string() or z.number() sees it: the element,
// or nothing after an issue (missing, or of another type).
std::optional<simdjson::dom::element> Typed(simdjson::dom::object object, std::string_view key,
                                            std::string_view expected, Issues* issues) {
  simdjson::dom::element element;
  if (object[key].get(element)) {
    issues->Add(key, "invalid_type", "Required",
                ",\"expected\":" + JsonString(expected) + ",\"received\":\"undefined\"");
    return std::nullopt;
  }
  if (TypeName(element) != expected) {
    issues->Add(key, "invalid_type",
                "Expected " + std::string(expected) + ", received " + std::string(TypeName(element)),
                ",\"expected\":" + JsonString(expected) + ",\"received\":" + JsonString(TypeName(element)));
    return std::nullopt;
  }
  return element;
}

// z.number().min(min) (and .max(max)): non-integers pass.
void CheckNumber(simdjson::dom::object object, std::string_view key, double min, std::optional<double> max,
                 Issues* issues) {
  std::optional<simdjson::dom::element> element = Typed(object, key, "number", issues);
  if (!element) return;
  double value = 0;
  if (element->get_double().get(value)) return;
  if (value < min) {
    issues->Add(key, "too_small", "Number must be greater than or equal to " + Number(min),
                ",\"minimum\":" + Number(min) + ",\"type\":\"number\",\"inclusive\":true,\"exact\":false");
  } else if (max && value > *max) {
    issues->Add(key, "too_big", "Number must be less than or equal to " + Number(*max),
                ",\"maximum\":" + Number(*max) + ",\"type\":\"number\",\"inclusive\":true,\"exact\":false");
  }
}

// z.string().refine(Date.parse): scorepipe's ParseTimestamp stands in for
// Date.parse (it reads what V8 reads under TZ=UTC, checked against node in
// tests/proto; it refuses only dates without a year, which V8 makes up).
void CheckTimestamp(simdjson::dom::object object, Issues* issues) {
  std::optional<simdjson::dom::element> element = Typed(object, "timestamp", "string", issues);
  if (!element) return;
  std::string_view text;
  if (element->get_string().get(text) || !ParseTimestamp(text).ok()) {
    issues->Add("timestamp", "custom", "Invalid date");
  }
}

// The service's TransactionSchema; unknown keys pass (zod strips them).
std::string TransactionIssues(simdjson::dom::object object) {
  Issues issues;
  for (std::string_view key : {"id", "customer_id", "vendor_id"})
    CheckNumber(object, key, 1, std::nullopt, &issues);
  CheckTimestamp(object, &issues);
  if (std::optional<simdjson::dom::element> status = Typed(object, "status", "string", &issues)) {
    const std::string_view text = status->get_string().value_unsafe();
    if (text != "accepted" && text != "rejected" && text != "pending") {
      issues.Add(
          "status", "invalid_enum_value",
          "Invalid enum value. Expected 'accepted' | 'rejected' | 'pending', received '" + std::string(text) +
              "'",
          ",\"received\":" + JsonString(text) + ",\"options\":[\"accepted\",\"rejected\",\"pending\"]");
    }
  }
  CheckNumber(object, "amount", 0, std::nullopt, &issues);
  return issues.empty() ? std::string() : issues.Json();
}

// The service's ResultSchema, without the `id` one version of it requires
// (scorepipe's results carry none).
std::string ResultIssues(simdjson::dom::object object) {
  Issues issues;
  CheckNumber(object, "transaction_id", 1, std::nullopt, &issues);
  CheckTimestamp(object, &issues);
  if (std::optional<simdjson::dom::element> flag = Typed(object, "is_fraudulent", "number", &issues)) {
    const double value = flag->get_double().value_unsafe();
    if (value != 0 && value != 1) issues.Add("is_fraudulent", "invalid_union", "Invalid input");
  }
  CheckNumber(object, "confidence", 0, 1.0, &issues);
  return issues.empty() ? std::string() : issues.Json();
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
      response.set_content(ErrorBody("Queue does not exist", JsonString("Queue " + name + " does not exist")),
                           "application/json");
      return;
    }
    if (!ParseCount(request.get_param_value("count"), &count)) {
      response.status = 400;
      response.set_content(ErrorBody("count must be a positive integer"), "application/json");
      return;
    }
    // The one connection every pull-n goes through: BRPOPs queue up on it.
    if (connection_busy_) {
      ++counters_.pulls_held_up;
      ++queued_pulls_;
      arrived_.wait(lock, [&] { return stopping_ || !connection_busy_; });
      --queued_pulls_;
    }
    std::deque<std::string>& messages = queue->second.messages;
    if (!stopping_) {
      connection_busy_ = true;
      ++waiting_pulls_;
      arrived_.wait_for(lock, options_.pull_wait, [&] { return stopping_ || !messages.empty(); });
      --waiting_pulls_;
      connection_busy_ = false;
      arrived_.notify_all();
    }
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

  server_->Post("/create", [this](const httplib::Request& request, httplib::Response& response) {
    simdjson::dom::parser parser;
    std::string_view name;
    response.set_header("Content-Type", "application/json");
    if (parser.parse(request.body).at_key("name").get_string().get(name) || name.size() < 4 ||
        name.size() > 20) {
      response.status = 400;
      response.set_content(ErrorBody("Invalid request body", "\"name: a string of 4 to 20 characters\""),
                           "application/json");
      return;
    }
    std::lock_guard<std::mutex> lock(mutex_);
    if (!queues_.emplace(std::string(name), Queue{}).second) {
      response.status = 409;
      response.set_content(ErrorBody("Queue already exists"), "application/json");
      return;
    }
    response.status = 201;
    response.set_content("{\"message\":" + JsonString("Queue " + std::string(name) + " created") + "}",
                         "application/json");
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
      return refuse(400, ErrorBody("Invalid request body", JsonString(std::string("the body is not JSON: ") +
                                                                      simdjson::error_message(error))));
    }
    // The request's schema: {queue_name: string, messages: non-empty array}.
    std::string_view name;
    simdjson::dom::array messages;
    Issues request_issues;
    if (!root.is_object()) {
      request_issues.Add("", "invalid_type", "Expected object, received " + std::string(TypeName(root)));
    } else {
      if (Typed(root.get_object().value(), "queue_name", "string", &request_issues)) {
        name = root["queue_name"].get_string().value_unsafe();
      }
      if (Typed(root.get_object().value(), "messages", "array", &request_issues)) {
        messages = root["messages"].get_array().value_unsafe();
        if (messages.size() == 0) {
          request_issues.Add("messages", "too_small", "Array must contain at least 1 element(s)",
                             ",\"minimum\":1,\"type\":\"array\",\"inclusive\":true,\"exact\":false");
        }
      }
    }
    if (!request_issues.empty()) return refuse(400, ErrorBody("Invalid request body", request_issues.Json()));
    bool exists = false;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      exists = queues_.find(std::string(name)) != queues_.end();
    }
    if (!exists) {
      return refuse(404, ErrorBody("Queue does not exist",
                                   JsonString("Queue " + std::string(name) + " does not exist")));
    }
    size_t index = 0;
    for (simdjson::dom::element message : messages) {
      const std::string what = "Invalid message format for message at index " + std::to_string(index);
      if (!message.is_object()) return refuse(400, ErrorBody(what, JsonString("Message must be an object.")));
      if (options_.validate_messages) {
        simdjson::dom::object object = message.get_object().value();
        simdjson::dom::element flag;
        const std::string issues =
            object["is_fraudulent"].get(flag) ? TransactionIssues(object) : ResultIssues(object);
        if (!issues.empty()) return refuse(400, ErrorBody(what, issues));
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
    auto queue = queues_.find(std::string(name));  // queues are never removed
    Queue& q = queue->second;
    if (q.cap > 0 && q.messages.size() + texts.size() > q.cap) {
      ++counters_.pushes_full;
      response.status = 409;
      response.set_content(
          ErrorBody("queue '" + std::string(name) + "' holds " + std::to_string(q.messages.size()) + " of " +
                    std::to_string(q.cap) + ": no room for " + std::to_string(texts.size())),
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

int HttpMqStandIn::queued_pulls() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return queued_pulls_;
}

}  // namespace scorepipe::testing
