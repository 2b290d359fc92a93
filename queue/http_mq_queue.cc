#include "queue/http_mq_queue.h"

#include <simdjson.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <utility>

#include "proto/json_writer.h"
#include "runtime/node.h"

namespace scorepipe {
namespace {

// Messages per push-n at most, and bytes (a request the service reads whole).
constexpr size_t kMaxPushMessages = 1000;
constexpr size_t kMaxPushBytes = 8 << 20;
// Back-off between push-n attempts refused with 409: doubling from the first
// to the last, each a random 50..100% of it so that sinks do not retry in step.
constexpr int kFirstBackoffMs = 20;
constexpr int kLastBackoffMs = 1000;
// The most of a service's answer quoted in an error.
constexpr size_t kQuotedBody = 300;

std::string Quoted(std::string_view body) {
  std::string text(body.substr(0, kQuotedBody));
  if (body.size() > kQuotedBody) text += "...";
  return text.empty() ? "(no body)" : text;
}

// Why `text` is not one JSON value, or nothing.
std::optional<std::string> NotJson(simdjson::dom::parser& parser, std::string_view text) {
  simdjson::dom::element element;
  const simdjson::error_code error = parser.parse(text.data(), text.size(), true).get(element);
  if (error) return std::string(simdjson::error_message(error));
  return std::nullopt;
}

// The index of the message a 400 answer refuses, if it names one. The
// service names it only inside its error text:
// {"error":"Invalid message format for message at index <i>","message":[...]}.
std::optional<size_t> IndexIn(std::string_view body) {
  constexpr std::string_view kPrefix = "Invalid message format for message at index ";
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(body.data(), body.size(), true).get(root)) return std::nullopt;
  std::string_view error;
  if (root["error"].get_string().get(error) || !error.starts_with(kPrefix)) return std::nullopt;
  error.remove_prefix(kPrefix.size());
  size_t index = 0;
  auto [end, ec] = std::from_chars(error.data(), error.data() + error.size(), index);
  if (ec != std::errc() || end == error.data() || end != error.data() + error.size()) return std::nullopt;
  return index;
}

// `text` as one line of the dead-letter file: JSON without line breaks (a
// text that is not JSON becomes a JSON string, so every line parses).
std::string DeadLetterLine(simdjson::dom::parser& parser, std::string_view text) {
  if (text.find_first_of("\r\n") == std::string_view::npos && !NotJson(parser, text))
    return std::string(text);
  simdjson::dom::element element;
  if (!parser.parse(text.data(), text.size(), true).get(element)) return simdjson::minify(element);
  std::string line;
  AppendJsonString(text, &line);
  return line;
}

// The messages of a 200 answer to pull-n: a JSON array of strings, each a
// message's JSON text. An element that is not a string is kept as its JSON
// text (the bridge dead-letters what it cannot read), never dropped.
Result<std::vector<std::string>> ParsePulled(std::string_view body) {
  simdjson::dom::parser parser;
  simdjson::dom::array array;
  if (auto error = parser.parse(body.data(), body.size(), true).get_array().get(array); error) {
    return Status::Error(std::string("the answer is not a JSON array (") + simdjson::error_message(error) +
                         "): " + Quoted(body));
  }
  std::vector<std::string> messages;
  messages.reserve(array.size());
  for (simdjson::dom::element element : array) {
    std::string_view text;
    if (element.get_string().get(text)) {
      messages.push_back(simdjson::minify(element));
    } else {
      messages.emplace_back(text);
    }
  }
  return messages;
}

}  // namespace

HttpMqQueue::HttpMqQueue(QueueConfig config)
    : config_(std::move(config)),
      journal_(config_.journal_dir),
      client_(config_.url, config_.http_timeout_ms),
      jitter_(static_cast<std::minstd_rand::result_type>(NewSession())) {}

