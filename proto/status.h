// Status and Result<T>: expected failures as values, with context.
//
// Every fallible operation in scorepipe returns one of these instead of
// throwing. A Status names what failed and where ("topology.yaml:12: key
// 'port': 70000 is out of range [1, 65535]"); callers add context with
// WithContext() as the error travels up. Library exceptions are caught at the
// component boundary and turned into a Status there.
//
// Value types; any thread may use its own copy.
#ifndef SCOREPIPE_PROTO_STATUS_H_
#define SCOREPIPE_PROTO_STATUS_H_

#include <optional>
#include <string>
#include <utility>

namespace scorepipe {

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK.
  static Status Ok() { return Status(); }
  static Status Error(std::string message) { return Status(std::move(message), true); }

  bool ok() const { return !failed_; }
  const std::string& message() const { return message_; }

  // Returns this error with "context: " in front; an OK status stays OK.
  Status WithContext(const std::string& context) const {
    if (ok()) return *this;
    return Error(context + ": " + message_);
  }

 private:
  Status(std::string message, bool failed) : message_(std::move(message)), failed_(failed) {}
  std::string message_;
  bool failed_ = false;
};

// Either a T or the Status saying why there is none.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}         // NOLINT: implicit by design.
  Result(Status status) : status_(std::move(status)) {  // NOLINT: implicit by design.
    if (status_.ok()) status_ = Status::Error("Result built from an OK status without a value");
  }

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }

  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() { return *value_; }
  const T& operator*() const { return *value_; }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace scorepipe

#endif  // SCOREPIPE_PROTO_STATUS_H_
