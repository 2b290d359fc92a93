#include "gateway/gateway.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <charconv>
#include <condition_variable>
#include <deque>
#include <fstream>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

#include "config/token_file.h"
#include "gateway/api.h"
#include "gateway/job_thread.h"
#include "gateway/model_admin.h"
#include "gateway/task_store.h"
#include "proto/build_info.h"
#include "proto/codec.h"
#include "proto/json_writer.h"
#include "proto/upstream_json.h"
#include "runtime/client_link.h"
#include "runtime/link_security.h"
#include "runtime/node.h"
#include "runtime/node_health.h"
#include "runtime/service_notify.h"
#include "scoring/feature_spec.h"
#include "scoring/model_watcher.h"

namespace scorepipe {
namespace {

namespace net = boost::asio;
using Clock = std::chrono::steady_clock;

constexpr auto kTick = std::chrono::milliseconds(10);
constexpr int kLinkHwm = 10000;

// A request waiting for its rows' results.
struct Call {
  enum class Kind { kScore, kInfer };
  Kind kind = Kind::kScore;
  HttpReply reply;
  ScoreItems items;                   // kScore
  InferRequest infer;                 // kInfer
  std::vector<ScoreResult> results;   // one per row sent
  std::vector<uint32_t> version_of;   // per row: index in `versions`
  std::vector<std::string> versions;  // the versions that scored its rows
  size_t remaining = 0;
  int64_t scored_at_us = 0;
  Clock::time_point deadline;
  bool done = false;

  uint32_t VersionIndex(const std::string& version) {
    for (uint32_t i = 0; i < versions.size(); ++i) {
      if (versions[i] == version) return i;
    }
    versions.push_back(version);
    return static_cast<uint32_t>(versions.size() - 1);
  }
};

// Rows [batch_offset, batch_offset + count) of a batch are rows
// [call_offset, call_offset + count) of `call`.
struct Segment {
  std::shared_ptr<Call> call;
  uint32_t call_offset = 0;
  uint32_t batch_offset = 0;
  uint32_t count = 0;
};

struct OpenBatch {
  TransactionBatch batch;
  std::vector<Segment> segments;
  size_t rows() const { return batch.rows(); }
};

struct SentBatch {
  std::vector<Segment> segments;
  size_t remaining = 0;
};

// The gateway's Redis calls (TaskStore) run on a JobThread (an event loop
// never waits on Redis). Jobs the destructor drops leave their tasks leased
// in Redis, for whoever takes them over.
using TaskRunner = JobThread<TaskStore>;
// Model administration (ModelAdmin) reads and writes the registry and loads
// models to check them: on a JobThread too.
using AdminRunner = JobThread<ModelAdmin>;

HttpAnswer JsonResponse(int status, std::string body) {
  HttpAnswer response;
  response.status = status;
  response.body = std::move(body);
  return response;
}

HttpAnswer Error(int status, std::string_view message) { return JsonResponse(status, ErrorJson(message)); }

HttpAnswer Unavailable(std::string_view message) {
  HttpAnswer response = Error(503, message);
  response.headers.emplace_back("Retry-After", "1");
  return response;
}

// The path of a target, without its query.
std::string_view PathOf(std::string_view target) { return target.substr(0, target.find('?')); }

// Splits "/a/b/c" into {"a","b","c"}.
std::vector<std::string_view> Split(std::string_view path) {
  std::vector<std::string_view> parts;
  size_t at = 0;
  while (at < path.size()) {
    if (path[at] == '/') {
      ++at;
      continue;
    }
    const size_t end = std::min(path.find('/', at), path.size());
    parts.push_back(path.substr(at, end - at));
    at = end;
  }
  return parts;
}

// {"name":..., "ready":..., "error":...}: a readiness answer (the status
// code says it; the body says why not).
std::string ReadyJson(std::string_view name, bool ready, std::string_view why) {
  std::string out;
  JsonWriter json(&out);
  json.BeginObject();
  if (!name.empty()) json.Key("name").String(name);
  json.Key("ready").Bool(ready);
  if (!ready) json.Key("error").String(why);
  json.EndObject();
  return out;
}

bool TokenEquals(std::string_view a, std::string_view b) {
  // Constant time in the token's length: no early exit on the first difference.
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

}  // namespace

struct Gateway::Impl {
  Impl(const Topology& t, zmq::context_t& zmq_context, std::string node_id, int shard_index,
       std::shared_ptr<ConnectionBudget> connection_budget, GatewayMetrics& gateway_metrics)
      : topology(t),
        context(zmq_context),
        id(std::move(node_id)),
        shard(shard_index),
        session(NewSession()),
        batch_id_base(NewSession() & 0xffffffff00000000ull),
        max_batch(static_cast<size_t>(std::min(t.gateway.max_batch_size, t.bridge.batch_size))),
        parser(static_cast<size_t>(t.bridge.max_message_bytes)),
        tick(io),
        flush_timer(io),
        budget(connection_budget),
        metrics(gateway_metrics),
        server(
            io, ServerOptions(t, shard_index),
            [this](HttpCall&& r, HttpReply reply) { Handle(std::move(r), std::move(reply)); },
            std::move(connection_budget)) {}

