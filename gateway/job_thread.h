// A thread that runs blocking jobs for an event loop, so that the loop never
// waits on Redis or on the disk: a job runs there with the State the thread
// owns (a TaskStore's Redis connection, a model registry) and posts what it
// found back to the loop.
//
// Jobs run one at a time, in the order posted. The destructor finishes the
// running job and drops the rest. Post() may be called from any thread;
// State is touched only by the job thread.
#ifndef SCOREPIPE_GATEWAY_JOB_THREAD_H_
#define SCOREPIPE_GATEWAY_JOB_THREAD_H_

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <utility>

namespace scorepipe {

template <typename State>
class JobThread {
 public:
  using Job = std::function<void(State&)>;

  // Builds the State from `args`, then starts the thread.
  template <typename... Args>
  explicit JobThread(Args&&... args) : state_(std::forward<Args>(args)...), thread_([this] { Loop(); }) {}
  ~JobThread() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    wake_.notify_one();
    thread_.join();
  }
  JobThread(const JobThread&) = delete;
  JobThread& operator=(const JobThread&) = delete;

  void Post(Job job) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      jobs_.push_back(std::move(job));
    }
    wake_.notify_one();
  }

 private:
  void Loop() {
    while (true) {
      Job job;
      {
        std::unique_lock<std::mutex> lock(mu_);
        wake_.wait(lock, [this] { return stop_ || !jobs_.empty(); });
        if (stop_) return;
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      job(state_);
    }
  }

  State state_;
  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<Job> jobs_;
  bool stop_ = false;
  std::thread thread_;  // last: starts once the rest is built
};

}  // namespace scorepipe

#endif  // SCOREPIPE_GATEWAY_JOB_THREAD_H_
