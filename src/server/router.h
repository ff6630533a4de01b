// Router: maps (method, path) to a handler. Handlers are plain functions of the request — no
// sockets, no Beast types — so they are unit-testable without a server.
// Matching: exact paths first, then the longest registered prefix. A path that matches with another
// method gives 405; no match gives 404 (the server renders both as JSON errors).
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "http/message.h"

namespace gb::server {

using Handler = std::function<http::Response(const http::Request&)>;

struct RouteOptions {
  // Bodies above this are refused with 413 before the handler runs (and before they are read).
  size_t max_body_bytes = 64 * 1024;
  // The handler waits on something slow (a storage commit, the network). It then runs on the
  // server's handler pool (ServerOptions::handler_threads), so the I/O threads keep serving and
  // many such requests wait at once — which is what lets a group commit cover many of them.
  bool blocking = false;
};

class Router {
 public:
  void Add(std::string method, std::string path, Handler handler, RouteOptions options = {});
  // Matches any path that starts with `prefix` (e.g. "/api/v1/launches/").
  void AddPrefix(std::string method, std::string prefix, Handler handler, RouteOptions options = {});

  struct Match {
    const Handler* handler = nullptr;       // null: no route for this method
    const RouteOptions* options = nullptr;  // set when handler is set
    bool path_known = false;                // true when another method has this path (-> 405)
  };
  Match Find(std::string_view method, std::string_view path) const;

 private:
  struct Route {
    std::string method;
    std::string path;
    bool prefix = false;
    Handler handler;
    RouteOptions options;
  };
  std::vector<Route> routes_;
};

}  // namespace gb::server
