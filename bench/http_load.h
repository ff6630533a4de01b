// http_load: a small closed-loop HTTP/1.1 load generator for benchmarks (not a general client).
//
// `connections` keep-alive TCP connections to one host:port, spread over `threads` epoll loops.
// Each connection takes the next request index from a shared counter, writes the request, reads
// one response (status line, headers, Content-Length or chunked body, or a body delimited by
// close), hands it to the optional sink, and goes on with the next index on the same connection
// (reconnecting when the server answered "Connection: close" or the connection failed).
//
// Everything is bounded: a fixed number of requests and a wall-clock cap. Requests that are still
// unanswered (or never started) when the cap passes are counted as `unfinished`.
//
// Cost per request on the driver side: one send(), one epoll_wait() wake-up and usually one
// recv(), plus a linear scan of the header block; no allocation in steady state besides what the
// request source does.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gb::bench {

// One response as received. The views point into the connection's buffer and are valid only
// during the sink call.
struct HttpResponseView {
  int status = 0;
  std::string_view header_block;  // everything after the status line, up to (excluding) the blank line
  std::string_view body;          // de-chunked when the response was chunked

  // First value of a header (case-insensitive name), trimmed.
  std::optional<std::string_view> Header(std::string_view name) const;
  // Every value of a header (e.g. Set-Cookie).
  std::vector<std::string_view> Headers(std::string_view name) const;
};

// Appends the raw bytes of request `index` ("GET /x HTTP/1.1\r\nHost: ...\r\n\r\n") to `out`.
// Called from the driver threads; must be thread-safe when threads > 1 (reading shared immutable
// data is; each index is asked for exactly once).
using RequestSource = std::function<void(size_t index, std::string& out)>;
// Called for every complete response, from the driver thread that owns the connection. Each index
// is reported at most once, so writing to slot `index` of a pre-sized vector needs no lock.
using ResponseSink = std::function<void(size_t index, const HttpResponseView& response)>;

struct LoadOptions {
  std::string host = "127.0.0.1";  // numeric IPv4 address
  uint16_t port = 0;
  int connections = 64;
  int threads = 1;
  std::chrono::milliseconds max_duration{60'000};  // wall-clock cap for the whole run
  int expected_status = 200;  // anything else counts as an error
  size_t max_error_body = 2048;  // how much of the first error's body to keep
};

struct LoadResult {
  uint64_t requests = 0;    // asked for
  uint64_t completed = 0;   // responses received (any status)
  uint64_t ok = 0;          // responses with expected_status
  uint64_t errors = 0;      // wrong status + transport failures + unfinished
  uint64_t wrong_status = 0;
  uint64_t transport_errors = 0;  // connect/reset/parse failures (request lost)
  uint64_t unfinished = 0;        // not answered when the wall-clock cap passed
  uint64_t reconnects = 0;        // connections re-opened after close (server or error)
  bool timed_out = false;
  double seconds = 0;       // first request sent -> last response received
  // Latency of completed requests (request write start -> full response read), microseconds.
  double p50_us = 0, p90_us = 0, p99_us = 0, max_us = 0, mean_us = 0;
  std::string first_error;  // "status 400: <body>" or a transport error description
  double client_cpu_seconds = 0;  // user+sys CPU used by the driver threads (to show it is not the bottleneck)

  double rate() const { return seconds > 0 ? static_cast<double>(completed) / seconds : 0; }
  double ok_rate() const { return seconds > 0 ? static_cast<double>(ok) / seconds : 0; }
};

// Runs `total` requests. Blocks until all are answered or the wall-clock cap passes.
LoadResult RunLoad(const LoadOptions& options, size_t total, const RequestSource& source,
                   const ResponseSink& sink = nullptr);

// "GET <target> HTTP/1.1" with Host and the given extra header lines ("Name: value", no CRLF).
std::string BuildGet(std::string_view host_port, std::string_view target,
                     const std::vector<std::string>& extra_headers = {});
// "POST <target> HTTP/1.1" with Host, Content-Type, Content-Length, extra headers and the body.
std::string BuildPost(std::string_view host_port, std::string_view target, std::string_view content_type,
                      std::string_view body, const std::vector<std::string>& extra_headers = {});

}  // namespace gb::bench
