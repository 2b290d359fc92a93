#include "local_cluster/supervisor.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <csignal>
#include <cstdint>
#include <fstream>
#include <utility>

#include "runtime/node.h"

namespace scorepipe {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kStopGrace = std::chrono::seconds(20);
constexpr int kTendIntervalMs = 100;

// A bridge on http-mq stops once the answer of its outstanding pull-n is
// journalled (the service may have popped messages for it): give it that long.
std::chrono::milliseconds BridgeStopGrace(const QueueConfig& queue) {
  if (queue.kind != QueueKind::kHttpMq) return kStopGrace;
  const auto pull = std::chrono::milliseconds(queue.pull_wait_ms + queue.http_timeout_ms);
  return std::max<std::chrono::milliseconds>(kStopGrace, pull + std::chrono::seconds(5));
}

long long Millis(Clock::duration d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

// The last non-empty line of the file at `path`, "" when there is none.
std::string LastLine(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return "";
  file.seekg(0, std::ios::end);
  const std::streamoff size = file.tellg();
  const std::streamoff from = std::max<std::streamoff>(0, size - 4096);
  file.seekg(from);
  std::string tail(static_cast<size_t>(size - from), '\0');
  file.read(tail.data(), static_cast<std::streamsize>(tail.size()));
  while (!tail.empty() && (tail.back() == '\n' || tail.back() == '\r')) tail.pop_back();
  const size_t start = tail.rfind('\n');
  return start == std::string::npos ? tail : tail.substr(start + 1);
}

std::string ExitText(int code) {
  return code < 0 ? "it could not be started" : "last exit code " + std::to_string(code);
}

}  // namespace

std::chrono::milliseconds RestartBackoff::OnExit(std::chrono::steady_clock::duration ran) {
  if (ran >= kQuickExit) {
    quick_exits_ = 0;
    return kFirstDelay;
  }
  ++quick_exits_;
  const int doublings = std::min(quick_exits_, 20);  // far past the cap already; no overflow
  return std::min<std::chrono::milliseconds>(kMaxDelay, kFirstDelay * (int64_t{1} << doublings));
}

Supervisor::Supervisor(SupervisorOptions options, const Topology& topology) : options_(std::move(options)) {
  auto node = [&](const std::string& name, const std::string& role, std::vector<std::string> extra) {
    Node n;
    n.name = name;
    n.worker = role == "worker";
    n.gateway = role == "gateway";
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
  if (options_.gateway) node("gateway", "gateway", {});
}

std::string Supervisor::LogPath(const Node& node) const {
  return options_.log_dir.empty() ? "" : options_.log_dir + "/" + node.name + ".log";
}

Status Supervisor::StartNode(Node& node) {
  Result<ChildProcess> child = ChildProcess::Start(node.argv, LogPath(node));
  if (!child.ok()) return child.status().WithContext("starting " + node.name);
  spdlog::info("started {} (pid {})", node.name, child->pid());
  node.process.emplace(std::move(child.value()));
  node.started_at = Clock::now();
  return Status::Ok();
}

void Supervisor::ScheduleRestart(Node& node, int code, Clock::time_point now) {
  const Clock::duration ran = node.process ? now - node.started_at : Clock::duration::zero();
  if (ran >= RestartBackoff::kQuickExit) node.stayed_up = true;
  const std::chrono::milliseconds delay = node.backoff.OnExit(ran);
  node.last_exit_code = code;
  node.restart_at = now + delay;
  const int quick = node.backoff.quick_exits();
  const std::string backing_off =
      quick >= 2 ? "; " + std::to_string(quick) + " quick exits in a row, backing off" : "";
  if (node.process) {
    spdlog::warn("{} (pid {}) exited with code {} after {} ms; restarting in {} ms{}", node.name,
                 node.process->pid(), code, Millis(ran), delay.count(), backing_off);
  } else {
    spdlog::warn("{}: trying again in {} ms{}", node.name, delay.count(), backing_off);
  }
  node.process.reset();
}

Status Supervisor::NothingCanWork() const {
  const auto cannot_start = [](const Node& n) {
    return !n.stayed_up && n.backoff.quick_exits() >= kGiveUpQuickExits;
  };
  const auto where = [&](const Node& n) {
    const std::string log = LogPath(n);
    if (log.empty()) return std::string("; see its lines above");
    const std::string last = LastLine(log);
    return "; see its log " + log + (last.empty() ? "" : " (last line: " + last + ")");
  };
  const std::string how = std::to_string(kGiveUpQuickExits) + " times in a row within " +
                          std::to_string(RestartBackoff::kQuickExit.count()) +
                          " ms of its start and never stayed up longer";
  int workers = 0;
  const Node* failing_worker = nullptr;
  int failing_workers = 0;
  for (const Node& n : nodes_) {
    if (n.worker) {
      ++workers;
      if (cannot_start(n)) {
        ++failing_workers;
        failing_worker = &n;
      }
    } else if (!n.gateway && cannot_start(n)) {
      return Status::Error(n.name + " cannot start: it exited " + how + " (" + ExitText(n.last_exit_code) +
                           "); the cluster cannot work without it, so every node is stopped" + where(n));
    }
  }
  if (workers > 0 && failing_workers == workers) {
    return Status::Error("no worker can start: each of the " + std::to_string(workers) +
                         " worker slots exited " + how + " (" + failing_worker->name + ": " +
                         ExitText(failing_worker->last_exit_code) + "); every node is stopped" +
                         where(*failing_worker));
  }
  return Status::Ok();
}

Status Supervisor::Tend() {
  const auto now = Clock::now();
  for (Node& node : nodes_) {
    if (node.process && node.process->Running()) {
      if (now - node.started_at >= RestartBackoff::kQuickExit) node.stayed_up = true;
      continue;
    }
    if (node.process) {
      ScheduleRestart(node, node.process->exit_code().value_or(-1), now);
      if (Status s = NothingCanWork(); !s.ok()) return s;
    }
    if (now < node.restart_at) continue;
    if (Status started = StartNode(node); !started.ok()) {
      // Counted as a quick exit: the program may be back (an upgrade in
      // progress) by the next try.
      spdlog::error("{}", started.message());
      ScheduleRestart(node, -1, now);
      if (Status s = NothingCanWork(); !s.ok()) return s;
    }
  }
  return Status::Ok();
}

void Supervisor::PassOnHangup() {
  const uint64_t reopens = LogReopenRequests();
  if (reopens == reopens_seen_) return;
  reopens_seen_ = reopens;
  int passed = 0;
  for (Node& node : nodes_) {
    if (node.process && node.process->Running()) {
      node.process->Signal(SIGHUP);
      ++passed;
    }
  }
  spdlog::info("SIGHUP: log reopened; passed on to {} running nodes", passed);
}

void Supervisor::StopAll() {
  // nodes_ is in start order (sink, ventilator, workers, bridge, gateway);
  // stopping gateway, bridge, ventilator, workers, sink lets every batch in
  // flight drain out.
  const auto named = [&](const std::string& name) -> Node* {
    for (Node& n : nodes_) {
      if (n.name == name) return &n;
    }
    return nullptr;
  };
  std::vector<Node*> order;
  for (const char* name : {"gateway", "bridge", "ventilator"}) {
    if (Node* n = named(name)) order.push_back(n);
  }
  for (Node& n : nodes_) {
    if (n.worker) order.push_back(&n);
  }
  if (Node* n = named("sink")) order.push_back(n);
  for (size_t i = 0; i < order.size(); ++i) {
    Node* node = order[i];
    if (!node->process || !node->process->Running()) continue;
    node->process->Signal(SIGTERM);
    // Workers stop together; every other role is awaited before the next one.
    const bool next_is_worker = i + 1 < order.size() && order[i + 1]->worker;
    if (node->worker && next_is_worker) continue;
    for (size_t j = 0; j <= i; ++j) {
      if (order[j]->process && !order[j]->process->WaitFor(order[j]->stop_grace)) {
        spdlog::error("{} did not stop within {} ms; killing it", order[j]->name,
                      order[j]->stop_grace.count());
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
    if (StopRequested()) break;
    PassOnHangup();
    status = Tend();
  }
  StopAll();
  return status;
}

}  // namespace scorepipe