  static HttpServerOptions ServerOptions(const Topology& t, int shard_index) {
    const GatewayConfig& g = t.gateway;
    HttpServerOptions o;
    o.address = g.address;
    o.port = g.port;
    o.reuse_port = g.threads > 1 || shard_index > 0;
    o.max_header_bytes = static_cast<size_t>(g.max_header_bytes);
    o.max_body_bytes = static_cast<size_t>(g.max_body_bytes);
    o.read_timeout = std::chrono::milliseconds(g.read_timeout_ms);
    o.idle_timeout = std::chrono::milliseconds(g.idle_timeout_ms);
    o.max_concurrent_requests =
        std::max<size_t>(1, static_cast<size_t>(g.max_concurrent_requests) / static_cast<size_t>(g.threads));
    if (g.security == GatewaySecurity::kTls) {
      o.tls_cert_file = g.tls_cert_file;
      o.tls_key_file = g.tls_key_file;
    }
    return o;
  }

  Status Start();
  Status Run();

  // --- HTTP ---
  void Handle(HttpCall&& request, HttpReply reply);
  void Score(HttpCall&& request, HttpReply reply);
  // A parsed upstream-format call: scored, or answered at once.
  void StartScoring(const std::shared_ptr<Call>& call);
  // Asynchronous tasks (TaskStore): accept, look up, score one (leased).
  void CreateTask(HttpCall&& request, HttpReply reply);
  void GetTask(std::string id, HttpReply reply);
  // Model administration (ModelAdmin), on its thread; `by` the admin token's name.
  void Administer(HttpCall&& request, const std::vector<std::string_view>& parts, const std::string& by,
                  HttpReply reply);
  void ScoreTask(const std::string& id, ScoreItems items);
  void ReclaimTasks();
  void Infer(HttpCall&& request, HttpReply reply, std::string_view version);
  // Whether the model is this one; answers 404 when not.
  bool KnownModel(std::string_view name, std::optional<std::string_view> version, HttpReply& reply);
  bool Ready(std::string* why) const;
  // Why the head cannot take work now.
  std::string HeadProblem() const { return head_problem.empty() ? "the head does not answer" : head_problem; }

  // --- batching ---
  void Submit(const std::shared_ptr<Call>& call, size_t rows);
  void AddTo(OpenBatch& open, const std::shared_ptr<Call>& call, size_t from, size_t count);
  void ScheduleFlush();
  void Flush();
  // How many batches this gateway keeps with the head at once: every live
  // worker's credit.
  size_t MostInFlight() const;
  // A batch was answered: sends what waited for it.
  void Answered();
  void Send(OpenBatch& open);
  // Answers every call of `segments` not answered yet; how many it answered.
  size_t Fail(const std::vector<Segment>& segments, const HttpAnswer& response);
  // Answers the calls of `segments` 503 for want of a head, and counts them.
  void FailForHead(const std::vector<Segment>& segments, const std::string& why);
  void Complete(Call& call);

  // --- head link ---
  Status OpenLink();
  void WatchLink();
  void DrainLink();
  void OnFrame(const zmq::message_t& frame);
  void OnResults(ResultBatch batch);
  void OnTick();
  void HeadDown(const std::string& why);

  const Topology& topology;
  zmq::context_t& context;
  const std::string id;
  const int shard;
  const uint64_t session;
  const uint64_t batch_id_base;
  const size_t max_batch;
  TransactionParser parser;
  net::io_context io;
  net::steady_timer tick;
  net::steady_timer flush_timer;
  std::shared_ptr<ConnectionBudget> budget;
  GatewayMetrics& metrics;
  HttpServer server;
  GatewayStats stats;

  LinkSecurity security;
  std::optional<ClientLink> link;
  std::optional<net::posix::stream_descriptor> link_fd;
  zmq::socket_t* watched = nullptr;  // the socket link_fd belongs to
  bool draining_posted = false;

  std::vector<std::string> tokens;
  std::vector<AdminToken> admin_tokens;  // empty: model administration is off
  std::vector<std::string> feature_names;
  uint32_t feature_width = 0;

  // What the head said last.
  HeadStatus head;
  bool head_up = false;
  Clock::time_point head_heard{};
  Clock::time_point next_heartbeat{};
  uint64_t heartbeat_sequence = 0;
  std::string head_problem = "the head has not answered yet";

