#include "ventilator/dispatcher.h"

#include <algorithm>
#include <utility>

namespace scorepipe {
namespace {

long long MillisBetween(SteadyClock::time_point from, SteadyClock::time_point to) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(to - from).count();
}

}  // namespace

Dispatcher::Dispatcher(uint32_t credit_cap, std::chrono::milliseconds batch_timeout,
                       std::chrono::milliseconds dead_after, uint32_t max_attempts)
    : credit_cap_(std::max<uint32_t>(credit_cap, 1)),
      batch_timeout_(batch_timeout),
      dead_after_(dead_after),
      max_attempts_(std::max<uint32_t>(max_attempts, 1)) {}

std::vector<Dispatcher::Poisoned> Dispatcher::TakePoisoned() {
  std::vector<Poisoned> out;
  out.swap(poisoned_);
  return out;
}

void Dispatcher::Enqueue(uint64_t batch_id, zmq::message_t frame) {
  ++stats_.batches_received;
  Entry entry;
  entry.batch_id = batch_id;
  entry.frame = std::move(frame);
  entry.max_attempts = max_attempts_;
  queue_.push_back(std::move(entry));
}

void Dispatcher::EnqueueOnline(uint64_t batch_id, zmq::message_t frame, std::string return_to,
                               SteadyClock::time_point expires) {
  ++stats_.online_received;
  Entry entry;
  entry.batch_id = batch_id;
  entry.frame = std::move(frame);
  entry.max_attempts = max_attempts_;
  entry.return_to = std::move(return_to);
  entry.expires = expires;
  online_.push_back(std::move(entry));
}

void Dispatcher::EnqueueFront(uint64_t batch_id, zmq::message_t frame, uint32_t max_attempts,
                              std::string return_to, SteadyClock::time_point expires) {
  ++stats_.parts;
  Entry entry;
  entry.batch_id = batch_id;
  entry.frame = std::move(frame);
  entry.max_attempts = std::max<uint32_t>(max_attempts, 1);
  entry.return_to = std::move(return_to);
  entry.expires = expires;
  QueueOf(entry).push_front(std::move(entry));
}

void Dispatcher::RequeueFront(Entry entry) {
  entry.routing_id.clear();
  if (entry.answered) return;  // its caller has its results: nothing is left to do
  if (entry.attempts >= entry.max_attempts) {
    ++stats_.poisoned;
    std::string reason = "every worker that took it died or timed out on it (" +
                         std::to_string(entry.attempts) + (entry.attempts == 1 ? " attempt)" : " attempts)");
    poisoned_.push_back(Poisoned{entry.batch_id, std::move(entry.frame), entry.attempts, std::move(reason),
                                 std::move(entry.return_to), entry.expires});
    return;
  }
  ++stats_.redispatched;
  QueueOf(entry).push_front(std::move(entry));
}

std::optional<std::string> Dispatcher::TakeReturnAddress(uint64_t batch_id) {
  if (auto entry = ledger_.find(batch_id); entry != ledger_.end()) {
    if (entry->second.return_to.empty() || entry->second.answered) return std::nullopt;
    entry->second.answered = true;
    ++stats_.online_answered;
    return entry->second.return_to;
  }
  // Taken back from a worker declared dead that answered after all: the
  // queued copy has nothing left to do.
  for (auto entry = online_.begin(); entry != online_.end(); ++entry) {
    if (entry->batch_id != batch_id) continue;
    std::string return_to = std::move(entry->return_to);
    online_.erase(entry);
    ++stats_.online_answered;
    return return_to;
  }
  return std::nullopt;
}

Requeue Dispatcher::DropWorker(std::string routing_id, std::string reason) {
  Requeue requeue;
  auto it = workers_.find(routing_id);
  if (it != workers_.end()) {
    requeue.worker_id = it->second.worker_id;
    requeue.host = it->second.host;
    requeue.pid = it->second.pid;
    workers_.erase(it);
    ++stats_.workers_lost;
  }
  requeue.reason = std::move(reason);
  requeue.batches = TakeBackFrom(routing_id);
  return requeue;
}

size_t Dispatcher::TakeBackFrom(const std::string& routing_id) {
  size_t batches = 0;
  for (auto entry = ledger_.begin(); entry != ledger_.end();) {
    if (entry->second.routing_id != routing_id) {
      ++entry;
      continue;
    }
    RequeueFront(std::move(entry->second));
    entry = ledger_.erase(entry);
    ++batches;
  }
  auto it = workers_.find(routing_id);
  if (it != workers_.end()) it->second.in_flight = 0;
  return batches;
}

