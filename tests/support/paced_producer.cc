#include "tests/support/paced_producer.h"

#include <algorithm>
#include <utility>

#include "queue/queue.h"
#include "training/synthetic.h"

namespace scorepipe::testing {

PacedProducer::PacedProducer(QueueConfig queue, uint64_t seed, size_t total,
                             std::chrono::milliseconds duration, size_t chunk)
    : queue_(std::move(queue)),
      seed_(seed),
      total_(total),
      duration_(duration),
      chunk_(std::max<size_t>(chunk, 1)) {
  transactions_.reserve(total);
}

PacedProducer::~PacedProducer() {
  Cancel();
  if (thread_.joinable()) thread_.join();
}

void PacedProducer::Start() {
  thread_ = std::thread([this] { Run(); });
}

void PacedProducer::Pause() {
  std::lock_guard<std::mutex> lock(mutex_);
  paused_ = true;
}

void PacedProducer::Resume() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    paused_ = false;
  }
  changed_.notify_all();
}

void PacedProducer::Cancel() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    cancelled_ = true;
  }
  changed_.notify_all();
}

Status PacedProducer::Join() {
  if (thread_.joinable()) thread_.join();
  return status_;
}

void PacedProducer::Run() {
  SyntheticTransactions generator(seed_, 1);
  Result<std::unique_ptr<Queue>> queue = OpenQueue(queue_);
  if (!queue.ok()) {
    status_ = queue.status();
    finished_at_ = std::chrono::steady_clock::now();
    done_ = true;
    return;
  }
  const size_t chunks = (total_ + chunk_ - 1) / chunk_;
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::string> messages;
  for (size_t chunk = 0; chunk < chunks; ++chunk) {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait_until(lock, start + duration_ * static_cast<int64_t>(chunk) / static_cast<int64_t>(chunks),
                        [&] { return cancelled_; });
    changed_.wait(lock, [&] { return !paused_ || cancelled_; });
    if (cancelled_) break;
    messages.clear();
    const size_t n = std::min(chunk_, total_ - chunk * chunk_);
    for (size_t i = 0; i < n; ++i) {
      LabelledTransaction t = generator.Next();
      messages.push_back(std::move(t.json));
      transactions_.push_back(std::move(t.parsed));
    }
    status_ = queue.value()->Push(messages);
    if (!status_.ok()) {
      transactions_.resize(transactions_.size() - n);
      break;
    }
    pushed_ += n;
  }
  finished_at_ = std::chrono::steady_clock::now();
  done_ = true;
}

}  // namespace scorepipe::testing