  OpenBatch open_transactions;
  OpenBatch open_rows;
  bool flush_scheduled = false;
  bool held_for_credit = false;  // open rows wait for an answer (Flush)
  uint64_t next_batch = 0;
  std::unordered_map<uint64_t, SentBatch> sent;
  std::deque<std::weak_ptr<Call>> by_deadline;  // deadlines never decrease
  Clock::time_point next_reclaim{};
  // Last: destroyed first, so that no job runs while the rest goes.
  std::unique_ptr<TaskRunner> tasks;   // asynchronous tasks; null without a Redis queue
  std::unique_ptr<AdminRunner> admin;  // model administration; null without admin tokens
};

// ---------------------------------------------------------------------------
// Start and run

Status Gateway::Impl::Start() {
  const GatewayConfig& g = topology.gateway;
  if (g.security == GatewaySecurity::kTls) {
    if (g.tls_cert_file.empty() || g.tls_key_file.empty() || g.tokens_file.empty()) {
      return Status::Error(
          "gateway.security is tls: set gateway.tls_cert_file, gateway.tls_key_file and gateway.tokens_file "
          "(or gateway.security: none for a single-host demo)");
    }
    Result<std::vector<std::string>> read = LoadTokenFile(g.tokens_file);
    if (!read.ok()) return Status::Error("gateway.tokens_file: " + read.status().message());
    tokens = std::move(read).value();
  } else if (shard == 0) {
    spdlog::warn("gateway.security is none: plain HTTP without tokens, for a single-host demo only");
  }
  if (!g.admin_tokens_file.empty()) {
    if (topology.model.registry.empty()) {
      return Status::Error(
          "gateway.admin_tokens_file is set, but model administration works on a registry and "
          "model.registry is not set (or leave gateway.admin_tokens_file empty)");
    }
    Result<std::vector<AdminToken>> read = LoadAdminTokenFile(g.admin_tokens_file);
    if (!read.ok()) return Status::Error("gateway.admin_tokens_file: " + read.status().message());
    admin_tokens = std::move(read).value();
    admin = std::make_unique<AdminRunner>(topology.model.registry);
  }
  // The feature spec the tensor form follows: the live version's.
  Result<ModelConfig> model = ResolveModel(topology.model);
  if (!model.ok()) return model.status();
  Result<FeatureSpec> spec = LoadFeatureSpecFile(model->features);
  if (!spec.ok()) return spec.status();
  for (const FeatureDef& feature : spec->features) feature_names.push_back(feature.name);
  feature_width = static_cast<uint32_t>(feature_names.size());
  if (topology.queue.kind != QueueKind::kHttpMq) {
    TaskStoreOptions options;
    options.redis = topology.queue.redis;
    options.lease_ms = topology.queue.inflight_timeout_ms;
    options.max_attempts = topology.queue.max_deliveries;
    options.ttl_s = topology.gateway.task_ttl_s;
    tasks = std::make_unique<TaskRunner>(std::move(options));
  }
  if (Status s = OpenLink(); !s.ok()) return s;
  if (Status s = server.Start(); !s.ok()) return s;
  return Status::Ok();
}

Status Gateway::Impl::OpenLink() {
  Result<LinkSecurity> loaded = LinkSecurity::Load(topology.security);
  if (!loaded.ok()) return loaded.status();
  security = std::move(loaded).value();
  const std::string routing_id = id + "/" + std::to_string(shard) + "#" + std::to_string(session);
  link.emplace(context, zmq::socket_type::dealer, security, topology.ventilator.gateways.connect,
               "the ventilator's gateway endpoint", [routing_id](zmq::socket_t& socket) {
                 socket.set(zmq::sockopt::routing_id, routing_id);
                 socket.set(zmq::sockopt::sndhwm, kLinkHwm);
                 socket.set(zmq::sockopt::rcvhwm, kLinkHwm);
                 socket.set(zmq::sockopt::linger, 0);
                 socket.set(zmq::sockopt::immediate, true);  // no queueing toward a head not connected
               });
  if (Status s = link->Open(); !s.ok()) return s;
  WatchLink();
  return Status::Ok();
}

// Registers the link socket's descriptor with the event loop (again after
// the link rebuilt its socket).
void Gateway::Impl::WatchLink() {
  if (watched == &link->socket() && link_fd) return;
  if (link_fd) {
    link_fd->cancel();
    link_fd->close();
  }
  watched = &link->socket();
  const int fd = link->socket().get(zmq::sockopt::fd);
  link_fd.emplace(io, ::dup(fd));  // a copy: closing it leaves ZeroMQ's own
  struct Waiter {
    Impl* self;
    net::posix::stream_descriptor* fd;
    void operator()(const boost::system::error_code& ec) const {
      if (ec || fd != &*self->link_fd) return;  // cancelled, or replaced
      self->DrainLink();
      fd->async_wait(net::posix::stream_descriptor::wait_read, *this);
    }
  };
  link_fd->async_wait(net::posix::stream_descriptor::wait_read, Waiter{this, &*link_fd});
  DrainLink();
}

// Reads every frame the link holds. ZeroMQ's descriptor signals an edge, so
// this runs after every wake-up and after every send.
void Gateway::Impl::DrainLink() {
  zmq::socket_t& socket = link->socket();
  for (int i = 0; i < 4096; ++i) {
    if ((socket.get(zmq::sockopt::events) & ZMQ_POLLIN) == 0) return;
    zmq::message_t frame;
    if (!socket.recv(frame, zmq::recv_flags::dontwait)) return;
    OnFrame(frame);
  }
  // More than a turn's worth: go on after the HTTP side had its turn.
  net::post(io, [this] { DrainLink(); });
}

void Gateway::Impl::OnFrame(const zmq::message_t& frame) {
  Result<MessageKind> kind = PeekKind(FrameView(frame));
  if (!kind.ok()) {
    spdlog::warn("gateway: refusing a {}-byte frame from the head: {}", frame.size(),
                 kind.status().message());
    return;
  }
  if (kind.value() == MessageKind::kHeadStatus) {
    Result<HeadStatus> status = DecodeHeadStatus(FrameView(frame));
    if (!status.ok()) return;
    if (!head_up) spdlog::info("gateway: the head answers ({} live workers)", status->live_workers);
    head = std::move(status).value();
    head_up = true;
    head_heard = Clock::now();
    head_problem.clear();
    return;
  }
  if (kind.value() != MessageKind::kResultBatch) return;
  Result<ResultBatch> batch = DecodeResultBatch(FrameView(frame), MaxBatchFrameBytes(max_batch));
  if (!batch.ok()) {
    spdlog::warn("gateway: refusing results from the head: {}", batch.status().message());
    return;
  }
  OnResults(std::move(batch).value());
}

void Gateway::Impl::OnResults(ResultBatch batch) {
  ++stats.results;
  uint64_t key = 0;
  const auto [end, ec] = std::from_chars(batch.lease.data(), batch.lease.data() + batch.lease.size(), key);
  if (ec != std::errc() || end != batch.lease.data() + batch.lease.size()) return;
  auto it = sent.find(key);
  if (it == sent.end()) return;  // answered already, or its callers gave up
  SentBatch& record = it->second;
  const uint32_t base = batch.part.whole() ? 0 : batch.part.begin;
  for (size_t i = 0; i < batch.results.size(); ++i) {
    const uint32_t position = base + static_cast<uint32_t>(i);
    auto segment = std::find_if(record.segments.begin(), record.segments.end(), [&](const Segment& s) {
      return position >= s.batch_offset && position < s.batch_offset + s.count;
    });
    if (segment == record.segments.end()) continue;
    if (record.remaining > 0) --record.remaining;
    Call& call = *segment->call;
    if (call.done) continue;
    const size_t row = segment->call_offset + (position - segment->batch_offset);
    call.results[row] = std::move(batch.results[i]);
    call.version_of[row] = call.VersionIndex(batch.model_version);
    call.scored_at_us = std::max(call.scored_at_us, batch.scored_at_us);
    if (--call.remaining == 0) Complete(call);
  }
  if (record.remaining == 0) {
    sent.erase(it);
    Answered();
  }
}

Status Gateway::Impl::Run() {
  tick.expires_after(kTick);
  tick.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) OnTick();
  });
  io.run();
  return Status::Ok();
}

