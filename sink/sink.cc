#include "sink/sink.h"

#include <spdlog/spdlog.h>

#include <span>
#include <string_view>
#include <utility>

#include "proto/codec.h"
#include "proto/evaluation_codec.h"
#include "proto/json_writer.h"
#include "proto/upstream_json.h"
#include "runtime/service_notify.h"

namespace scorepipe {
namespace {

using Clock = std::chrono::steady_clock;
constexpr int kReceiveSliceMs = 100;
constexpr int kResultsHwm = 4;
// Evaluation requests are a few dozen bytes.
constexpr int64_t kMaxStatusRequestBytes = int64_t{1} << 12;
// A stopping sink keeps writing results while they still arrive this often.
constexpr int kDrainQuietMs = 500;
constexpr auto kDrainTimeout = std::chrono::seconds(10);

}  // namespace

Status FormatOutcomes(const ResultBatch& batch, ModelFields model_fields, std::vector<Outcome>* outcomes) {
  // The outcomes' strings are reused from the previous batch: no allocation
  // per result once they have grown.
  const size_t total = batch.results.size() + batch.rejects.size();
  outcomes->resize(total);
  const std::string scored_at = FormatIso8601Millis(batch.scored_at_us);
  const ResultModel model{batch.model_name, batch.model_version};
  const ResultModel* named = model_fields == ModelFields::kInclude ? &model : nullptr;
  // A part of a lease holds the positions from part.begin on.
  const size_t first = batch.part.whole() ? 0 : batch.part.begin;
  size_t next_result = 0;
  size_t next_reject = 0;
  size_t filled = 0;
  for (size_t position = first; position < first + total; ++position) {
    Outcome& outcome = (*outcomes)[filled];
    if (next_reject < batch.rejects.size() && batch.rejects[next_reject].position == position) {
      outcome.route = Outcome::Route::kDeadLetter;
      outcome.text.assign(batch.rejects[next_reject].dead_letter);
      ++next_reject;
      ++filled;
      continue;
    }
    if (next_result == batch.results.size()) break;
    const ScoreResult& result = batch.results[next_result++];
    if (!result.error.empty()) {
      std::string original;  // {"id":<id>}: all the sink still has of the message
      JsonWriter json(&original);
      json.BeginObject().Key("id");
      WriteTransactionId(result.transaction_id, result.transaction_id_text, json);
      json.EndObject();
      outcome.route = Outcome::Route::kDeadLetter;
      outcome.text = DeadLetterJson(result.error, "worker " + batch.worker_id, original, batch.scored_at_us);
    } else {
      outcome.route = Outcome::Route::kResult;
      outcome.text.clear();
      AppendResultJson(result, scored_at, named, &outcome.text);
    }
    ++filled;
  }
  outcomes->resize(filled);
  if (filled != total) {
    return Status::Error("batch " + std::to_string(batch.batch_id) + ": reject positions do not fit its " +
                         std::to_string(total) + " messages");
  }
  return Status::Ok();
}

size_t FormatShadowEntries(const ResultBatch& batch, std::vector<std::string>* entries) {
  if (batch.shadow_results.empty() || batch.shadow_results.size() != batch.results.size()) return 0;
  for (size_t i = 0; i < batch.results.size(); ++i) {
    if (batch.shadow_results[i].transaction_id != batch.results[i].transaction_id ||
        batch.shadow_results[i].transaction_id_text != batch.results[i].transaction_id_text) {
      return 0;
    }
  }
  const std::string scored_at = FormatIso8601Millis(batch.scored_at_us);
  const ShadowScores versions{batch.model_name, batch.model_version, batch.shadow_version};
  size_t appended = 0;
  for (size_t i = 0; i < batch.results.size(); ++i) {
    const ScoreResult& live = batch.results[i];
    const ScoreResult& shadow = batch.shadow_results[i];
    if (!live.error.empty() || !shadow.error.empty()) continue;
    AppendShadowJson(live, shadow, scored_at, versions, &entries->emplace_back());
    ++appended;
  }
  return appended;
}

Sink::Sink(const Topology& topology, zmq::context_t& context, std::unique_ptr<Queue> queue)
    : config_(topology.sink),
      security_config_(topology.security),
      context_(context),
      queue_(std::move(queue)),
      results_(context, zmq::socket_type::pull),
      status_(context, zmq::socket_type::rep),
      registry_(std::make_shared<prometheus::Registry>()),
      metrics_(*registry_),
      shadow_queue_(topology.queue.shadow),
      max_frame_bytes_(MaxBatchFrameBytes(static_cast<size_t>(topology.bridge.batch_size))),
      lease_parts_(kMaxSplitLeases, std::chrono::milliseconds(topology.queue.inflight_timeout_ms)) {
  results_.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(max_frame_bytes_));
  // Few result batches wait per worker: a slow queue then holds the workers
  // back (and so the bridge) instead of letting leases pile up unsettled.
  results_.set(zmq::sockopt::rcvhwm, kResultsHwm);
  status_.set(zmq::sockopt::maxmsgsize, kMaxStatusRequestBytes);
  status_.set(zmq::sockopt::linger, 0);
  if (!config_.publish.bind.empty()) {
    publish_.emplace(context, zmq::socket_type::pub);
    publish_->set(zmq::sockopt::linger, 0);
  }
}