HttpMqQueue::~HttpMqQueue() {
  {
    std::lock_guard<std::mutex> lock(pull_mutex_);
    stopping_ = true;
    if (pull_in_flight_) {
      spdlog::info("waiting for the outstanding pull-n from {} (up to {} ms) to journal what it brings",
                   config_.url, config_.pull_wait_ms + config_.http_timeout_ms);
    }
  }
  pull_cv_.notify_all();
  if (puller_.joinable()) puller_.join();
  if (Status s = JournalUnsaved(); !s.ok()) {
    spdlog::critical("{} messages pulled from {} could not be journalled and are lost: {}", unsaved_.size(),
                     config_.url, s.message());
  }
}

std::string HttpMqQueue::Describe() const {
  return "http-mq " + client_.base_url() + " input=" + config_.input + " output=" + config_.output +
         " dead_letter=" + journal_.dead_letter_path() + " journal=" + config_.journal_dir;
}

void HttpMqQueue::PullLoop() {
  HttpClient client(config_.url, config_.http_timeout_ms);
  const std::string path = "/pull-n?queue-name=" + HttpClient::EscapeQueryValue(config_.input) + "&count=";
  const int timeout_ms = config_.pull_wait_ms + config_.http_timeout_ms;
  std::unique_lock<std::mutex> lock(pull_mutex_);
  while (true) {
    pull_cv_.wait(lock, [&] { return pull_requested_ || stopping_; });
    if (stopping_) return;  // a requested pull that has not started costs nothing
    pull_requested_ = false;
    pull_in_flight_ = true;
    const size_t count = pull_count_;
    lock.unlock();

    Status status = Status::Ok();
    bool brought = false;
    Result<HttpResponse> answer = client.Get(path + std::to_string(count), timeout_ms);
    if (!answer.ok()) {
      status = answer.status();
    } else if (answer->status == 200) {
      Result<std::vector<std::string>> pulled = ParsePulled(answer->body);
      if (!pulled.ok()) {
        // Popped by the service and unreadable here: say so loudly, with the body.
        spdlog::critical("a pull-n answer from {} cannot be read; its messages are lost: {}", config_.url,
                         pulled.status().message());
        status = pulled.status();
      } else if (!pulled->empty()) {
        brought = true;
        status = journal_.AddReady(pulled.value());
        if (!status.ok()) {
          std::lock_guard<std::mutex> relock(pull_mutex_);
          unsaved_.insert(unsaved_.end(), pulled->begin(), pulled->end());
        }
      }
    } else if (answer->status == 204) {
      // Nothing came during the service's wait.
    } else if (answer->status == 404) {
      status =
          Status::Error("the service has no queue '" + config_.input + "' (404): " + Quoted(answer->body));
    } else {
      status =
          Status::Error("pull-n answered " + std::to_string(answer->status) + ": " + Quoted(answer->body));
    }

    lock.lock();
    pull_in_flight_ = false;
    pull_answered_ = true;
    pull_brought_messages_ = brought;
    pull_status_ = status;
    pull_cv_.notify_all();
  }
}

Status HttpMqQueue::JournalUnsaved() {
  std::vector<std::string> unsaved;
  {
    std::lock_guard<std::mutex> lock(pull_mutex_);
    unsaved.swap(unsaved_);
  }
  if (unsaved.empty()) return Status::Ok();
  Status s = journal_.AddReady(unsaved);
  if (!s.ok()) {
    std::lock_guard<std::mutex> lock(pull_mutex_);
    unsaved_.insert(unsaved_.begin(), unsaved.begin(), unsaved.end());
  }
  return s;
}