void Gateway::Impl::OnTick() {
  const auto now = Clock::now();
  if (StopRequested()) {
    server.Stop();
    // Whatever still waits gets its answer: the gateway is going away.
    for (auto& [key, record] : sent) Fail(record.segments, Unavailable("the gateway is stopping"));
    sent.clear();
    if (link_fd) {
      link_fd->cancel();
      link_fd->close();
    }
    io.stop();
    return;
  }
  if (shard == 0) {
    NotifyAlive();
    ProcessHealth().Beat();
    metrics.HeadUp(head_up);
    metrics.Connections(budget->held());
    std::string why;
    ProcessHealth().SetProblem("links", Ready(&why) ? "" : "the head: " + why);
  }
  if (link->Tend()) WatchLink();
  const auto state = link->State();
  const auto dead_after = std::chrono::milliseconds(static_cast<int64_t>(topology.heartbeat.interval_ms) *
                                                    topology.heartbeat.liveness);
  if (head_up && state == ClientLink::LinkState::kConnecting) {
    HeadDown("the connection to the head dropped");
  } else if (head_up && now - head_heard > dead_after) {
    HeadDown("the head has not answered for " + std::to_string(dead_after.count()) + " ms");
  } else if (state == ClientLink::LinkState::kRefused) {
    if (head_up) HeadDown(LinkProblem(*link));
    head_problem = LinkProblem(*link);
  }
  if (now >= next_heartbeat) {
    next_heartbeat = now + std::chrono::milliseconds(topology.heartbeat.interval_ms);
    Heartbeat beat;
    beat.sender = id;
    beat.host = HostName();
    beat.pid = static_cast<int64_t>(::getpid());
    beat.session = session;
    beat.sequence = ++heartbeat_sequence;
    beat.sent_at_us = NowUnixMicros();
    const std::string encoded = Encode(beat);
    link->socket().send(zmq::buffer(encoded), zmq::send_flags::dontwait);
    DrainLink();
  }
  // Tasks whose lease ran out (a gateway died with them, or the head was
  // down): a few times per lease.
  if (tasks && head_up && now >= next_reclaim) {
    next_reclaim = now + std::chrono::milliseconds(std::max(100, topology.queue.inflight_timeout_ms / 4));
    ReclaimTasks();
  }
  // Requests past their time.
  while (!by_deadline.empty()) {
    std::shared_ptr<Call> call = by_deadline.front().lock();
    if (call && !call->done && call->deadline > now) break;
    by_deadline.pop_front();
    if (!call || call->done) continue;
    ++stats.timeouts;
    metrics.TimedOut();
    call->done = true;
    call->reply(Error(504, "no answer within gateway.request_timeout_ms (" +
                               std::to_string(topology.gateway.request_timeout_ms) + " ms)"));
  }
  // Forget batches whose callers all have their answers.
  std::erase_if(sent, [](const auto& entry) {
    return std::all_of(entry.second.segments.begin(), entry.second.segments.end(),
                       [](const Segment& s) { return s.call->done; });
  });
  Answered();
  tick.expires_after(kTick);
  tick.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) OnTick();
  });
}

