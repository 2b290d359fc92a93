#include "cli/evaluate_cluster_command.h"

#include <algorithm>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>
#include <zmq.hpp>

#include "proto/codec.h"
#include "proto/evaluation_codec.h"
#include "runtime/link_security.h"
#include "runtime/node.h"
#include "runtime/request.h"

namespace scorepipe {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kIntakeSendHwm = 4;  // batches waiting in this process: a busy cluster holds it back
constexpr auto kSendSlice = std::chrono::milliseconds(500);  // sending between two questions to the sink
constexpr auto kIdleWait = std::chrono::milliseconds(200);   // between questions once everything is sent
constexpr int kMaxBegins = 4;  // the sink forgot the run (it restarted) this often: give up
constexpr auto kEndTimeout = std::chrono::milliseconds(1000);
constexpr size_t kCountingChunkRows = 65536;  // rows read at once while counting a file

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// Asks the sink about one run on its status endpoint.
class SinkClient {
 public:
  SinkClient(zmq::context_t& context, const Topology& topology, const LinkSecurity& security,
             std::chrono::milliseconds timeout, uint64_t run)
      : context_(context),
        endpoint_(topology.sink.status.connect),
        security_(security),
        timeout_(timeout),
        run_(run) {}

  // The sink's answer (reply.error set when it refused the request), or an
  // error when it did not answer or answered with something else.
  Result<EvaluationReply> Ask(EvaluationRequest request) {
    request.run = run_;
    Result<std::string> raw = AskOnce(context_, endpoint_, Encode(request), timeout_, security_, "the sink");
    if (!raw.ok()) return raw.status();
    Result<EvaluationReply> reply = DecodeEvaluationReply(raw.value());
    if (!reply.ok()) return reply.status().WithContext("the sink's answer at " + endpoint_);
    if (reply->run != run_) {
      return Status::Error("the sink at " + endpoint_ + " answered about run " + std::to_string(reply->run) +
                           ", not " + std::to_string(run_));
    }
    return reply;
  }

  // Tells the sink to forget the run (its rows' memory), also while this
  // process stops, with a short wait: the sink drops runs idle for an hour
  // by itself too.
  void End() {
    EvaluationRequest request;
    request.kind = EvaluationRequest::Kind::kEnd;
    request.run = run_;
    (void)AskOnce(context_, endpoint_, Encode(request), std::min(timeout_, kEndTimeout), security_,
                  "the sink",
                  /*stoppable=*/false);
  }

  Result<EvaluationReply> Begin(uint64_t rows) {
    EvaluationRequest request;
    request.kind = EvaluationRequest::Kind::kBegin;
    request.rows = rows;
    Result<EvaluationReply> reply = Ask(request);
    if (reply.ok() && !reply->error.empty())
      return Status::Error("the sink refused the run: " + reply->error);
    return reply;
  }

 private:
  zmq::context_t& context_;
  const std::string endpoint_;
  const LinkSecurity& security_;
  const std::chrono::milliseconds timeout_;
  const uint64_t run_;
};

// Batch `index` of the run as a TransactionBatch frame.
Result<std::string> EncodeBatch(RowBatches& batches, size_t index, size_t batch_rows, uint64_t run,
                                uint64_t batch_id, LabelledData* rows) {
  if (Status s = batches.Read(index, batch_rows, rows); !s.ok()) return s;
  TransactionBatch batch;
  batch.batch_id = batch_id;
  batch.created_at_us = NowUnixMicros();
  batch.transactions = std::move(rows->transactions);
  batch.evaluation.run = run;
  batch.evaluation.first_row = index * batch_rows;
  batch.evaluation.labels = std::move(rows->labels);
  return Encode(batch);
}

std::string HowFar(const EvaluationReply& r) {
  return std::to_string(r.scored + r.failed) + " of " + std::to_string(r.rows) + " rows answered (" +
         std::to_string(r.scored) + " scored, " + std::to_string(r.failed) + " not)";
}

}  // namespace

std::vector<size_t> BatchesHolding(const std::vector<RowRange>& ranges, size_t batch_rows, size_t batches) {
  std::vector<size_t> out;
  if (batch_rows == 0 || batches == 0) return out;
  for (const RowRange& r : ranges) {
    if (r.end <= r.first || r.first / batch_rows >= batches) continue;
    const size_t last = std::min<size_t>(batches - 1, (r.end - 1) / batch_rows);
    for (size_t b = r.first / batch_rows; b <= last; ++b) {
      if (out.empty() || out.back() < b) out.push_back(b);
    }
  }
  return out;
}

Result<std::unique_ptr<RowsFromFile>> RowsFromFile::Open(const std::string& path,
                                                         const LabelledFileOptions& options) {
  Result<LabelledFileReader> reader = LabelledFileReader::Open(path, options);
  if (!reader.ok()) return reader.status();
  LabelledData chunk;
  while (true) {
    Result<size_t> read = reader->Next(kCountingChunkRows, &chunk);
    if (!read.ok()) return read.status();
    if (*read == 0) break;
  }
  const size_t rows = reader->rows_read();
  if (Status s = reader->Rewind(); !s.ok()) return s;
  return std::unique_ptr<RowsFromFile>(new RowsFromFile(std::move(reader.value()), rows));
}

