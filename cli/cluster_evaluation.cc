#include "cli/cluster_evaluation.h"

#include <algorithm>
#include <string>
#include <thread>
#include <utility>
#include <vector>
#include <zmq.hpp>

#include "cli/request.h"
#include "config/link_security.h"
#include "proto/codec.h"
#include "proto/node.h"

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
      : context_(context), endpoint_(topology.sink.status.connect), security_(security), timeout_(timeout),
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
    (void)AskOnce(context_, endpoint_, Encode(request), std::min(timeout_, kEndTimeout), security_, "the sink",
                  /*stoppable=*/false);
  }

  Result<EvaluationReply> Begin(uint64_t rows) {
    EvaluationRequest request;
    request.kind = EvaluationRequest::Kind::kBegin;
    request.rows = rows;
    Result<EvaluationReply> reply = Ask(request);
    if (reply.ok() && !reply->error.empty()) return Status::Error("the sink refused the run: " + reply->error);
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
  if (index * batch_rows >= rows_) return Status::Error("batch " + std::to_string(index) + " is past the last row");
  if (index < next_batch_ || batch_rows != batch_rows_) {  // back to the start
    if (Status s = reader_.Rewind(); !s.ok()) return s;
    next_batch_ = 0;
    batch_rows_ = batch_rows;
  }
  for (; next_batch_ < index; ++next_batch_) {
    if (Result<size_t> read = reader_.Next(batch_rows, &skipped_); !read.ok()) return read.status();
  }
  Result<size_t> read = reader_.Next(batch_rows, out);
  if (!read.ok()) return read.status();
  if (*read == 0) return Status::Error("the file ended before batch " + std::to_string(index) + ": it changed");
  ++next_batch_;
  return Status::Ok();
}

std::chrono::milliseconds DefaultResendAfter(const Topology& topology) {
  return std::max(std::chrono::milliseconds(5000), std::chrono::milliseconds(3LL * topology.ventilator.batch_timeout_ms));
}

Result<ClusterRun> EvaluateOnCluster(const Topology& topology, RowBatches& batches, const ClusterRunOptions& o,
                                     FILE* err) {
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
  const uint64_t batch_id_base = NewSession() & 0xffffffff00000000ull;
  uint64_t next_batch_id = batch_id_base;
  SinkClient sink(context, topology, security.value(), o.request_timeout, out.run);

  const auto started = Clock::now();
  Result<EvaluationReply> begun = sink.Begin(rows);
  if (!begun.ok()) return begun.status();
  // However the run ends (figures, a stop, a stall), the sink forgets it.
  struct EndRun {
    SinkClient& sink;
    ~EndRun() { sink.End(); }
  } end_run{sink};
  int begins = 1;
  if (err != nullptr) {
    fprintf(err, "evaluate: run %llu: %zu rows in %zu batches of up to %zu rows, through %s\n",
            static_cast<unsigned long long>(out.run), rows, out.batches, o.batch_rows,
            topology.ventilator.intake.connect.c_str());
  }

  zmq::socket_t intake(context, zmq::socket_type::push);
  intake.set(zmq::sockopt::sndhwm, kIntakeSendHwm);
  intake.set(zmq::sockopt::linger, 0);
  if (Status s = security->Client(intake); !s.ok()) return s.WithContext(topology.ventilator.intake.connect);
  if (Status s = ConnectSocket(intake, topology.ventilator.intake.connect); !s.ok()) return s;

  // What to send, in order: every batch, then the batches sent again.
  std::vector<size_t> to_send;
  const auto send_every_batch = [&] {
    to_send.resize(out.batches);
    for (size_t i = 0; i < out.batches; ++i) to_send[i] = i;
  };
  send_every_batch();
  size_t cursor = 0;  // to_send[cursor] goes next
  LabelledData batch_rows;  // reused
  uint64_t answered = 0;
  auto last_progress = Clock::now();
  auto last_resend = Clock::now();
  auto next_line = Clock::now() + o.progress_every;
  std::string unanswered_why;  // the last time the sink did not answer

  while (true) {
    if (StopRequested()) return Status::Error("stopped with the run unfinished");
    const auto slice_end = Clock::now() + kSendSlice;
    while (cursor < to_send.size() && Clock::now() < slice_end) {
      Result<std::string> encoded =
          EncodeBatch(batches, to_send[cursor], o.batch_rows, out.run, next_batch_id, &batch_rows);
      if (!encoded.ok()) return encoded.status();
      zmq::message_t frame(encoded->data(), encoded->size());
      if (!SendFrame(intake, frame, slice_end)) break;  // the cluster is busy: ask the sink meanwhile
      ++cursor;
      ++next_batch_id;
      ++out.batches_sent;
    }
    const bool all_sent = cursor == to_send.size();
    const auto now = Clock::now();
    EvaluationRequest query;
    query.threshold = o.evaluation.threshold;
    query.calibration_bins = o.evaluation.calibration_bins;
    query.list_pending = all_sent && now - last_progress >= o.resend_after && now - last_resend >= o.resend_after;
    Result<EvaluationReply> reply = sink.Ask(query);
    if (!reply.ok()) {
      unanswered_why = reply.status().message();
    } else if (!reply->error.empty()) {
      // The sink no longer holds the run: it restarted. Begin again and send everything.
      if (begins == kMaxBegins) {
        return Status::Error("the sink lost the run " + std::to_string(begins) + " times; last: " + reply->error);
      }
      if (err != nullptr) fprintf(err, "evaluate: %s; beginning the run again\n", reply->error.c_str());
      Result<EvaluationReply> again = sink.Begin(rows);
      if (!again.ok()) return again.status();
      ++begins;
      send_every_batch();
      cursor = 0;
      answered = 0;
      last_progress = Clock::now();
      continue;
    } else {
      unanswered_why.clear();
      const uint64_t now_answered = reply->scored + reply->failed;
      if (now_answered > answered) {
        answered = now_answered;
        last_progress = now;
      }
      if (answered >= reply->rows) {
        out.reply = std::move(reply.value());
        break;
      }
      if (query.list_pending) {
        std::vector<size_t> again = BatchesHolding(reply->pending_rows, o.batch_rows, out.batches);
        if (err != nullptr) {
          fprintf(err, "evaluate: no row answered for %.0f s; sending %zu batches again\n",
                  Seconds(now - last_progress), again.size());
        }
        to_send.insert(to_send.end(), again.begin(), again.end());
        last_resend = now;
      }
      if (err != nullptr && o.progress_every.count() > 0 && now >= next_line) {
        fprintf(err, "evaluate: %s, %.0f rows/s\n", HowFar(reply.value()).c_str(),
                static_cast<double>(answered) / std::max(1e-9, Seconds(now - started)));
        next_line = now + o.progress_every;
      }
    }
    if (now - last_progress >= o.stall_timeout) {
      std::string why = "no row answered for " + std::to_string(static_cast<long long>(Seconds(now - last_progress))) +
                        " s; " + std::to_string(answered) + " of " + std::to_string(rows) +
                        " rows answered. Is the cluster running (scorepipe status)?";
      if (!unanswered_why.empty()) why += " Last: " + unanswered_why;
      return Status::Error(why);
    }
    if (cursor == to_send.size()) std::this_thread::sleep_for(kIdleWait);
  }
  out.elapsed_s = Seconds(Clock::now() - started);
  return out;
}

}  // namespace scorepipe
