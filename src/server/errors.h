// The one place where a Status becomes an HTTP error response.
//   JsonError: for APIs — {"error": reason (or the code's name), "message": message (or the code's
//              generic text)}, HTTP status from HttpStatusFor(code).
//   HtmlError: for browser-facing LTI endpoints — a small readable page (title, message, and the
//              reason in small print), same status mapping, everything HTML-escaped.
// An OK Status passed here is a caller bug and renders as 500 "internal".
#pragma once

#include <string_view>

#include "base/status.h"
#include "http/message.h"

namespace gb::server {

http::Response JsonError(const Status& status);
http::Response HtmlError(const Status& status, std::string_view title);

// Protocol-level errors whose HTTP status no Code maps to (405, 431); same JSON shape.
http::Response JsonError(int http_status, std::string_view error, std::string_view message);

}  // namespace gb::server
