#include "sim/simulator.h"

#include <mutex>
#include <utility>

#include "base/log.h"
#include "server/http_server.h"

namespace gb::sim {
namespace {

// The host part of "host:port" ("[::1]:0" -> "[::1]"), with wildcard addresses mapped to the
// loopback address a local client can reach.
std::string ListenHost(const std::string& listen) {
  std::string host = listen;
  size_t colon = listen.rfind(':');
  if (colon != std::string::npos && (listen.front() != '[' || listen.find(']') < colon)) {
    host = listen.substr(0, colon);
  }
  if (host.empty() || host == "0.0.0.0" || host == "*") return "127.0.0.1";
  if (host == "::" || host == "[::]") return "[::1]";
  if (host.find(':') != std::string::npos && host.front() != '[') return "[" + host + "]";
  return host;
}

}  // namespace

struct Simulator::Impl {
  SimOptions options;
  std::unique_ptr<Platform> platform;
  std::unique_ptr<server::HttpServer> server;
  std::once_flag stop_once;
  bool started = false;
};

Simulator::Simulator(SimOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
}

Simulator::~Simulator() { Stop(); }

Status Simulator::Start() {
  if (impl_->started) {
    return Error(Code::kFailedPrecondition, "sim.already_started", "The simulator is already running");
  }
  const SimOptions& o = impl_->options;
  PlatformOptions po;
  po.issuer = o.issuer;
  po.clock = o.clock;
  po.random = o.random;
  po.signing_key_pem = o.signing_key_pem;
  po.second_key_pem = o.second_key_pem;
  po.http_client = o.http_client;
  po.learners = o.learners;
  GB_ASSIGN_OR_RETURN(impl_->platform, Platform::Create(std::move(po)));

  server::Router router;
  impl_->platform->AddRoutes(router);
  server::ServerOptions so;
  so.listen = o.listen;
  so.threads = o.threads < 1 ? 1 : o.threads;
  so.access_log = o.access_log;
  so.server_name = "gradebridge-sim";
  auto server = std::make_unique<server::HttpServer>(so, std::move(router));
  GB_RETURN_IF_ERROR(server->Start().WithContext("simulator listen " + o.listen));
  impl_->platform->SetBaseUrl("http://" + ListenHost(o.listen) + ":" + std::to_string(server->port()));
  server->RunInBackground();
  impl_->server = std::move(server);
  impl_->started = true;
  LogInfo("sim.started", {{"base_url", impl_->platform->base_url()}, {"issuer", impl_->platform->issuer()}});
  return Status::Ok();
}

void Simulator::Stop() {
  if (!impl_ || !impl_->server) return;
  std::call_once(impl_->stop_once, [this] {
    impl_->server->Stop();
    impl_->server->Join();
  });
}

uint16_t Simulator::port() const { return impl_->server ? impl_->server->port() : 0; }

std::string Simulator::base_url() const { return impl_->platform ? impl_->platform->base_url() : ""; }

std::string Simulator::issuer() const { return impl_->platform ? impl_->platform->issuer() : ""; }

Platform& Simulator::platform() { return *impl_->platform; }
const Platform& Simulator::platform() const { return *impl_->platform; }

}  // namespace gb::sim
