// libcurl implementation of HttpClient (see http/client.h for the contract).
//
// One curl multi handle driven by one background I/O thread: SendAsync queues the request and
// wakes the thread (curl_multi_wakeup), so hundreds of transfers can be in flight without a thread
// each; callbacks run on that thread. Send() is SendAsync plus a wait. Connections (and DNS
// results) are cached and reused by the multi handle; HTTP/2 is negotiated over TLS when offered.
//
// Security: TLS peer and host verification are always on; only http/https are allowed (https only
// unless allow_insecure); redirects are never followed (a 3xx is returned as the response); unless
// allow_insecure, http:// URLs and loopback targets ("localhost", *.localhost, 127.0.0.0/8, ::1,
// 0.0.0.0, ::) are refused before anything is sent (reason "http.insecure_url", kPermissionDenied),
// and so is a connection whose resolved address turns out to be loopback (DNS names, numeric
// shorthand hosts such as 2130706433).
//
// Errors: "url.invalid" (kInvalidArgument) for a malformed URL, "http.invalid_header"
// (kInvalidArgument) for a header with CR/LF/NUL, "http.insecure_url" (kPermissionDenied),
// "http.timeout" (kDeadlineExceeded), "http.response_too_large" (kPayloadTooLarge),
// "http.transport" (kUnavailable) for everything else on the wire, including a client shut down
// with the request still in flight.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "http/client.h"

namespace gb::http {

struct CurlClientOptions {
  // Dev mode: permits http:// and loopback targets. Never the default.
  bool allow_insecure = false;
  // Sent unless a request sets its own User-Agent header.
  std::string user_agent = std::string(kUserAgent);
  // Upper bound on open connections in total and per host (CURLMOPT_MAX_TOTAL_CONNECTIONS /
  // CURLMOPT_MAX_HOST_CONNECTIONS); transfers beyond it wait in curl's queue. 0 = unlimited.
  size_t max_connections = 256;
  size_t max_connections_per_host = 64;
  // Idle connections kept for reuse (CURLMOPT_MAXCONNECTS).
  size_t connection_cache_size = 64;
  // Optional CA bundle (PEM) instead of the system store, e.g. for a simulator with its own CA.
  std::string ca_file;
};

std::unique_ptr<HttpClient> MakeCurlHttpClient(CurlClientOptions options = {});

}  // namespace gb::http
