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
    Result<StatusSnapshot> parsed = ParseStatusJson(reply.to_string());
    if (!parsed.ok()) return parsed.status().WithContext("the status from " + endpoint_);
    ClusterStatus status;
    static_cast<StatusSnapshot&>(status) = std::move(parsed.value());
    return status;
  } catch (const zmq::error_t& e) {
    socket_.reset();
    return Status::Error("status query to " + endpoint_ + ": " + e.what());
  }
}

}  // namespace scorepipe::testing
