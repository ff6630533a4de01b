// HttpServer: the inbound HTTP/1.1 server (Boost.Beast, C++20 coroutines), one io_context run by
// `threads` threads. Owns nothing but sockets; what a request does is the Router's business.
//
// Guarantees:
//   - keep-alive; header block bounded (max_header_bytes, else 431); body bounded per route (413);
//   - a connection that stalls while sending a request is closed after read_timeout; an idle
//     keep-alive connection after idle_timeout;
//   - every request gets an id (X-Request-Id, echoed or generated) and one access-log line;
//   - a handler that throws yields a 500 JSON error, never a crash or a stack trace;
//   - handlers of blocking routes run on a separate pool of handler_threads, never on an I/O
//     thread, so a slow commit or outbound call does not stall other connections;
//   - Stop() (or SIGINT/SIGTERM when handle_signals) stops accepting, lets in-flight requests
//     finish for up to drain_timeout, then closes everything; Run() then returns.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "base/status.h"
#include "server/router.h"

namespace gb::server {

struct ServerOptions {
  std::string listen = "127.0.0.1:8787";  // host:port; port 0 picks a free port
  int threads = 2;  // I/O threads: they parse, run non-blocking handlers, and write
  // Threads for routes marked RouteOptions::blocking; 0 runs those handlers inline on the I/O
  // threads (fine for tests and for a server whose handlers never wait).
  int handler_threads = 0;
  size_t max_header_bytes = 16 * 1024;
  std::chrono::milliseconds read_timeout{15'000};
  std::chrono::milliseconds idle_timeout{60'000};
  std::chrono::milliseconds drain_timeout{10'000};
  bool access_log = true;
  bool handle_signals = false;  // install SIGINT/SIGTERM -> Stop()
  std::string server_name = "gradebridge";
};

class HttpServer {
 public:
  HttpServer(ServerOptions options, Router router);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and listens; after success port() is the bound port.
  Status Start();
  uint16_t port() const;
  // Serves until Stop(); blocks the calling thread (which is one of the `threads`).
  void Run();
  // Starts the serve threads and returns at once (tests, the demo).
  void RunInBackground();
  // Graceful drain; safe from any thread and from a signal-driven callback; idempotent.
  void Stop();
  // Waits for background threads after Stop().
  void Join();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace gb::server