Status HttpMqQueue::Take(size_t max, int block_ms, Lease* lease) {
  if (max == 0) return Status::Ok();
  const std::string context = "taking from " + config_.input + " at " + client_.base_url();
  if (Status s = JournalUnsaved(); !s.ok()) return s.WithContext(context);
  Result<size_t> moved = journal_.TakeReady(max, lease);
  if (!moved.ok()) return moved.status().WithContext(context);
  if (moved.value() > 0) return Status::Ok();

  std::unique_lock<std::mutex> lock(pull_mutex_);
  if (!puller_.joinable()) puller_ = std::thread(&HttpMqQueue::PullLoop, this);
  const int wait_ms = block_ms > 0 ? block_ms : config_.pull_wait_ms + config_.http_timeout_ms;
  const auto deadline = Clock::now() + std::chrono::milliseconds(wait_ms);
  while (true) {
    if (pull_answered_) {
      pull_answered_ = false;
      if (!pull_status_.ok()) return pull_status_.WithContext(context);
      if (pull_brought_messages_) {
        lock.unlock();
        moved = journal_.TakeReady(max, lease);
        return moved.ok() ? Status::Ok() : moved.status().WithContext(context);
      }
      if (block_ms <= 0) return Status::Ok();  // one answer: nothing
    }
    if (!pull_in_flight_ && !pull_requested_) {
      pull_requested_ = true;
      pull_count_ = max;
      pull_cv_.notify_all();
    }
    // Nothing in time: the pull stays outstanding, its answer is the next Take's.
    if (!pull_cv_.wait_until(lock, deadline, [&] { return pull_answered_; })) return Status::Ok();
  }
}

HttpMqQueue::PushReport HttpMqQueue::PushAll(const std::string& queue,
                                             const std::vector<std::string_view>& messages,
                                             Clock::time_point deadline) {
  PushReport report;
  {
    simdjson::dom::parser parser;
    for (size_t i = 0; i < messages.size(); ++i) {
      if (auto why = NotJson(parser, messages[i])) {
        report.refused = "message " + std::to_string(i) + " is not JSON (" + *why + ")";
        report.refused_index = i;
        return report;
      }
    }
  }
  size_t chunk = kMaxPushMessages;
  int backoff_ms = kFirstBackoffMs;
  size_t full_answers = 0;
  std::string body;
  while (report.pushed < messages.size()) {
    const size_t first = report.pushed;
    size_t end = first;
    // {"queue_name":"<queue>","messages":[<message>,...]}: each message is
    // JSON already (checked above), so it goes in as it is.
    body.clear();
    JsonWriter json(&body);
    json.BeginObject().Field("queue_name", queue).Key("messages").BeginArray();
    while (end < messages.size() && end - first < chunk &&
           (end == first || body.size() + messages[end].size() < kMaxPushBytes)) {
      json.Raw(messages[end++]);
    }
    json.EndArray().EndObject();
    Result<HttpResponse> answer = client_.PostJson("/push-n", body, config_.http_timeout_ms);
    if (!answer.ok()) {
      report.status = answer.status();
      return report;
    }
    const long code = answer->status;
    if (code == 201 || code == 200) {
      report.pushed = end;
      chunk = std::min(kMaxPushMessages, chunk * 2);
      backoff_ms = kFirstBackoffMs;
      continue;
    }
    if (code == 409) {
      // Full: nothing of this request went in. Smaller requests fit sooner.
      ++full_answers;
      chunk = std::max<size_t>(1, (end - first) / 2);
      const auto now = Clock::now();
      if (now >= deadline) {
        report.status =
            Status::Error("queue '" + queue + "' stayed full (409, " + std::to_string(full_answers) +
                          " times) for queue.push_retry_ms (" + std::to_string(config_.push_retry_ms) +
                          " ms): " + Quoted(answer->body));
        return report;
      }
      std::uniform_int_distribution<int> spread(backoff_ms / 2, backoff_ms);
      const auto pause =
          std::min<Clock::duration>(std::chrono::milliseconds(spread(jitter_)), deadline - now);
      std::this_thread::sleep_for(pause);
      backoff_ms = std::min(kLastBackoffMs, backoff_ms * 2);
      continue;
    }
    if (code == 400) {
      // Nothing of this request went in; the index is within the request.
      const std::optional<size_t> index = IndexIn(answer->body);
      if (index && *index < end - first) report.refused_index = first + *index;
      report.refused =
          "the service refused " +
          (report.refused_index ? "message " + std::to_string(*report.refused_index)
                                : "messages " + std::to_string(first) + ".." + std::to_string(end - 1)) +
          " (400): " + Quoted(answer->body);
      return report;
    }
    if (code == 404) {
      report.status =
          Status::Error("the service has no queue '" + queue + "' (404): " + Quoted(answer->body));
      return report;
    }
    report.status = Status::Error("push-n answered " + std::to_string(code) + ": " + Quoted(answer->body));
    return report;
  }
  return report;
}