void Gateway::Impl::HeadDown(const std::string& why) {
  spdlog::warn("gateway: {}: answering 503 until it answers again", why);
  head_up = false;
  head_problem = why;
  for (auto& [key, record] : sent) FailForHead(record.segments, why);
  sent.clear();
}

bool Gateway::Impl::Ready(std::string* why) const {
  if (!head_up) {
    *why = HeadProblem();
    return false;
  }
  if (head.live_workers == 0) {
    *why = "no live worker";
    return false;
  }
  if (head.model_versions.empty()) {
    *why = "no live worker has reported its model yet";
    return false;
  }
  return true;
}

// ---------------------------------------------------------------------------
// Batching

void Gateway::Impl::Submit(const std::shared_ptr<Call>& call, size_t rows) {
  if (!head_up) {  // answered at once, not batched
    FailForHead({Segment{call, 0, 0, static_cast<uint32_t>(rows)}}, HeadProblem());
    return;
  }
  call->results.resize(rows);
  call->version_of.assign(rows, 0);
  call->remaining = rows;
  call->deadline = Clock::now() + std::chrono::milliseconds(topology.gateway.request_timeout_ms);
  by_deadline.push_back(call);
  OpenBatch& open =
      call->kind == Call::Kind::kInfer && call->infer.feature_width > 0 ? open_rows : open_transactions;
  if (&open == &open_rows && open.rows() > 0 && open.batch.feature_width != call->infer.feature_width)
    Send(open);
  size_t from = 0;
  while (from < rows) {
    size_t room = max_batch - open.rows();
    if (&open == &open_rows) {
      const size_t width = call->infer.feature_width;
      room = std::min(room, kMaxBatchFeatures / width - open.rows());
    }
    const size_t count = std::min(room, rows - from);
    AddTo(open, call, from, count);
    from += count;
    if (open.rows() >= max_batch) Send(open);
  }
  ScheduleFlush();
}

void Gateway::Impl::AddTo(OpenBatch& open, const std::shared_ptr<Call>& call, size_t from, size_t count) {
  const auto batch_offset = static_cast<uint32_t>(open.rows());
  if (call->kind == Call::Kind::kScore || call->infer.feature_width == 0) {
    const std::vector<Transaction>& txs =
        call->kind == Call::Kind::kScore ? call->items.transactions : call->infer.transactions;
    open.batch.transactions.insert(open.batch.transactions.end(),
                                   txs.begin() + static_cast<std::ptrdiff_t>(from),
                                   txs.begin() + static_cast<std::ptrdiff_t>(from + count));
  } else {
    const size_t width = call->infer.feature_width;
    open.batch.feature_width = static_cast<uint32_t>(width);
    const float* first = call->infer.features.data() + from * width;
    open.batch.features.insert(open.batch.features.end(), first, first + count * width);
  }
  open.segments.push_back(
      Segment{call, static_cast<uint32_t>(from), batch_offset, static_cast<uint32_t>(count)});
}

void Gateway::Impl::ScheduleFlush() {
  if (flush_scheduled || (open_transactions.rows() == 0 && open_rows.rows() == 0)) return;
  flush_scheduled = true;
  const int delay_us = topology.gateway.max_queue_delay_us;
  if (delay_us == 0) {
    net::post(io, [this] { Flush(); });
    return;
  }
  flush_timer.expires_after(std::chrono::microseconds(delay_us));
  flush_timer.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) Flush();
  });
}

void Gateway::Impl::Flush() {
  flush_scheduled = false;
  // Adaptive batching: while every worker's credit is taken by this
  // gateway's batches, the rows wait for the next answer and go in one
  // larger batch then (Send() of a full batch does not wait). At low rates
  // nothing waits; under load batches grow by themselves.
  if (sent.size() >= MostInFlight()) {
    held_for_credit = open_transactions.rows() > 0 || open_rows.rows() > 0;
    return;
  }
  held_for_credit = false;
  if (open_transactions.rows() > 0) Send(open_transactions);
  if (open_rows.rows() > 0) Send(open_rows);
}

size_t Gateway::Impl::MostInFlight() const {
  return std::max<size_t>(
      1, static_cast<size_t>(head.live_workers) * static_cast<size_t>(topology.workers.credit));
}

void Gateway::Impl::Answered() {
  if (held_for_credit && sent.size() < MostInFlight()) Flush();
}

void Gateway::Impl::Send(OpenBatch& open) {
  OpenBatch batch = std::move(open);
  open = OpenBatch{};
  if (!head_up) {
    FailForHead(batch.segments, HeadProblem());
    return;
  }
  const uint64_t key = batch_id_base + (++next_batch & 0xffffffffull);
  batch.batch.batch_id = key;
  batch.batch.online = true;
  batch.batch.lease = std::to_string(key);
  batch.batch.created_at_us = NowUnixMicros();
  const std::string encoded = Encode(batch.batch);
  bool queued = false;
  try {
    queued = link->socket().send(zmq::buffer(encoded), zmq::send_flags::dontwait).has_value();
  } catch (const zmq::error_t& e) {
    spdlog::warn("gateway: sending a batch to the head failed: {}", e.what());
  }
  if (!queued) {
    Fail(batch.segments, Unavailable("the link to the head is full or down"));
    return;
  }
  ++stats.batches_sent;
  stats.rows_sent += batch.rows();
  metrics.BatchSent(batch.rows());
  SentBatch& record = sent[key];
  record.remaining = batch.rows();
  record.segments = std::move(batch.segments);
  if (!draining_posted) {
    draining_posted = true;
    net::post(io, [this] {
      draining_posted = false;
      DrainLink();
    });
  }
}

