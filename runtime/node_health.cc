#include "runtime/node_health.h"

namespace scorepipe {

void NodeHealth::Started(std::string_view doing) {
  std::lock_guard<std::mutex> lock(mu_);
  started_ = true;
  doing_ = doing;
}

void NodeHealth::SetProblem(std::string_view name, std::string_view problem) {
  std::lock_guard<std::mutex> lock(mu_);
  if (problem.empty()) {
    if (auto it = problems_.find(name); it != problems_.end()) problems_.erase(it);
  } else {
    problems_[std::string(name)] = problem;
  }
}

void NodeHealth::Stopping() {
  std::lock_guard<std::mutex> lock(mu_);
  stopping_ = true;
}

NodeHealth::Report NodeHealth::Check(Clock::time_point now) const {
  Report r;
  const Clock::rep ticks = last_beat_ticks_.load(std::memory_order_relaxed);
  const Clock::time_point last_beat{Clock::duration(ticks)};
  if (ticks != 0 && now - last_beat > kStallAfter) {
    r.live = false;
    r.live_reason =
        "the main loop has not turned for " +
        std::to_string(std::chrono::duration_cast<std::chrono::seconds>(now - last_beat).count()) + " s";
  } else {
    r.live_reason = ticks != 0 ? "the main loop turns" : "starting";
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (stopping_) {
    r.ready_reason = "stopping";
  } else if (!started_) {
    r.ready_reason = "starting";
    for (const auto& [name, problem] : problems_) r.ready_reason += "; " + name + ": " + problem;
  } else if (!problems_.empty()) {
    for (const auto& [name, problem] : problems_) {
      if (!r.ready_reason.empty()) r.ready_reason += "; ";
      r.ready_reason += name + ": " + problem;
    }
  } else {
    r.ready = true;
    r.ready_reason = doing_;
  }
  return r;
}

NodeHealth& ProcessHealth() {
  static NodeHealth* health = new NodeHealth();  // never destroyed: HTTP threads may read it at exit
  return *health;
}

}  // namespace scorepipe
