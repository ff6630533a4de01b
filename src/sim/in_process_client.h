// InProcessHttpClient: an http::HttpClient that hands each request to a server::Router mounted in
// this process under an origin ("http://sim.test", "http://127.0.0.1:9"). No sockets and no
// threads: handlers run on the caller's thread. For fast end-to-end tests of whole launches (sim
// + tool routers driven by LaunchBrowser). Behaves like the server in the ways handlers can see:
// target in origin-form, Host header, 404/405/413 for unrouted or oversized requests. A response
// marked as a dropped connection (sim/faults.h) becomes an "http.transport" error, as a real
// client would see it.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "http/client.h"
#include "server/router.h"

namespace gb::sim {

class InProcessHttpClient final : public http::HttpClient {
 public:
  // `router` must outlive the client. `origin` is scheme://host[:port] as Url::Origin() prints it.
  void Mount(std::string origin, const server::Router* router);

  Result<http::Response> Send(const http::Request& request,
                              const http::RequestOptions& options = {}) override;
  // Runs synchronously, then calls `done`.
  void SendAsync(http::Request request, http::RequestOptions options, Callback done) override;

  // "METHOD url" of every request sent, in order.
  std::vector<std::string> log() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, const server::Router*> routers_;
  std::vector<std::string> log_;
};

}  // namespace gb::sim
