#include "cli/supervisor.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <csignal>
#include <utility>

#include "proto/node.h"

namespace scorepipe {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kQuickFailure = std::chrono::seconds(3);  // an exit sooner than this after start
constexpr int kMaxQuickFailures = 5;
constexpr auto kStopGrace = std::chrono::seconds(20);
constexpr int kTendIntervalMs = 100;

// A bridge on http-mq stops once the answer of its outstanding pull-n is
// journalled (the service may have popped messages for it): give it that long.
std::chrono::milliseconds BridgeStopGrace(const QueueConfig& queue) {
  if (queue.kind != QueueKind::kHttpMq) return kStopGrace;
  const auto pull = std::chrono::milliseconds(queue.pull_wait_ms + queue.http_timeout_ms);
  return std::max<std::chrono::milliseconds>(kStopGrace, pull + std::chrono::seconds(5));
}

std::chrono::milliseconds RestartDelay(int quick_failures) {
  return std::chrono::milliseconds(std::min(5000, 100 << std::min(quick_failures, 6)));
}

}  // namespace

Supervisor::Supervisor(SupervisorOptions options, const Topology& topology) : options_(std::move(options)) {
  auto node = [&](const std::string& name, const std::string& role, std::vector<std::string> extra) {
    Node n;
    n.name = name;
    n.stop_grace = role == "bridge" ? BridgeStopGrace(topology.queue) : kStopGrace;
    n.argv = {options_.bin_dir + "/scorepipe-" + role, "-c", options_.config_path};
    if (!options_.log_level.empty()) {
      n.argv.push_back("--log-level");
      n.argv.push_back(options_.log_level);
    }
    n.argv.insert(n.argv.end(), extra.begin(), extra.end());
    nodes_.push_back(std::move(n));
  };
  node("sink", "sink", {});
  node("ventilator", "ventilator", {});
  for (int i = 1; i <= topology.workers.count; ++i) {
    std::string name = "worker-" + std::to_string(i);
    node(name, "worker", {"--id", HostName() + "-" + name});
  }
  node("bridge", "bridge", {});
}

Status Supervisor::StartNode(Node& node) {
  std::string log = options_.log_dir.empty() ? "" : options_.log_dir + "/" + node.name + ".log";
  Result<ChildProcess> child = ChildProcess::Start(node.argv, log);
  if (!child.ok()) return child.status().WithContext("starting " + node.name);
  spdlog::info("started {} (pid {})", node.name, child->pid());
  node.process.emplace(std::move(child.value()));
  node.started_at = Clock::now();
  return Status::Ok();
}

Status Supervisor::Tend() {
  const auto now = Clock::now();
  for (Node& node : nodes_) {
    if (node.process && node.process->Running()) continue;
    if (node.process) {
      // It died: note how, and schedule its restart.
      int code = node.process->exit_code().value_or(-1);
      node.quick_failures = now - node.started_at < kQuickFailure ? node.quick_failures + 1 : 0;
      if (node.quick_failures >= kMaxQuickFailures) {
        return Status::Error(node.name + " failed " + std::to_string(node.quick_failures) +
                             " times right after starting (last exit code " + std::to_string(code) +
                             "); see its log" +
                             (options_.log_dir.empty() ? "" : " " + options_.log_dir + "/" + node.name + ".log"));
      }
      auto delay = RestartDelay(node.quick_failures);
      spdlog::warn("{} (pid {}) exited with code {}; restarting in {} ms", node.name, node.process->pid(), code,
                   delay.count());
      node.process.reset();
      node.restart_at = now + delay;
    }
    if (now >= node.restart_at) {
      if (Status s = StartNode(node); !s.ok()) return s;
    }
  }
  return Status::Ok();
}

void Supervisor::StopAll() {
  // nodes_ is in start order (sink, ventilator, workers, bridge); stopping
  // bridge, ventilator, workers, sink lets every batch in flight drain out.
  std::vector<Node*> order;
  order.push_back(&nodes_.back());                    // bridge
  order.push_back(&nodes_[1]);                        // ventilator
  for (size_t i = 2; i + 1 < nodes_.size(); ++i) order.push_back(&nodes_[i]);  // workers
  order.push_back(&nodes_.front());                   // sink
  for (size_t i = 0; i < order.size(); ++i) {
    Node* node = order[i];
    if (!node->process || !node->process->Running()) continue;
    node->process->Signal(SIGTERM);
    // Workers stop together; every other role is awaited before the next one.
    const bool next_is_worker = i + 1 < order.size() && order[i + 1]->name.rfind("worker-", 0) == 0;
    if (node->name.rfind("worker-", 0) == 0 && next_is_worker) continue;
    for (size_t j = 0; j <= i; ++j) {
      if (order[j]->process && !order[j]->process->WaitFor(order[j]->stop_grace)) {
        spdlog::error("{} did not stop within {} ms; killing it", order[j]->name, order[j]->stop_grace.count());
        order[j]->process->Stop(std::chrono::milliseconds(0));
      }
    }
  }
  spdlog::info("all nodes stopped");
}

Status Supervisor::Run() {
  Status status = Status::Ok();
  for (Node& node : nodes_) {
    status = StartNode(node);
    if (!status.ok()) break;
  }
  while (status.ok() && !StopRequested()) {
    SleepUnlessStopped(kTendIntervalMs);
    if (!StopRequested()) status = Tend();
  }
  StopAll();
  return status;
}

}  // namespace scorepipe