size_t Gateway::Impl::Fail(const std::vector<Segment>& segments, const HttpAnswer& response) {
  size_t answered = 0;
  for (const Segment& segment : segments) {
    Call& call = *segment.call;
    if (call.done) continue;
    call.done = true;
    call.reply(response);
    ++answered;
  }
  return answered;
}

void Gateway::Impl::FailForHead(const std::vector<Segment>& segments, const std::string& why) {
  const size_t answered = Fail(segments, Unavailable(why));
  stats.head_down += answered;
  metrics.HeadDown(answered);
}

void Gateway::Impl::Complete(Call& call) {
  call.done = true;
  const std::string scored_at = FormatIso8601Millis(call.scored_at_us);
  if (call.kind == Call::Kind::kScore) {
    std::vector<std::string_view> versions(call.results.size());
    for (size_t i = 0; i < versions.size(); ++i) versions[i] = call.versions[call.version_of[i]];
    int status = 200;
    std::string body = ScoreResponseJson(call.items, call.results, versions,
                                         head.model_name.empty() ? topology.model.name : head.model_name,
                                         scored_at, &status);
    call.reply(JsonResponse(status, std::move(body)));
    return;
  }
  for (size_t i = 0; i < call.results.size(); ++i) {
    if (!call.results[i].error.empty()) {
      call.reply(Error(500, "row " + std::to_string(i) + ": " + call.results[i].error));
      return;
    }
  }
  // The version that scored the rows. A request split over batches during a
  // roll-out may have been scored by two: the answer names the greatest by
  // name (the protocol's answer has room for one).
  const std::string& version = *std::max_element(call.versions.begin(), call.versions.end());
  call.reply(JsonResponse(200, InferResponseJson(call.infer, call.results, topology.model.name, version)));
}

// ---------------------------------------------------------------------------
// Routes

// Which metrics bucket a path is (the route decides what it is).
ApiEndpoint EndpointOf(const std::vector<std::string_view>& parts) {
  if (parts.size() == 2 && parts[0] == "v1" && parts[1] == "score") return ApiEndpoint::kScore;
  if (parts.empty() || parts[0] != "v2") return ApiEndpoint::kOther;
  if (parts.size() >= 2 && parts[1] == "health") return ApiEndpoint::kHealth;
  if (!parts.empty() && parts.back() == "infer") return ApiEndpoint::kInfer;
  return ApiEndpoint::kMetadata;
}

void Gateway::Impl::Handle(HttpCall&& request, HttpReply answer) {
  ++stats.requests;
  const std::string_view path = PathOf(request.target);
  const std::vector<std::string_view> parts = Split(path);
  HttpReply reply = [this, endpoint = EndpointOf(parts), arrived = Clock::now(),
                     answer = std::move(answer)](HttpAnswer response) {
    metrics.Answered(endpoint, response.status,
                     std::chrono::duration<double>(Clock::now() - arrived).count());
    answer(std::move(response));
  };
  // Health first: a load balancer's probes need no token.
  if (parts.size() == 3 && parts[0] == "v2" && parts[1] == "health") {
    if (request.method != "GET") return reply(Error(405, "use GET"));
    if (parts[2] == "live") return reply(JsonResponse(200, "{\"live\":true}"));
    if (parts[2] == "ready") {
      std::string why;
      if (Ready(&why)) return reply(JsonResponse(200, ReadyJson({}, true, {})));
      return reply(JsonResponse(400, ReadyJson({}, false, why)));
    }
  }
  constexpr std::string_view kBearer = "Bearer ";
  const std::string_view given = request.authorization;
  const bool bearer = given.size() > kBearer.size() && given.substr(0, kBearer.size()) == kBearer;
  const std::string_view token = bearer ? given.substr(kBearer.size()) : std::string_view();
  const AdminToken* admin_token = nullptr;
  if (bearer) {
    for (const AdminToken& t : admin_tokens) {
      if (TokenEquals(t.token, token)) admin_token = &t;
    }
  }
  const bool known = admin_token != nullptr ||
                     (bearer && std::any_of(tokens.begin(), tokens.end(),
                                            [&](const std::string& t) { return TokenEquals(t, token); }));
  auto unauthorized = [&] {
    ++stats.unauthorized;
    metrics.Unauthorized();
    HttpAnswer response =
        Error(401, bearer ? "unknown bearer token" : "no bearer token: send Authorization: Bearer <token>");
    response.headers.emplace_back("WWW-Authenticate", "Bearer");
    reply(std::move(response));
  };
  // Model administration: an admin token always, whatever gateway.security says.
  if (IsAdminPath(parts)) {
    if (!admin) {
      return reply(
          Error(403, "model administration is off: set gateway.admin_tokens_file (and model.registry)"));
    }
    if (admin_token == nullptr) {
      if (known)
        return reply(Error(403, "this token may not administer models (not in gateway.admin_tokens_file)"));
      return unauthorized();
    }
    return Administer(std::move(request), parts, admin_token->name, std::move(reply));
  }
  if (topology.gateway.security == GatewaySecurity::kTls && !known) return unauthorized();
  if (parts.size() == 2 && parts[0] == "v1" && parts[1] == "score") {
    if (request.method != "POST") return reply(Error(405, "use POST"));
    return Score(std::move(request), std::move(reply));
  }
  if (parts.size() >= 2 && parts.size() <= 3 && parts[0] == "v1" && parts[1] == "tasks") {
    if (!tasks) {
      return reply(
          Error(501, "asynchronous tasks need the queue's Redis (queue.kind redis-list or redis-stream)"));
    }
    if (parts.size() == 2) {
      if (request.method != "POST") return reply(Error(405, "use POST"));
      return CreateTask(std::move(request), std::move(reply));
    }
    if (request.method != "GET") return reply(Error(405, "use GET"));
    return GetTask(std::string(parts[2]), std::move(reply));
  }
  if (parts.size() == 1 && parts[0] == "v2") {
    if (request.method != "GET") return reply(Error(405, "use GET"));
    return reply(JsonResponse(200, ServerMetadataJson(ThisBuild().version)));
  }
  if (parts.size() >= 3 && parts[0] == "v2" && parts[1] == "models") {
    const std::string_view name = parts[2];
    std::optional<std::string_view> version;
    size_t rest = 3;
    if (parts.size() >= 5 && parts[3] == "versions") {
      version = parts[4];
      rest = 5;
    }
    const std::string_view action = parts.size() == rest + 1 ? parts[rest] : std::string_view();
    if (parts.size() > rest + 1) return reply(Error(404, "no such endpoint: " + std::string(path)));
    if (!KnownModel(name, version, reply)) return;
    if (action.empty()) {
      if (request.method != "GET") return reply(Error(405, "use GET"));
      return reply(JsonResponse(200, ModelMetadataJson(name, head.model_versions, feature_names)));
    }
    if (action == "ready") {
      if (request.method != "GET") return reply(Error(405, "use GET"));
      std::string why;
      const bool ready = Ready(&why);
      return reply(JsonResponse(ready ? 200 : 400, ReadyJson(name, ready, why)));
    }
    if (action == "infer") {
      if (request.method != "POST") return reply(Error(405, "use POST"));
      return Infer(std::move(request), std::move(reply), version.value_or(std::string_view()));
    }
  }
  reply(Error(404, "no such endpoint: " + std::string(path)));
}