Status HttpMqQueue::Push(const std::vector<std::string>& messages) { return Append(config_.input, messages); }

Result<std::vector<std::string>> HttpMqQueue::Peek(const std::string& queue, size_t max) {
  if (queue == config_.dead_letter) {
    Result<std::vector<std::string>> entries = journal_.DeadLetters(max);
    if (!entries.ok()) return entries.status().WithContext("reading the dead letters of " + config_.input);
    return entries;
  }
  return Status::Error("cannot read " + queue + " at " + client_.base_url() +
                       " without removing it: the message_queue service has no read-only endpoint "
                       "(queue.kind http-mq); consume it with pull-n instead");
}

Status HttpMqQueue::Append(const std::string& queue, const std::vector<std::string>& messages) {
  const std::string context = "pushing to " + queue + " at " + client_.base_url();
  std::vector<std::string_view> views(messages.begin(), messages.end());
  PushReport report = PushAll(queue, views, Clock::now() + std::chrono::milliseconds(config_.push_retry_ms));
  if (!report.refused.empty()) {
    return Status::Error(context + ": " + report.refused + "; the " + std::to_string(report.pushed) +
                         " before it were pushed");
  }
  if (!report.status.ok()) {
    return report.status.WithContext(context + " (" + std::to_string(report.pushed) + " of " +
                                     std::to_string(messages.size()) + " pushed)");
  }
  return Status::Ok();
}

