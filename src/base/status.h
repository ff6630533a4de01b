// Status and Result<T>: the one error type used across gradebridge.
//
// A Status carries three things:
//   - a Code, the coarse category; it alone decides the HTTP status (HttpStatusFor) and the
//     generic user-facing wording, so the mapping lives in exactly one place;
//   - a reason, a stable machine-readable identifier such as "launch.bad_signature" that
//     tests, logs and API clients match on ("error" in JSON error bodies);
//   - a message, plain-language text for a person, which must never contain secrets or tokens.
// A default-constructed Status is OK.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace gb {

enum class Code {
  kOk = 0,
  kInvalidArgument,     // the caller sent something malformed            -> 400
  kUnauthenticated,     // missing or bad credentials / signature          -> 401
  kPermissionDenied,    // authenticated but not allowed                   -> 403
  kNotFound,            // no such thing (or not visible to this caller)   -> 404
  kConflict,            // already exists / replayed / state mismatch      -> 409
  kPayloadTooLarge,     // body or token over its bound                    -> 413
  kUnsupported,         // a valid but unsupported request                 -> 422
  kResourceExhausted,   // rate limited / quota                            -> 429
  kFailedPrecondition,  // system not in a state to do this                -> 412
  kUnavailable,         // a dependency is down; retrying may help         -> 503
  kDeadlineExceeded,    // timed out; retrying may help                    -> 504
  kInternal,            // a bug or an unexpected environment failure      -> 500
};

std::string_view CodeName(Code code);
int HttpStatusFor(Code code);
// Generic text for a code, used when a message is not safe or not set.
std::string_view DefaultMessageFor(Code code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Code code, std::string reason, std::string message)
      : code_(code), reason_(std::move(reason)), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& reason() const { return reason_; }
  const std::string& message() const { return message_; }
  int http_status() const { return HttpStatusFor(code_); }

  // "reason: message" for logs and test failure output.
  std::string ToString() const;

  // Returns a copy whose message is prefixed with context ("loading key: ...").
  Status WithContext(std::string_view context) const;

 private:
  Code code_ = Code::kOk;
  std::string reason_;
  std::string message_;
};

// Shorthands: Error(Code::kNotFound, "registration.unknown", "No registration for ...").
inline Status Error(Code code, std::string reason, std::string message) {
  return Status(code, std::move(reason), std::move(message));
}

// Result<T> holds either a value or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : data_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : data_(std::move(status)) {  // NOLINT: implicit by design
    assert(!std::get<Status>(data_).ok() && "Result built from an OK status");
  }

  bool ok() const { return std::holds_alternative<T>(data_); }
  explicit operator bool() const { return ok(); }

  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(data_);
  }

  T& value() & {
    assert(ok());
    return std::get<T>(data_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<T>(data_);
  }
  T&& value() && {
    assert(ok());
    return std::get<T>(std::move(data_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  T value_or(T fallback) const& { return ok() ? std::get<T>(data_) : std::move(fallback); }

 private:
  std::variant<T, Status> data_;
};

}  // namespace gb

// Propagates a non-OK Status from an expression yielding Status.
#define GB_RETURN_IF_ERROR(expr)              \
  do {                                        \
    ::gb::Status gb_status_tmp_ = (expr);     \
    if (!gb_status_tmp_.ok()) return gb_status_tmp_; \
  } while (0)

#define GB_CONCAT_INNER_(a, b) a##b
#define GB_CONCAT_(a, b) GB_CONCAT_INNER_(a, b)

// GB_ASSIGN_OR_RETURN(auto x, ComputeResult()); propagates the error status.
#define GB_ASSIGN_OR_RETURN(lhs, expr) \
  GB_ASSIGN_OR_RETURN_IMPL_(GB_CONCAT_(gb_result_, __LINE__), lhs, expr)
#define GB_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) return tmp.status();             \
  lhs = std::move(tmp).value()