bool Gateway::Impl::KnownModel(std::string_view name, std::optional<std::string_view> version,
                               HttpReply& reply) {
  if (name != topology.model.name) {
    reply(Error(404,
                "no model '" + std::string(name) + "'; this cluster serves '" + topology.model.name + "'"));
    return false;
  }
  if (version && std::find(head.model_versions.begin(), head.model_versions.end(), *version) ==
                     head.model_versions.end()) {
    std::string live;
    for (const std::string& v : head.model_versions) live += (live.empty() ? "" : ", ") + v;
    reply(Error(404, "model '" + std::string(name) + "' has no version '" + std::string(*version) +
                         "' in service (serving: " + (live.empty() ? "none" : live) + ")"));
    return false;
  }
  return true;
}

void Gateway::Impl::Score(HttpCall&& request, HttpReply reply) {
  auto call = std::make_shared<Call>();
  call->kind = Call::Kind::kScore;
  if (auto error = ParseScoreBody(request.body, static_cast<size_t>(topology.gateway.max_request_items),
                                  parser, &call->items)) {
    return reply(Error(error->status, error->message));
  }
  call->reply = std::move(reply);
  StartScoring(call);
}

void Gateway::Impl::StartScoring(const std::shared_ptr<Call>& call) {
  if (call->items.transactions.empty()) {
    // Nothing valid to score: every item has its reason.
    int status = 422;
    call->done = true;
    call->reply(
        JsonResponse(status, ScoreResponseJson(call->items, {}, {}, topology.model.name, "", &status)));
    return;
  }
  Submit(call, call->items.transactions.size());
}

void Gateway::Impl::CreateTask(HttpCall&& request, HttpReply reply) {
  ScoreItems items;
  if (auto error = ParseScoreBody(request.body, static_cast<size_t>(topology.gateway.max_request_items),
                                  parser, &items)) {
    return reply(Error(error->status, error->message));
  }
  // Recorded in Redis first: only a recorded task is answered 202.
  tasks->Post([this, body = std::move(request.body), items = std::move(items),
               reply = std::move(reply)](TaskStore& store) mutable {
    Result<std::string> id = store.Create(body, NowUnixMicros() / 1000);
    net::post(io, [this, id = std::move(id), items = std::move(items), reply = std::move(reply)]() mutable {
      if (!id.ok()) return reply(Unavailable(id.status().message()));
      std::string out;
      JsonWriter(&out)
          .BeginObject()
          .Key("task_id")
          .String(id.value())
          .Key("status")
          .String("PENDING")
          .EndObject();
      reply(JsonResponse(202, std::move(out)));
      ScoreTask(id.value(), std::move(items));
    });
  });
}

