#include "base/status.h"

namespace gb {

std::string_view CodeName(Code code) {
  switch (code) {
    case Code::kOk: return "ok";
    case Code::kInvalidArgument: return "invalid_argument";
    case Code::kUnauthenticated: return "unauthenticated";
    case Code::kPermissionDenied: return "permission_denied";
    case Code::kNotFound: return "not_found";
    case Code::kConflict: return "conflict";
    case Code::kPayloadTooLarge: return "payload_too_large";
    case Code::kUnsupported: return "unsupported";
    case Code::kResourceExhausted: return "resource_exhausted";
    case Code::kFailedPrecondition: return "failed_precondition";
    case Code::kUnavailable: return "unavailable";
    case Code::kDeadlineExceeded: return "deadline_exceeded";
    case Code::kInternal: return "internal";
  }
  return "internal";
}

int HttpStatusFor(Code code) {
  switch (code) {
    case Code::kOk: return 200;
    case Code::kInvalidArgument: return 400;
    case Code::kUnauthenticated: return 401;
    case Code::kPermissionDenied: return 403;
    case Code::kNotFound: return 404;
    case Code::kConflict: return 409;
    case Code::kPayloadTooLarge: return 413;
    case Code::kUnsupported: return 422;
    case Code::kResourceExhausted: return 429;
    case Code::kFailedPrecondition: return 412;
    case Code::kUnavailable: return 503;
    case Code::kDeadlineExceeded: return 504;
    case Code::kInternal: return 500;
  }
  return 500;
}

std::string_view DefaultMessageFor(Code code) {
  switch (code) {
    case Code::kOk: return "OK";
    case Code::kInvalidArgument: return "The request is malformed.";
    case Code::kUnauthenticated: return "The request could not be authenticated.";
    case Code::kPermissionDenied: return "You are not allowed to do this.";
    case Code::kNotFound: return "Not found.";
    case Code::kConflict: return "The request conflicts with the current state.";
    case Code::kPayloadTooLarge: return "The request is too large.";
    case Code::kUnsupported: return "This request is not supported.";
    case Code::kResourceExhausted: return "Too many requests; try again later.";
    case Code::kFailedPrecondition: return "The system is not ready for this request.";
    case Code::kUnavailable: return "A service needed for this request is unavailable.";
    case Code::kDeadlineExceeded: return "The request timed out.";
    case Code::kInternal: return "An internal error occurred.";
  }
  return "An internal error occurred.";
}

std::string Status::ToString() const {
  if (ok()) return "ok";
  std::string out = reason_.empty() ? std::string(CodeName(code_)) : reason_;
  if (!message_.empty()) {
    out += ": ";
    out += message_;
  }
  return out;
}

Status Status::WithContext(std::string_view context) const {
  if (ok()) return *this;
  std::string msg(context);
  msg += ": ";
  msg += message_;
  return Status(code_, reason_, std::move(msg));
}

}  // namespace gb