Status RowsFromFile::Read(size_t index, size_t batch_rows, LabelledData* out) {
  if (index * batch_rows >= rows_)
    return Status::Error("batch " + std::to_string(index) + " is past the last row");
  if (index < next_batch_ || batch_rows != batch_rows_) {  // from the start, in batches of batch_rows
    // Open left the reader at the start: only a reader that moved goes back.
    if (reader_.rows_read() > 0) {
      if (Status s = reader_.Rewind(); !s.ok()) return s;
    }
    next_batch_ = 0;
    batch_rows_ = batch_rows;
  }
  for (; next_batch_ < index; ++next_batch_) {
    if (Result<size_t> read = reader_.Next(batch_rows, &skipped_); !read.ok()) return read.status();
  }
  Result<size_t> read = reader_.Next(batch_rows, out);
  if (!read.ok()) return read.status();
  if (*read == 0)
    return Status::Error("the file ended before batch " + std::to_string(index) + ": it changed");
  ++next_batch_;
  return Status::Ok();
}

std::chrono::milliseconds DefaultResendAfter(const Topology& topology) {
  return std::max(std::chrono::milliseconds(5000),
                  std::chrono::milliseconds(3LL * topology.ventilator.batch_timeout_ms));
}

namespace {

// One run from its begin to its figures: sends the batches in slices and
// asks the sink between them (see the header for what it does when things
// are lost).
class RunDriver {
 public:
  RunDriver(const Topology& topology, RowBatches& batches, const ClusterRunOptions& o, FILE* err,
            zmq::context_t& context, const LinkSecurity& security, ClusterRun* out)
      : topology_(topology),
        batches_(batches),
        o_(o),
        err_(err),
        security_(security),
        out_(*out),
        sink_(context, topology, security, o.request_timeout, out->run),
        intake_(context, zmq::socket_type::push),
        next_batch_id_(NewSession() & 0xffffffff00000000ull) {}

  // The begun run's last answer, with every row answered.
  Result<EvaluationReply> Run() {
    if (Status s = Connect(); !s.ok()) return s;
    SendEveryBatch();
    while (true) {
      if (StopRequested()) return Status::Error("stopped with the run unfinished");
      if (Status s = SendSlice(); !s.ok()) return s;
      Result<std::optional<EvaluationReply>> done = Follow();
      if (!done.ok()) return done.status();
      if (done->has_value()) return std::move(**done);
      if (Status s = CheckStall(); !s.ok()) return s;
      if (cursor_ == to_send_.size()) std::this_thread::sleep_for(kIdleWait);
    }
  }

  SinkClient& sink() { return sink_; }

 private:
  Status Connect() {
    intake_.set(zmq::sockopt::sndhwm, kIntakeSendHwm);
    intake_.set(zmq::sockopt::linger, 0);
    const std::string& endpoint = topology_.ventilator.intake.connect;
    return security_.ConnectAsClient(intake_, endpoint);
  }

  void SendEveryBatch() {
    to_send_.resize(out_.batches);
    for (size_t i = 0; i < out_.batches; ++i) to_send_[i] = i;
    cursor_ = 0;
  }

  // Sends what is queued for up to kSendSlice; a busy cluster ends it sooner.
  Status SendSlice() {
    const auto slice_end = Clock::now() + kSendSlice;
    while (cursor_ < to_send_.size() && Clock::now() < slice_end) {
      Result<std::string> encoded =
          EncodeBatch(batches_, to_send_[cursor_], o_.batch_rows, out_.run, next_batch_id_, &rows_);
      if (!encoded.ok()) return encoded.status();
      zmq::message_t frame(encoded->data(), encoded->size());
      if (!SendFrame(intake_, frame, slice_end)) break;  // ask the sink meanwhile
      ++cursor_;
      ++next_batch_id_;
      ++out_.batches_sent;
    }
    return Status::Ok();
  }

  // Asks the sink how far the run is and acts on the answer: the complete
  // answer, or nothing yet.
  Result<std::optional<EvaluationReply>> Follow() {
    const auto now = Clock::now();
    EvaluationRequest query;
    query.threshold = o_.evaluation.threshold;
    query.calibration_bins = o_.evaluation.calibration_bins;
    query.list_pending = cursor_ == to_send_.size() && now - last_progress_ >= o_.resend_after &&
                         now - last_resend_ >= o_.resend_after;
    Result<EvaluationReply> reply = sink_.Ask(query);
    if (!reply.ok()) {
      unanswered_why_ = reply.status().message();
      return std::optional<EvaluationReply>();
    }
    unanswered_why_.clear();
    if (!reply->error.empty()) {
      if (Status s = BeginAgain(reply->error); !s.ok()) return s;
      return std::optional<EvaluationReply>();
    }
    const uint64_t answered = reply->scored + reply->failed;
    if (answered > answered_) {
      answered_ = answered;
      last_progress_ = now;
    }
    if (answered_ >= reply->rows) return std::optional<EvaluationReply>(std::move(reply.value()));
    if (query.list_pending) SendAgain(*reply, now);
    ProgressLine(*reply, now);
    return std::optional<EvaluationReply>();
  }