Status Sink::Bind() {
  Result<LinkSecurity> security = LoadServerSecurity(security_config_, context_, &zap_);
  if (!security.ok()) return security.status();
  for (auto [socket, endpoint] :
       {std::pair{&results_, &config_.results.bind}, std::pair{&status_, &config_.status.bind}}) {
    if (Status s = security->BindAsServer(*socket, *endpoint); !s.ok()) return s;
  }
  if (!publish_) return Status::Ok();
  // Live subscribers are clients like any node: their keys must be authorized.
  return security->BindAsServer(*publish_, config_.publish.bind);
}

std::vector<zmq::message_t> Sink::Group(zmq::message_t first) {
  std::vector<zmq::message_t> frames;
  frames.push_back(std::move(first));
  while (frames.size() < kMaxGroup) {
    zmq::message_t next;
    if (!results_.recv(next, zmq::recv_flags::dontwait)) break;
    frames.push_back(std::move(next));
  }
  return frames;
}

bool Sink::Handle(std::vector<zmq::message_t>& frames, std::optional<Clock::time_point> deadline) {
  // Decode and format; what does not decode is refused here and goes no further.
  if (requests_.size() < frames.size()) requests_.resize(frames.size());  // kept: their strings are reused
  std::vector<size_t> frame_of;                                           // request -> frame
  std::vector<ResultBatch> batches;
  size_t used = 0;
  for (size_t f = 0; f < frames.size(); ++f) {
    std::string_view bytes(static_cast<const char*>(frames[f].data()), frames[f].size());
    Result<ResultBatch> batch = DecodeResultBatch(bytes, max_frame_bytes_);
    if (!batch.ok()) {
      Refuse("a " + std::to_string(frames[f].size()) +
             "-byte frame from a worker: " + batch.status().message());
      continue;
    }
    if (batch->evaluation.run != 0) {  // no lease: not settled, never in requests_
      AddEvaluation(batch.value());
      continue;
    }
    SettleRequest& request = requests_[used];
    if (Status formatted = FormatOutcomes(batch.value(), config_.model_fields, &request.outcomes);
        !formatted.ok()) {
      ++stats_.frames_refused;
      metrics_.Refused();
      spdlog::error("refusing a result batch: {}", formatted.message());
      continue;
    }
    std::vector<std::string> split_frames;
    if (!batch->part.whole()) {
      // One part of a split lease: held until its lease is whole.
      Result<LeasePartsAdded> added = lease_parts_.Add(batch->lease, batch->part, std::move(request.outcomes),
                                                       std::string(bytes), Clock::now());
      request.outcomes.clear();
      if (!added.ok()) {
        Refuse("a part of a split batch from " + batch->worker_id + ": " + added.status().message());
        continue;
      }
      stats_.duplicates += added->duplicates;
      metrics_.Duplicates(added->duplicates);
      if (!added->complete) continue;
      request.outcomes = std::move(*added->complete);
      split_frames = std::move(added->frames);
    }
    request.lease_id = batch->lease;
    frame_of.push_back(f);
    split_frames_.resize(used + 1);
    split_frames_[used] = std::move(split_frames);
    batches.push_back(std::move(batch.value()));
    ++used;
  }
  if (used == 0) return true;
  const std::span<const SettleRequest> group(requests_.data(), used);

  Backoff backoff;
  std::vector<Settlement> settled;
  while (true) {
    const auto settle_started = Clock::now();
    Result<std::vector<Settlement>> s = queue_->SettleMany(group);
    metrics_.SettleCall(std::chrono::duration<double>(Clock::now() - settle_started).count());
    if (s.ok()) {
      settled = std::move(s.value());
      break;
    }
    metrics_.QueueError();
    uint64_t held_back = 0;
    if (queue_error_log_.ShouldLog(&held_back)) {
      spdlog::error("queue unavailable, retrying: {}", s.status().message());
    }
    ProcessHealth().SetProblem("queue", "unavailable: " + s.status().message());
    const bool out_of_time = deadline ? Clock::now() >= *deadline : StopRequested();
    if (out_of_time) {
      spdlog::error("stopping with {} batches unsettled (their leases bring them back): {}", used,
                    s.status().message());
      return false;
    }
    SleepUnlessStopped(backoff.NextDelayMs());
  }
  if (backoff.attempts() > 0) {
    spdlog::info("queue reachable again");
    ProcessHealth().SetProblem("queue", "");
  }

  for (size_t r = 0; r < used; ++r) {
    const ResultBatch& batch = batches[r];
    if (settled[r].refused_index) SettleWithoutRefused(requests_[r], &settled[r]);
    const Settlement& done = settled[r];
    if (!done.refused.empty()) {
      ++stats_.frames_refused;
      metrics_.Refused();
      spdlog::error("refusing result batch {} from {}: {}", batch.batch_id, batch.worker_id, done.refused);
      continue;
    }
    ++stats_.batches;
    stats_.duplicates += done.duplicates;
    metrics_.Duplicates(done.duplicates);
    if (done.duplicates > 0) {
      spdlog::debug("batch {} from {}: {} duplicate outcomes dropped", batch.batch_id, batch.worker_id,
                    done.duplicates);
    }
    if (done.published == 0) continue;
    uint64_t results = 0;
    uint64_t dead_letters = 0;
    if (done.duplicates > 0) {
      results = done.published;  // a partial settlement (streams): routes not told apart
    } else {
      for (const Outcome& o : requests_[r].outcomes) {
        (o.route == Outcome::Route::kResult ? results : dead_letters) += 1;
      }
    }
    stats_.results += results;
    stats_.dead_lettered += dead_letters;
    const uint64_t from_bridge = std::min<uint64_t>(dead_letters, batch.rejects.size());
    metrics_.Settled(results, from_bridge, dead_letters - from_bridge, batch.worker_id, batch.created_at_us,
                     NowUnixMicros());
    if (publish_ && split_frames_[r].empty()) {
      publish_->send(frames[frame_of[r]], zmq::send_flags::dontwait);
    } else if (publish_) {
      for (const std::string& part : split_frames_[r])
        publish_->send(zmq::buffer(part), zmq::send_flags::dontwait);
    }
    // Only a batch that settled in full: a duplicate's copy wrote them already.
    // (A split lease's shadow scores are not gathered: shadow entries are
    // at-most-once.)
    if (done.duplicates == 0 && batch.part.whole()) FormatShadowEntries(batch, &shadow_entries_);
  }
  AppendShadowEntries();
  return true;
}