Result<Settlement> HttpMqQueue::Settle(const std::string& lease_id, const std::vector<Outcome>& outcomes) {
  Settlement settled;
  if (lease_id.empty() && outcomes.empty()) return settled;  // a lease never opened
  const std::string context =
      "settling lease '" + lease_id + "' of " + config_.input + " at " + client_.base_url();
  if (!LeaseJournal::IsLeaseId(lease_id)) {
    settled.refused = context + ": not a lease id of this queue";
    return settled;
  }
  Result<std::optional<LeaseClaim>> claimed = journal_.Claim(lease_id);
  if (!claimed.ok()) return claimed.status().WithContext(context);
  if (!claimed->has_value()) {
    settled.duplicates = outcomes.size();  // settled, reclaimed or released before, or settling elsewhere
    return settled;
  }
  LeaseClaim claim = std::move(claimed->value());
  // A claim given back is a lease again: for a retry, or for Reclaim.
  auto give_back = [&] {
    Status back = journal_.Unclaim(std::move(claim));
    if (!back.ok())
      spdlog::error("{}: cannot give the claim back (Reclaim takes it later): {}", context, back.message());
  };
  if (claim.messages != outcomes.size()) {
    settled.refused = context + ": the lease holds " + std::to_string(claim.messages) + " messages, got " +
                      std::to_string(outcomes.size()) +
                      " outcomes; nothing published (the lease is reclaimed after the in-flight timeout)";
    give_back();
    return settled;
  }
  claim.done.resize(claim.messages, false);

  // Results go to the service; dead letters to the journal's file, in the
  // change that ends the lease (the service has no queue that takes them).
  std::vector<size_t> positions;
  std::vector<std::string_view> results;
  std::vector<std::string> dead_letters;
  {
    simdjson::dom::parser parser;
    for (size_t i = 0; i < outcomes.size(); ++i) {
      if (claim.done[i]) continue;
      if (outcomes[i].route == Outcome::Route::kDeadLetter) {
        dead_letters.push_back(DeadLetterLine(parser, outcomes[i].text));
      } else {
        positions.push_back(i);
        results.push_back(outcomes[i].text);
      }
    }
  }
  if (!results.empty()) {
    PushReport report =
        PushAll(config_.output, results, Clock::now() + std::chrono::milliseconds(config_.push_retry_ms));
    for (size_t k = 0; k < report.pushed; ++k) claim.done[positions[k]] = true;
    settled.published += report.pushed;
    if (!report.refused.empty()) {
      // The results before the refused request's are published and marked
      // done; a settle again (with the refused one dead-lettered) sends the rest.
      if (report.refused_index) settled.refused_index = positions[*report.refused_index];
      settled.refused =
          context + ": " +
          (settled.refused_index ? "outcome " + std::to_string(*settled.refused_index) + " of the lease"
                                 : std::string("results of the lease")) +
          " (" + report.refused + "); the lease is kept, " + std::to_string(settled.published) +
          " outcomes published";
      give_back();
      return settled;
    }
    if (!report.status.ok()) {
      give_back();
      return report.status.WithContext(context + " (" + std::to_string(settled.published) +
                                       " outcomes published now; the rest are retried)");
    }
  }
  settled.published += dead_letters.size();
  const size_t published_before = outcomes.size() - settled.published;
  settled.published = outcomes.size();  // including what an earlier, failed call published
  Result<bool> finished = journal_.Finish(std::move(claim), dead_letters);
  if (!finished.ok()) return finished.status().WithContext(context + " (all outcomes published)");
  if (!finished.value()) {
    spdlog::warn("{}: published, but the claim was taken over meanwhile; its outcomes may be published twice",
                 context);
  }
  if (published_before > 0)
    spdlog::debug("{}: {} outcomes had been published by an earlier attempt", context, published_before);
  return settled;
}

Result<std::vector<Settlement>> HttpMqQueue::SettleMany(std::span<const SettleRequest> requests) {
  std::vector<Settlement> out;
  out.reserve(requests.size());
  for (const SettleRequest& r : requests) {
    if (auto before = settled_before_error_.find(r.lease_id); before != settled_before_error_.end()) {
      out.push_back(std::move(before->second));
      settled_before_error_.erase(before);
      continue;
    }
    Result<Settlement> settled = Settle(r.lease_id, r.outcomes);
    if (!settled.ok()) {
      for (size_t k = 0; k < out.size(); ++k) {
        if (out[k].refused.empty() && out[k].published > 0)
          settled_before_error_[requests[k].lease_id] = out[k];
      }
      return settled.status();
    }
    out.push_back(std::move(settled.value()));
  }
  settled_before_error_.clear();
  return out;
}

Status HttpMqQueue::Release(const Lease& lease) {
  if (lease.id.empty()) return Status::Ok();
  const std::string context = "releasing lease '" + lease.id + "' of " + config_.input;
  if (!LeaseJournal::IsLeaseId(lease.id)) return Status::Error(context + ": not a lease id of this queue");
  return journal_.Release(lease.id).WithContext(context);
}

Status HttpMqQueue::Reclaim(int older_than_ms, size_t max, Lease* out) {
  *out = Lease{};
  const std::string context = "reclaiming leases of " + config_.input + " in " + config_.journal_dir;
  if (Status checked = CheckReclaimArguments(older_than_ms, context); !checked.ok()) return checked;
  if (max == 0) return Status::Ok();
  return journal_.Reclaim(older_than_ms, max, out).WithContext(context);
}

Result<QueueDepth> HttpMqQueue::Depth() {
  Result<int64_t> held = journal_.MessagesHeld();
  if (!held.ok())
    return held.status().WithContext("measuring " + config_.input + " in " + config_.journal_dir);
  return QueueDepth{-1, held.value()};
}

}  // namespace scorepipe
