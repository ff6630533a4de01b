#include "server/errors.h"

#include <nlohmann/json.hpp>

#include "base/strings.h"

namespace gb::server {
namespace {

struct Parts {
  int http_status;
  std::string error;
  std::string message;
};

Parts PartsOf(const Status& status) {
  Code code = status.ok() ? Code::kInternal : status.code();
  Parts p;
  p.http_status = HttpStatusFor(code);
  p.error = (status.ok() || status.reason().empty()) ? std::string(CodeName(code)) : status.reason();
  p.message = (status.ok() || status.message().empty()) ? std::string(DefaultMessageFor(code))
                                                        : status.message();
  return p;
}

}  // namespace

http::Response JsonError(const Status& status) {
  Parts p = PartsOf(status);
  return JsonError(p.http_status, p.error, p.message);
}

http::Response JsonError(int http_status, std::string_view error, std::string_view message) {
  nlohmann::json body = {{"error", error}, {"message", message}};
  // `replace`: a message with invalid UTF-8 must not throw out of the error path.
  auto response = http::Response::Json(http_status, body.dump(-1, ' ', false,
                                                                nlohmann::json::error_handler_t::replace));
  response.headers.Add("Cache-Control", "no-store");
  return response;
}

http::Response HtmlError(const Status& status, std::string_view title) {
  Parts p = PartsOf(status);
  std::string t = HtmlEscape(title.empty() ? std::string_view("Something went wrong") : title);
  std::string html;
  html.reserve(1024);
  html +=
      "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>";
  html += t;
  html +=
      "</title>\n<style>body{font-family:system-ui,sans-serif;max-width:40em;margin:3em auto;"
      "padding:0 1em;color:#222;line-height:1.5}h1{font-size:1.4em}"
      "small{color:#666}</style>\n</head>\n<body>\n<h1>";
  html += t;
  html += "</h1>\n<p>";
  html += HtmlEscape(p.message);
  html += "</p>\n<p><small>Error code: ";
  html += HtmlEscape(p.error);
  html += " (HTTP ";
  html += std::to_string(p.http_status);
  html += ")</small></p>\n</body>\n</html>\n";
  return http::Response::Html(p.http_status, std::move(html));
}

}  // namespace gb::server
