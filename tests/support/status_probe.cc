#include "tests/support/status_probe.h"

#include <simdjson.h>

#include <utility>

namespace scorepipe::testing {

const WorkerStatus* ClusterStatus::FindId(const std::string& id) const {
  for (const WorkerStatus& w : workers) {
    if (w.id == id) return &w;
  }
  return nullptr;
}

const WorkerStatus* ClusterStatus::FindPid(int64_t pid) const {
  for (const WorkerStatus& w : workers) {
    if (w.pid == pid) return &w;
  }
  return nullptr;
}

Result<ClusterStatus> ParseClusterStatus(const std::string& json) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(json).get(doc) != simdjson::SUCCESS) return Status::Error("status is not JSON: " + json);
  ClusterStatus status;
  simdjson::dom::array workers;
  if (doc["ventilator"]["live_workers"].get_int64().get(status.live_workers) != simdjson::SUCCESS ||
      doc["ventilator"]["queued_batches"].get_int64().get(status.queued_batches) != simdjson::SUCCESS ||
      doc["ventilator"]["redispatched"].get_int64().get(status.redispatched) != simdjson::SUCCESS ||
      doc["ventilator"]["overdue"].get_int64().get(status.overdue) != simdjson::SUCCESS ||
      doc["workers"].get_array().get(workers) != simdjson::SUCCESS) {
    return Status::Error("status lacks ventilator.live_workers or workers: " + json);
  }
  for (simdjson::dom::element w : workers) {
    WorkerStatus s;
    std::string_view id;
    std::string_view host;
    std::string_view state;
    std::string_view model_version;
    std::string_view model_error;
    std::string_view shadow_version;
    if (w["id"].get_string().get(id) != simdjson::SUCCESS ||
        w["host"].get_string().get(host) != simdjson::SUCCESS ||
        w["state"].get_string().get(state) != simdjson::SUCCESS ||
        w["pid"].get_int64().get(s.pid) != simdjson::SUCCESS ||
        w["last_heartbeat_ms"].get_int64().get(s.last_heartbeat_ms) != simdjson::SUCCESS ||
        w["in_flight_batches"].get_int64().get(s.in_flight_batches) != simdjson::SUCCESS ||
        w["batches_scored"].get_int64().get(s.batches_scored) != simdjson::SUCCESS ||
        w["transactions_scored"].get_int64().get(s.transactions_scored) != simdjson::SUCCESS ||
        w["model_version"].get_string().get(model_version) != simdjson::SUCCESS ||
        w["model_error"].get_string().get(model_error) != simdjson::SUCCESS ||
        w["shadow_version"].get_string().get(shadow_version) != simdjson::SUCCESS) {
      return Status::Error("a worker entry lacks a field: " + json);
    }
    s.id = id;
    s.host = host;
    s.state = state;
    s.model_version = model_version;
    s.model_error = model_error;
    s.shadow_version = shadow_version;
    // From a ventilator that knows it.
    if (std::string_view link_error; w["link_error"].get_string().get(link_error) == simdjson::SUCCESS) {
      s.link_error = link_error;
    }
    status.workers.push_back(std::move(s));
  }
  return status;
}

StatusProbe::StatusProbe(std::string endpoint, LinkSecurity security)
    : endpoint_(std::move(endpoint)), security_(std::move(security)) {}

Result<ClusterStatus> StatusProbe::Query(std::chrono::milliseconds timeout) {
  try {
    if (!socket_) {
      socket_.emplace(context_, zmq::socket_type::req);
      socket_->set(zmq::sockopt::linger, 0);
      if (Status s = security_.Client(*socket_); !s.ok()) return s;
      socket_->connect(endpoint_);
    }
    if (!socket_->send(zmq::str_buffer("status"), zmq::send_flags::dontwait)) {
      socket_.reset();
      return Status::Error("status request to " + endpoint_ + " not sent");
    }
    zmq::pollitem_t item{socket_->handle(), 0, ZMQ_POLLIN, 0};
    zmq::poll(&item, 1, timeout);
    zmq::message_t reply;
    if (!socket_->recv(reply, zmq::recv_flags::dontwait)) {
      socket_.reset();  // a REQ socket that got no answer cannot ask again
      return Status::Error("no status answer from " + endpoint_ + " within " +
                           std::to_string(timeout.count()) + " ms");
    }
    return ParseClusterStatus(reply.to_string());
  } catch (const zmq::error_t& e) {
    socket_.reset();
    return Status::Error("status query to " + endpoint_ + ": " + e.what());
  }
}

}  // namespace scorepipe::testing