  // The sink no longer holds the run (it restarted): begin it again and send every batch.
  Status BeginAgain(const std::string& why) {
    if (begins_ == kMaxBegins) {
      return Status::Error("the sink lost the run " + std::to_string(begins_) + " times; last: " + why);
    }
    if (err_ != nullptr) fprintf(err_, "evaluate: %s; beginning the run again\n", why.c_str());
    Result<EvaluationReply> again = sink_.Begin(batches_.rows());
    if (!again.ok()) return again.status();
    ++begins_;
    SendEveryBatch();
    answered_ = 0;
    last_progress_ = Clock::now();
    return Status::Ok();
  }

  // Queues the batches of the rows the sink still waits for.
  void SendAgain(const EvaluationReply& reply, Clock::time_point now) {
    std::vector<size_t> again = BatchesHolding(reply.pending_rows, o_.batch_rows, out_.batches);
    if (err_ != nullptr) {
      fprintf(err_, "evaluate: no row answered for %.0f s; sending %zu batches again\n",
              Seconds(now - last_progress_), again.size());
    }
    to_send_.insert(to_send_.end(), again.begin(), again.end());
    last_resend_ = now;
  }

  void ProgressLine(const EvaluationReply& reply, Clock::time_point now) {
    if (err_ == nullptr || o_.progress_every.count() <= 0 || now < next_line_) return;
    fprintf(err_, "evaluate: %s, %.0f rows/s\n", HowFar(reply).c_str(),
            static_cast<double>(answered_) / std::max(1e-9, Seconds(now - started_)));
    next_line_ = now + o_.progress_every;
  }

  Status CheckStall() const {
    const auto quiet = Clock::now() - last_progress_;
    if (quiet < o_.stall_timeout) return Status::Ok();
    std::string why = "no row answered for " + std::to_string(static_cast<long long>(Seconds(quiet))) +
                      " s; " + std::to_string(answered_) + " of " + std::to_string(batches_.rows()) +
                      " rows answered. Is the cluster running (scorepipe status)?";
    if (!unanswered_why_.empty()) why += " Last: " + unanswered_why_;
    return Status::Error(why);
  }

  const Topology& topology_;
  RowBatches& batches_;
  const ClusterRunOptions& o_;
  FILE* const err_;
  const LinkSecurity& security_;
  ClusterRun& out_;
  SinkClient sink_;
  zmq::socket_t intake_;
  uint64_t next_batch_id_;
  std::vector<size_t> to_send_;  // every batch, then the batches sent again
  size_t cursor_ = 0;            // to_send_[cursor_] goes next
  LabelledData rows_;            // the batch being sent (reused)
  int begins_ = 1;
  uint64_t answered_ = 0;
  const Clock::time_point started_ = Clock::now();
  Clock::time_point last_progress_ = started_;
  Clock::time_point last_resend_ = started_;
  Clock::time_point next_line_ = started_ + o_.progress_every;
  std::string unanswered_why_;  // why the sink did not answer the last question
};

}  // namespace

Result<ClusterRun> EvaluateOnCluster(const Topology& topology, RowBatches& batches,
                                     const ClusterRunOptions& o, FILE* err) {
  const size_t rows = batches.rows();
  if (rows == 0) return Status::Error("no rows to evaluate");
  if (o.batch_rows == 0 || o.batch_rows > kMaxBatchItems) {
    return Status::Error("batch rows: " + std::to_string(o.batch_rows) + " is not in 1.." +
                         std::to_string(kMaxBatchItems));
  }
  if (Status s = o.evaluation.Validate(); !s.ok()) return s;
  Result<LinkSecurity> security = LinkSecurity::Load(topology.security);
  if (!security.ok()) return security.status();

  zmq::context_t context;
  ClusterRun out;
  out.run = NewSession() | 1;  // never 0
  out.batches = (rows + o.batch_rows - 1) / o.batch_rows;
  const auto started = Clock::now();
  RunDriver driver(topology, batches, o, err, context, security.value(), &out);
  Result<EvaluationReply> begun = driver.sink().Begin(rows);
  if (!begun.ok()) return begun.status();
  // However the run ends (figures, a stop, a stall), the sink forgets it.
  struct EndRun {
    SinkClient& sink;
    ~EndRun() { sink.End(); }
  } end_run{driver.sink()};
  if (err != nullptr) {
    fprintf(err, "evaluate: run %llu: %zu rows in %zu batches of up to %zu rows, through %s\n",
            static_cast<unsigned long long>(out.run), rows, out.batches, o.batch_rows,
            topology.ventilator.intake.connect.c_str());
  }
  Result<EvaluationReply> reply = driver.Run();
  if (!reply.ok()) return reply.status();
  out.reply = std::move(reply.value());
  out.elapsed_s = Seconds(Clock::now() - started);
  return out;
}

}  // namespace scorepipe
