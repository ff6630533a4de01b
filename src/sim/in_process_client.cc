#include "sim/in_process_client.h"

#include <exception>

#include "base/url.h"
#include "sim/faults.h"

namespace gb::sim {

void InProcessHttpClient::Mount(std::string origin, const server::Router* router) {
  std::lock_guard lock(mu_);
  routers_[std::move(origin)] = router;
}

Result<http::Response> InProcessHttpClient::Send(const http::Request& request,
                                                 const http::RequestOptions& options) {
  GB_ASSIGN_OR_RETURN(Url url, Url::Parse(request.url));
  const server::Router* router = nullptr;
  {
    std::lock_guard lock(mu_);
    log_.push_back(request.method + " " + request.url);
    auto it = routers_.find(url.Origin());
    if (it != routers_.end()) router = it->second;
  }
  if (!router) {
    return Error(Code::kUnavailable, "http.transport", "Connection refused: nothing mounted at " + url.Origin());
  }
  http::Request in;
  in.method = request.method;
  in.target = url.Target();
  in.headers = request.headers;
  if (!in.headers.Has("Host")) {
    bool default_port = (url.scheme == "http" && url.port == 80) || (url.scheme == "https" && url.port == 443);
    in.headers.Add("Host", default_port ? url.host : url.host + ":" + std::to_string(url.port));
  }
  in.body = request.body;
  in.remote_address = "127.0.0.1";
  in.request_id = "inproc";

  http::Response response;
  auto match = router->Find(in.method, url.path);
  if (!match.handler) {
    response = match.path_known
                   ? http::Response::Json(405, R"({"error":"method_not_allowed","message":"Method not allowed"})")
                   : http::Response::Json(404, R"({"error":"not_found","message":"Not found"})");
  } else if (match.options && in.body.size() > match.options->max_body_bytes) {
    response = http::Response::Json(413, R"({"error":"payload_too_large","message":"Body too large"})");
  } else {
    try {
      response = (*match.handler)(in);
    } catch (const std::exception&) {
      response = http::Response::Json(500, R"({"error":"internal","message":"Internal error"})");
    }
  }
  if (IsDropConnection(response)) {
    // A simulated dropped connection: the peer closed without answering (faults.h).
    return Error(Code::kUnavailable, "http.transport", "Connection closed by the server without a response");
  }
  if (response.body.size() > options.max_response_bytes) {
    return Error(Code::kPayloadTooLarge, "http.response_too_large", "Response body too large");
  }
  return response;
}

void InProcessHttpClient::SendAsync(http::Request request, http::RequestOptions options, Callback done) {
  done(Send(request, options));
}

std::vector<std::string> InProcessHttpClient::log() const {
  std::lock_guard lock(mu_);
  return log_;
}

}  // namespace gb::sim