void Gateway::Impl::Administer(HttpCall&& request, const std::vector<std::string_view>& parts,
                               const std::string& by, HttpReply reply) {
  std::vector<std::string> path(parts.begin(), parts.end());
  const size_t question = request.target.find('?');
  std::string query = question == std::string::npos ? std::string() : request.target.substr(question + 1);
  admin->Post([this, method = std::move(request.method), path = std::move(path), query = std::move(query),
               body = std::move(request.body), by, reply = std::move(reply)](ModelAdmin& models) mutable {
    const std::vector<std::string_view> views(path.begin(), path.end());
    AdminAnswer answer = models.Handle(method, views, query, body, by);
    if (answer.status == 200 &&
        (views.back() == "promote" || views.back() == "rollback" || views.back() == "demote")) {
      spdlog::info("gateway: model administration by {}: {} {}", by, method, answer.body);
    }
    net::post(io, [answer = std::move(answer), reply = std::move(reply)]() mutable {
      reply(JsonResponse(answer.status, std::move(answer.body)));
    });
  });
}

void Gateway::Impl::GetTask(std::string id, HttpReply reply) {
  tasks->Post([this, id = std::move(id), reply = std::move(reply)](TaskStore& store) mutable {
    Result<TaskStore::View> view = store.Get(id);
    net::post(io, [id = std::move(id), view = std::move(view), reply = std::move(reply)]() mutable {
      if (!view.ok()) return reply(Unavailable(view.status().message()));
      using State = TaskStore::View::State;
      if (view->state == State::kUnknown) {
        return reply(
            Error(404, "no task " + id + " (unknown, or its results expired after gateway.task_ttl_s)"));
      }
      std::string out;
      JsonWriter json(&out);
      json.BeginObject().Key("task_id").String(id);
      if (view->state == State::kPending) json.Key("status").String("PENDING");
      if (view->state == State::kSuccess)
        json.Key("status").String("SUCCESS").Key("results").Raw(view->results);
      if (view->state == State::kFailure)
        json.Key("status").String("FAILURE").Key("reason").String(view->reason);
      json.EndObject();
      reply(JsonResponse(200, std::move(out)));
    });
  });
}

// Scores a task this gateway holds the lease of. Its answer settles it; a
// 503 or 504 leaves it pending, for this or another gateway to take over
// once its lease runs out.
void Gateway::Impl::ScoreTask(const std::string& id, ScoreItems items) {
  auto call = std::make_shared<Call>();
  call->kind = Call::Kind::kScore;
  call->items = std::move(items);
  call->reply = [this, id](HttpAnswer answer) {
    if (answer.status == 503 || answer.status == 504) return;
    tasks->Post([id, results = std::move(answer.body)](TaskStore& store) {
      Result<bool> settled = store.Complete(id, results, NowUnixMicros() / 1000);
      if (!settled.ok())
        spdlog::warn("gateway: task {}: {} (it is scored again once its lease runs out)", id,
                     settled.status().message());
    });
  };
  if (!head_up) return;  // left pending: taken over once its lease runs out
  StartScoring(call);
}

void Gateway::Impl::ReclaimTasks() {
  tasks->Post([this](TaskStore& store) {
    Result<std::vector<TaskStore::Leased>> leased = store.Reclaim(NowUnixMicros() / 1000, 64);
    if (!leased.ok()) {
      spdlog::warn("gateway: {}", leased.status().message());
      return;
    }
    if (leased->empty()) return;
    net::post(io, [this, leased = std::move(leased).value()] {
      spdlog::info("gateway: took over {} task{} whose lease ran out", leased.size(),
                   leased.size() == 1 ? "" : "s");
      for (const TaskStore::Leased& task : leased) {
        ScoreItems items;
        if (auto error = ParseScoreBody(task.body, static_cast<size_t>(topology.gateway.max_request_items),
                                        parser, &items)) {
          // Checked before it was recorded: only a topology changed meanwhile
          // (a lower gateway.max_request_items) gets here.
          tasks->Post([id = task.id, why = error->message](TaskStore& store) {
            (void)store.Fail(id, why, NowUnixMicros() / 1000);
          });
          continue;
        }
        ScoreTask(task.id, std::move(items));
      }
    });
  });
}

void Gateway::Impl::Infer(HttpCall&& request, HttpReply reply, std::string_view /*version*/) {
  auto call = std::make_shared<Call>();
  call->kind = Call::Kind::kInfer;
  if (auto error =
          ParseInferRequest(request.body, feature_width,
                            static_cast<size_t>(topology.gateway.max_request_items), parser, &call->infer)) {
    return reply(Error(error->status, error->message));
  }
  call->reply = std::move(reply);
  Submit(call, call->infer.rows());
}

// ---------------------------------------------------------------------------

Gateway::Gateway(const Topology& topology, zmq::context_t& context, std::string id, int shard,
                 std::shared_ptr<ConnectionBudget> budget, GatewayMetrics& metrics)
    : impl_(std::make_unique<Impl>(topology, context, std::move(id), shard, std::move(budget), metrics)) {}

Gateway::~Gateway() = default;

Status Gateway::Start() { return impl_->Start(); }
Status Gateway::Run() { return impl_->Run(); }
int Gateway::port() const { return impl_->server.port(); }
const GatewayStats& Gateway::stats() const { return impl_->stats; }

}  // namespace scorepipe
