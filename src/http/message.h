// HTTP value types shared by the inbound server (server/) and the outbound client (http/curl/).
// Plain data: no I/O, no Boost, no curl. Header names compare case-insensitively.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace gb::http {

class Headers {
 public:
  // Appends (a header may repeat, e.g. Set-Cookie, Link).
  void Add(std::string name, std::string value);
  // Replaces every header of that name.
  void Set(std::string name, std::string value);
  // First value, case-insensitive name match.
  std::optional<std::string> Get(std::string_view name) const;
  std::vector<std::string> GetAll(std::string_view name) const;
  bool Has(std::string_view name) const { return Get(name).has_value(); }
  void Remove(std::string_view name);
  const std::vector<std::pair<std::string, std::string>>& entries() const { return entries_; }

 private:
  std::vector<std::pair<std::string, std::string>> entries_;
};

struct Request {
  std::string method;        // "GET", "POST", ...
  std::string target;        // origin-form as received: "/lti/login?iss=..." (server side)
  std::string url;           // absolute URL (client side)
  Headers headers;
  std::string body;

  // Server side: filled by the server from the connection.
  std::string remote_address;
  std::string request_id;

  std::string Path() const;   // target without the query
  std::string Query() const;  // raw query without '?'
};

struct Response {
  int status = 200;
  Headers headers;
  std::string body;
  // Fault injection only (the simulator's dropped connections): server::HttpServer closes the
  // connection without sending anything. Tool handlers never set it.
  bool drop_connection = false;

  static Response Text(int status, std::string body);
  static Response Html(int status, std::string body);
  static Response Json(int status, std::string body);
  // 303 See Other (or another 3xx) to `location`.
  static Response Redirect(std::string location, int status = 303);
};

// Link header (RFC 8288) parsing, tolerant of the forms platforms send: several links in one
// header or across headers, no spaces after commas (Canvas), curly quotes around rel (Moodle),
// several rels in one value. Returns the URL for `rel`, if any.
std::optional<std::string> FindLink(const Headers& headers, std::string_view rel);

// Cookie header parsing ("a=1; b=2") and Set-Cookie building.
std::optional<std::string> GetCookie(const Headers& headers, std::string_view name);
struct CookieOptions {
  std::string path = "/";
  int max_age_seconds = -1;  // -1: session cookie; 0: delete
  bool secure = true;
  bool http_only = true;
  std::string same_site = "None";  // "None" requires Secure in browsers; "Lax" in dev mode over http
};
std::string BuildSetCookie(std::string_view name, std::string_view value, const CookieOptions& options);

}  // namespace gb::http