void Sink::SettleWithoutRefused(SettleRequest& request, Settlement* settlement) {
  // Each round turns the one outcome the output refused into a dead letter
  // (the output takes those) and settles again; a lease has as many rounds at
  // most as it has outcomes.
  for (size_t round = 0; round < request.outcomes.size() && settlement->refused_index; ++round) {
    const size_t index = *settlement->refused_index;
    if (index >= request.outcomes.size() || request.outcomes[index].route != Outcome::Route::kResult) break;
    Outcome& refused = request.outcomes[index];
    ++stats_.outputs_refused;
    metrics_.OutputRefused();
    uint64_t held_back = 0;
    if (output_refused_log_.ShouldLog(&held_back)) {
      spdlog::warn(
          "lease {}: the queue refused outcome {} ({}); dead-lettering it and settling the rest ({} more "
          "since the last report)",
          request.lease_id, index, settlement->refused, held_back);
    }
    refused.text = DeadLetterJson("the queue refused the result: " + settlement->refused, "sink",
                                  refused.text, NowUnixMicros());
    refused.route = Outcome::Route::kDeadLetter;
    Result<Settlement> again = queue_->Settle(request.lease_id, request.outcomes);
    if (!again.ok()) {
      // Unreachable now: the lease comes back after the in-flight timeout.
      settlement->refused = "settling again after a refused outcome: " + again.status().message();
      settlement->refused_index.reset();
      return;
    }
    *settlement = std::move(again.value());
  }
}

void Sink::Refuse(const std::string& what) {
  ++stats_.frames_refused;
  metrics_.Refused();
  uint64_t held_back = 0;
  if (refused_log_.ShouldLog(&held_back)) {
    spdlog::warn("refusing {} ({} more since the last report)", what, held_back);
  }
}