std::optional<Requeue> Dispatcher::OnReady(const std::string& routing_id, const WorkerReady& ready,
                                           SteadyClock::time_point now) {
  std::optional<Requeue> requeue;
  // Another routing id of the same worker id: a process that died and came
  // back (new session), or the same process on a new connection after its
  // old one went silent. Whatever was sent on the old one is lost with it.
  for (auto it = workers_.begin(); it != workers_.end(); ++it) {
    if (it->first != routing_id && it->second.worker_id == ready.worker_id) {
      requeue = DropWorker(it->first, it->second.session == ready.session
                                          ? "connected again (its old connection went silent)"
                                          : "replaced by a new process with the same worker id");
      break;
    }
  }
  if (ready.state == WorkerState::kLeaving) {
    if (workers_.contains(routing_id)) requeue = DropWorker(routing_id, "left");
    return requeue;
  }
  auto [it, inserted] = workers_.try_emplace(routing_id);
  WorkerView& w = it->second;
  if (inserted) {
    w.routing_id = routing_id;
    w.joined = now;
    ++stats_.workers_joined;
  }
  w.worker_id = ready.worker_id;
  w.host = ready.host;
  w.pid = ready.pid;
  w.session = ready.session;
  w.state = ready.state;
  w.credit = ready.state == WorkerState::kActive ? std::min(ready.credit, credit_cap_) : 0;
  w.last_seen = now;
  if (ready.state == WorkerState::kBlocked) {
    // It cannot deliver what it holds: that goes elsewhere now, and it stays
    // listed (with why, from its heartbeats) until it is active again.
    Requeue blocked;
    blocked.worker_id = w.worker_id;
    blocked.host = w.host;
    blocked.pid = w.pid;
    blocked.reason = "blocked: it cannot deliver results";
    blocked.batches = TakeBackFrom(routing_id);
    if (blocked.batches > 0 || !requeue) requeue = std::move(blocked);
  }
  return requeue;
}

size_t Dispatcher::live_workers() const {
  size_t live = 0;
  for (const auto& [routing_id, w] : workers_) {
    if (w.state != WorkerState::kBlocked) ++live;
  }
  return live;
}

bool Dispatcher::OnHeartbeat(const std::string& routing_id, const Heartbeat& heartbeat,
                             SteadyClock::time_point now) {
  auto it = workers_.find(routing_id);
  if (it == workers_.end()) return false;
  WorkerView& w = it->second;
  // The rate between two heartbeats (other messages also refresh last_seen).
  const double seconds = std::chrono::duration<double>(now - w.last_heartbeat).count();
  if (w.last_heartbeat != SteadyClock::time_point{} && seconds > 0 &&
      heartbeat.transactions_scored >= w.transactions_scored) {
    w.transactions_per_second =
        static_cast<double>(heartbeat.transactions_scored - w.transactions_scored) / seconds;
  }
  w.batches_scored = heartbeat.batches_scored;
  w.transactions_scored = heartbeat.transactions_scored;
  w.model_name = heartbeat.model_name;
  w.model_version = heartbeat.model_version;
  w.model_error = heartbeat.model_error;
  w.link_error = heartbeat.link_error;
  w.shadow_version = heartbeat.shadow_version;
  w.last_heartbeat = now;
  w.last_seen = now;
  return true;
}

void Dispatcher::OnDone(const std::string& routing_id, const BatchDone& done, SteadyClock::time_point now) {
  auto worker = workers_.find(routing_id);
  if (worker == workers_.end()) return;  // unknown: its heartbeat reply asks it to announce itself
  WorkerView& w = worker->second;
  w.last_seen = now;
  ++w.batches_done;
  ++stats_.batches_done;
  auto entry = ledger_.find(done.batch_id);
  if (entry != ledger_.end() && entry->second.routing_id == routing_id) {
    if (!done.refused.empty()) {
      // It could not decode the batch; no other worker will either.
      ++stats_.poisoned;
      ++stats_.refused;
      poisoned_.push_back(Poisoned{done.batch_id, std::move(entry->second.frame), entry->second.attempts,
                                   "worker " + w.worker_id + " refused it: " + done.refused,
                                   std::move(entry->second.return_to), entry->second.expires});
    }
    ledger_.erase(entry);
    if (w.in_flight > 0) --w.in_flight;
  }
  // Done with a batch that was taken back meanwhile still frees a slot.
  if (w.state == WorkerState::kActive) w.credit = std::min(w.credit + 1, credit_cap_);
}

