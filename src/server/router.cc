#include "server/router.h"

#include <utility>

namespace gb::server {

void Router::Add(std::string method, std::string path, Handler handler, RouteOptions options) {
  routes_.push_back(Route{std::move(method), std::move(path), false, std::move(handler), options});
}

void Router::AddPrefix(std::string method, std::string prefix, Handler handler, RouteOptions options) {
  routes_.push_back(Route{std::move(method), std::move(prefix), true, std::move(handler), options});
}

Router::Match Router::Find(std::string_view method, std::string_view path) const {
  Match match;
  // Exact routes win over any prefix. Among prefixes the longest wins; for equal routes the one
  // registered first.
  const Route* best_prefix = nullptr;
  for (const Route& r : routes_) {
    if (r.prefix) {
      if (path.size() < r.path.size() || path.compare(0, r.path.size(), r.path) != 0) continue;
      if (r.method != method) {
        match.path_known = true;
        continue;
      }
      if (best_prefix == nullptr || r.path.size() > best_prefix->path.size()) best_prefix = &r;
    } else {
      if (r.path != path) continue;
      if (r.method != method) {
        match.path_known = true;
        continue;
      }
      match.handler = &r.handler;
      match.options = &r.options;
      match.path_known = false;
      return match;
    }
  }
  if (best_prefix != nullptr) {
    match.handler = &best_prefix->handler;
    match.options = &best_prefix->options;
    match.path_known = false;
  }
  return match;
}

}  // namespace gb::server