void Sink::AddEvaluation(const ResultBatch& batch) {
  Result<EvaluationAdded> added = evaluation_runs_.Add(batch, Clock::now());
  if (!added.ok()) {
    Refuse("an evaluation batch from " + batch.worker_id + ": " + added.status().message());
    return;
  }
  stats_.evaluation_rows += added->scored + added->failed;
  metrics_.EvaluationRows(added->scored, added->failed, added->duplicates);
}

void Sink::AnswerStatus() {
  zmq::message_t request;
  if (!status_.recv(request, zmq::recv_flags::dontwait)) return;
  EvaluationReply reply;
  if (request.more()) {
    while (request.more() && status_.recv(request, zmq::recv_flags::dontwait)) {
    }
    reply = EvaluationRefusal(0, "a request is one frame; this one had more");
  } else {
    Result<EvaluationRequest> decoded = DecodeEvaluationRequest(FrameView(request));
    reply = decoded.ok() ? evaluation_runs_.Answer(decoded.value(), Clock::now())
                         : EvaluationRefusal(0, "the request did not decode: " + decoded.status().message());
  }
  const std::string encoded = Encode(reply);
  status_.send(zmq::buffer(encoded), zmq::send_flags::dontwait);
}

void Sink::Step() {
  zmq::pollitem_t items[] = {
      {results_.handle(), 0, ZMQ_POLLIN, 0},
      {status_.handle(), 0, ZMQ_POLLIN, 0},
  };
  try {
    zmq::poll(items, 2, std::chrono::milliseconds(kReceiveSliceMs));
  } catch (const zmq::error_t& e) {
    if (e.num() != EINTR) throw;
  }
  zmq::message_t frame;
  if (results_.recv(frame, zmq::recv_flags::dontwait)) {
    std::vector<zmq::message_t> frames = Group(std::move(frame));
    Handle(frames, std::nullopt);
  }
  AnswerStatus();
  if (const size_t dropped = lease_parts_.Expire(Clock::now()); dropped > 0) {
    spdlog::warn(
        "dropped {} split leases still incomplete after queue.inflight_timeout_ms: their leases come "
        "back",
        dropped);
  }
}

void Sink::AppendShadowEntries() {
  if (shadow_entries_.empty()) return;
  Status appended = queue_->Append(shadow_queue_, shadow_entries_);
  if (appended.ok()) {
    metrics_.ShadowAppended(shadow_entries_.size());
  } else {
    metrics_.ShadowLost(shadow_entries_.size());
    uint64_t held_back = 0;
    if (shadow_log_.ShouldLog(&held_back)) {
      spdlog::warn("dropping {} shadow entries for {}: {} ({} more failures since the last report)",
                   shadow_entries_.size(), shadow_queue_, appended.message(), held_back);
    }
  }
  shadow_entries_.clear();
}

Status Sink::Run() {
  spdlog::info("sink: results {} -> {}; live feed {}; evaluation runs {}", config_.results.bind,
               queue_->Describe(), publish_ ? config_.publish.bind : std::string("off"), config_.status.bind);
  // Ready for systemd once the queue answers: results could not be written before.
  Backoff backoff;
  for (Result<QueueDepth> depth = queue_->Depth(); !depth.ok() && !StopRequested(); depth = queue_->Depth()) {
    uint64_t held_back = 0;
    if (queue_error_log_.ShouldLog(&held_back))
      spdlog::error("queue unavailable, retrying: {}", depth.status().message());
    ProcessHealth().SetProblem("queue", "unavailable: " + depth.status().message());
    SleepUnlessStopped(backoff.NextDelayMs());
  }
  ProcessHealth().SetProblem("queue", "");
  NotifyReady("writing results to " + queue_->Describe());
  while (!StopRequested()) {
    NotifyAlive();
    Step();
  }
  NotifyStopping();
  // Write what the stopping workers still send.
  Status status = Status::Ok();
  const auto deadline = Clock::now() + kDrainTimeout;
  while (Clock::now() < deadline) {
    std::optional<zmq::message_t> frame = ReceiveFor(results_, kDrainQuietMs);
    if (!frame) break;
    std::vector<zmq::message_t> frames = Group(std::move(*frame));
    if (!Handle(frames, deadline)) {
      status = Status::Error("stopped with unwritten results: the queue stayed unreachable");
      break;
    }
  }
  spdlog::info(
      "sink stopped: {} results in {} batches, dead-lettered {}, duplicates dropped {}, refused {} frames; "
      "{} rows of evaluation runs",
      stats_.results, stats_.batches, stats_.dead_lettered, stats_.duplicates, stats_.frames_refused,
      stats_.evaluation_rows);
  return status;
}

}  // namespace scorepipe