std::optional<Dispatcher::Assignment> Dispatcher::Next() const {
  const std::deque<Entry>& queue = online_.empty() ? queue_ : online_;
  if (queue.empty()) return std::nullopt;
  const WorkerView* best = nullptr;
  for (const auto& [id, w] : workers_) {
    if (w.credit == 0 || w.state != WorkerState::kActive) continue;
    if (best == nullptr || w.credit > best->credit ||
        (w.credit == best->credit && w.last_sent < best->last_sent)) {
      best = &w;
    }
  }
  if (best == nullptr) return std::nullopt;
  return Assignment{best->routing_id, queue.front().batch_id, &queue.front().frame};
}

void Dispatcher::Sent(const Assignment& assignment, SteadyClock::time_point now) {
  std::deque<Entry>& queue = online_.empty() ? queue_ : online_;
  if (queue.empty() || queue.front().batch_id != assignment.batch_id) return;
  Entry entry = std::move(queue.front());
  queue.pop_front();
  entry.routing_id = assignment.routing_id;
  entry.deadline = now + batch_timeout_;
  ++entry.attempts;
  auto w = workers_.find(assignment.routing_id);
  if (w != workers_.end()) {
    if (w->second.credit > 0) --w->second.credit;
    ++w->second.in_flight;
    w->second.last_sent = now;
  }
  ++stats_.batches_sent;
  // A batch re-sent while an older copy is still assigned replaces it.
  auto old = ledger_.find(entry.batch_id);
  if (old != ledger_.end()) {
    auto previous = workers_.find(old->second.routing_id);
    if (previous != workers_.end() && previous->second.in_flight > 0) --previous->second.in_flight;
    ledger_.erase(old);
  }
  ledger_.emplace(entry.batch_id, std::move(entry));
}

std::optional<Requeue> Dispatcher::SendFailed(const std::string& routing_id, bool gone,
                                              SteadyClock::time_point /*now*/) {
  if (gone) return DropWorker(routing_id, "unreachable (its connection is gone)");
  auto w = workers_.find(routing_id);
  if (w != workers_.end()) w->second.credit = 0;
  return std::nullopt;
}

std::vector<Requeue> Dispatcher::Expire(SteadyClock::time_point now) {
  std::vector<Requeue> requeues;
  std::vector<std::string> silent;
  for (const auto& [id, w] : workers_) {
    if (now - w.last_seen > dead_after_) silent.push_back(id);
  }
  for (const std::string& id : silent) {
    const long long quiet_ms = MillisBetween(workers_.at(id).last_seen, now);
    requeues.push_back(DropWorker(id, "silent for " + std::to_string(quiet_ms) + " ms"));
  }
  // Overdue batches of workers that still look alive.
  std::map<std::string, Requeue> overdue;
  for (auto entry = ledger_.begin(); entry != ledger_.end();) {
    if (entry->second.deadline > now) {
      ++entry;
      continue;
    }
    const std::string routing_id = entry->second.routing_id;
    Requeue& r = overdue[routing_id];
    auto w = workers_.find(routing_id);
    if (w != workers_.end()) {
      r.worker_id = w->second.worker_id;
      r.host = w->second.host;
      r.pid = w->second.pid;
      if (w->second.in_flight > 0) --w->second.in_flight;
    }
    r.reason = "not done within " + std::to_string(batch_timeout_.count()) + " ms";
    ++r.batches;
    ++stats_.overdue;
    RequeueFront(std::move(entry->second));
    entry = ledger_.erase(entry);
  }
  for (auto& [id, r] : overdue) requeues.push_back(std::move(r));
  // Online batches whose caller has been answered with a timeout meanwhile.
  const size_t before = online_.size();
  std::erase_if(online_, [&](const Entry& entry) { return entry.expires <= now; });
  stats_.online_expired += before - online_.size();
  return requeues;
}

bool Dispatcher::WantsMore() const {
  size_t credit = 0;
  for (const auto& [id, w] : workers_) {
    if (w.state == WorkerState::kActive) credit += w.credit;
  }
  return credit > queued();
}

std::deque<Dispatcher::Entry>& Dispatcher::QueueOf(const Entry& entry) {
  return entry.return_to.empty() ? queue_ : online_;
}

std::vector<WorkerView> Dispatcher::Workers() const {
  std::vector<WorkerView> out;
  out.reserve(workers_.size());
  for (const auto& [id, w] : workers_) out.push_back(w);
  return out;
}

std::map<std::string, size_t> Dispatcher::OnlineByGateway() const {
  std::map<std::string, size_t> counts;
  for (const Entry& entry : online_) ++counts[entry.return_to];
  for (const auto& [id, entry] : ledger_) {
    if (!entry.return_to.empty() && !entry.answered) ++counts[entry.return_to];
  }
  return counts;
}

}  // namespace scorepipe
