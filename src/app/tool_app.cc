#include "app/tool_app.h"

#include "app/admin.h"
#include "app/grade_passback.h"
#include "app/members_api.h"
#include "app/lti11_keys.h"
#include "app/lti11_launch.h"
#include "app/score_api.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "base/log.h"
#include "base/random.h"
#include "base/strings.h"
#include "base/url.h"
#include "http/curl/curl_client.h"
#include "jose/jose.h"
#include "lti/handoff.h"
#include "lti/jwks_cache.h"
#include "lti/ags_client.h"
#include "lti/key_ring.h"
#include "lti/nrps_client.h"
#include "lti/roster_sync.h"
#include "lti/service_token.h"
#include "passback/dispatcher.h"
#include "platforms/late_enrolment_sink.h"
#include "platforms/grade_sink_router.h"
#include "platforms/lti11/outcomes_grade_sink.h"
#include "platforms/lti13/ags_grade_sink.h"
#include "platforms/lti13/nrps_roster_source.h"
#include "lti/launch_validator.h"
#include "lti/oidc_login.h"
#include "lti/registration_cache.h"
#include "lti/tenant_cache.h"
#include "lti/tool_configuration.h"
#include "server/errors.h"
#include "server/http_server.h"
#include "storage/sqlite/sqlite_store.h"

namespace gb::app {

Result<std::string> LoadOrCreateDataKey(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    if ((st.st_mode & 077) != 0) {
      return Error(Code::kFailedPrecondition, "data_key.permissions",
                   "The data key file " + path + " is readable by group or others; run chmod 600 on it.");
    }
    std::ifstream in(path);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto key = Base64Decode(std::string(Trim(text)));
    if (!key || key->size() != 32) {
      return Error(Code::kFailedPrecondition, "data_key.invalid",
                   "The data key file " + path + " does not hold a base64 32-byte key.");
    }
    return *key;
  }
  std::string key(32, '\0');
  SecureRandom::Instance().Fill(std::span<uint8_t>(reinterpret_cast<uint8_t*>(key.data()), key.size()));
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0) {
    return Error(Code::kFailedPrecondition, "data_key.create_failed",
                 "Cannot create the data key file " + path + ": " + std::strerror(errno));
  }
  std::string text = Base64Encode(key) + "\n";
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) return Error(Code::kInternal, "data_key.create_failed", "Cannot write the data key file " + path + ".");
  LogInfo("data_key.created", {{"path", path}});
  return key;
}

Status WritePortFile(const std::string& path, uint16_t port) {
  // Write-then-rename so a reader polling the file never sees a partial number.
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    out << port << "\n";
    if (!out) return Error(Code::kInternal, "port_file.write_failed", "Cannot write " + tmp + ".");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    return Error(Code::kInternal, "port_file.write_failed", "Cannot rename " + tmp + " to " + path + ".");
  }
  return Status::Ok();
}

namespace {

using http::Request;
using http::Response;
using nlohmann::json;

std::string Page(std::string_view title, std::string_view body_html) {
  std::string out = "<!doctype html><html><head><meta charset=\"utf-8\"><title>";
  out += HtmlEscape(title);
  out += "</title><style>body{font-family:system-ui,sans-serif;margin:2em;max-width:44em}"
         "dt{font-weight:600}code{background:#f4f4f4;padding:0 .2em}</style></head><body>";
  out += body_html;
  out += "</body></html>";
  return out;
}

// Form fields from the query (GET) or an urlencoded body (POST).
Result<FormFields> RequestFields(const Request& req) {
  std::string_view source;
  std::string query = req.Query();
  if (req.method == "POST") {
    auto ct = req.headers.Get("Content-Type").value_or("");
    if (!StartsWith(ToLower(ct), "application/x-www-form-urlencoded")) {
      return Error(Code::kInvalidArgument, "request.bad_content_type",
                   "Expected an application/x-www-form-urlencoded form post.");
    }
    source = req.body;
  } else {
    source = query;
  }
  auto fields = ParseForm(source);
  if (!fields) return Error(Code::kInvalidArgument, "request.bad_form", "The form data is not valid url-encoding.");
  return *fields;
}

}  // namespace

struct ToolApp::Impl {
  Config config;
  std::string public_url;
  std::unique_ptr<storage::SqliteStore> store;
  // What logins, launches and the score API read registrations through (the admin CLI writes the
  // store directly; its changes are seen within the cache's TTL).
  std::unique_ptr<lti::CachedRegistrations> registrations;
  std::unique_ptr<lti::CachedTenants> tenants;  // API key -> tenant, same TTL
  std::string data_key;
  std::unique_ptr<http::HttpClient> http_client;
  std::unique_ptr<lti::KeyRing> keys;
  std::unique_ptr<lti::JwksCache> jwks;
  std::unique_ptr<lti::LoginStateCodec> codec;
  std::unique_ptr<lti::OidcLogin> login;
  std::unique_ptr<lti::LaunchValidator> validator;
  std::unique_ptr<lti::LaunchHandOff> handoff;
  std::unique_ptr<lti::ServiceTokenClient> service_tokens;
  std::unique_ptr<lti::AgsClient> ags;
  std::unique_ptr<platforms::AgsGradeSink> grade_sink;
  std::unique_ptr<lti::NrpsClient> nrps;
  std::unique_ptr<lti::RosterSync> roster_sync;
  std::unique_ptr<platforms::NrpsRosterSource> roster_source;
  std::unique_ptr<platforms::LateEnrolmentGradeSink> checked_sink;  // grade_sink + roster re-check
  std::unique_ptr<MembersApi> members;
  std::unique_ptr<lti11::OutcomesClient> outcomes;
  std::unique_ptr<platforms::OutcomesGradeSink> outcomes_sink;
  std::unique_ptr<platforms::GradeSinkRouter> sink_router;
  std::unique_ptr<Lti11LaunchEndpoint> lti11_launch;
  std::unique_ptr<passback::Dispatcher> dispatcher;
  std::unique_ptr<ScoreApi> scores;
  std::unique_ptr<GradePassbackApi> grade_passback;
  std::unique_ptr<server::HttpServer> server;
  bool secure_cookies = false;

  server::Router BuildRouter();
  // After binding: the public URL is known (listen may say port 0), so login can be built.
  Status BindAndPrepare();
  Response HandleLogin(const Request& req);
  Response HandleLaunch(const Request& req);
  Response HandleRedeem(const Request& req);
  Response HandleCanvasJson(const Request& req) const;
  Result<lti::Tenant> Authenticate(const Request& req);
};

Response ToolApp::Impl::HandleLogin(const Request& req) {
  auto fields = RequestFields(req);
  if (!fields.ok()) return server::HtmlError(fields.status(), "Login refused");
  auto parsed = lti::LoginRequest::FromForm(*fields);
  if (!parsed.ok()) return server::HtmlError(parsed.status(), "Login refused");
  auto result = login->Start(*parsed);
  if (!result.ok()) {
    LogWarn("login.rejected", {{"reason", result.status().reason()}, {"iss", parsed->iss}});
    return server::HtmlError(result.status(), "Login refused");
  }
  Response resp = Response::Redirect(result->auth_url, 302);
  http::CookieOptions cookie;
  cookie.path = "/";
  cookie.max_age_seconds = result->cookie_max_age;
  cookie.secure = secure_cookies;
  cookie.http_only = true;
  cookie.same_site = secure_cookies ? "None" : "Lax";
  resp.headers.Add("Set-Cookie", http::BuildSetCookie(result->cookie_name, result->cookie_value, cookie));
  return resp;
}

Response ToolApp::Impl::HandleLaunch(const Request& req) {
  auto fields = RequestFields(req);
  if (!fields.ok()) return server::HtmlError(fields.status(), "Launch refused");
  if (auto err = FormValue(*fields, "error")) {
    std::string desc = FormValue(*fields, "error_description").value_or("");
    Status s = Error(Code::kInvalidArgument, "launch.platform_error",
                     "The platform refused the login: " + *err + (desc.empty() ? "" : " (" + desc + ")"));
    LogWarn("launch.rejected", {{"reason", s.reason()}, {"platform_error", *err}});
    return server::HtmlError(s, "Launch refused");
  }
  lti::LaunchInput in;
  in.id_token = FormValue(*fields, "id_token").value_or("");
  in.state = FormValue(*fields, "state").value_or("");
  if (!in.state.empty()) {
    in.state_cookie = http::GetCookie(req.headers, std::string(lti::kStateCookiePrefix) + in.state);
  }
  for (const auto& v : req.headers.GetAll("Cookie")) {
    if (v.find(lti::kStateCookiePrefix) != std::string::npos) in.any_state_cookie = true;
  }
  auto verified = validator->Validate(in);
  if (!verified.ok()) {
    LogWarn("launch.rejected", {{"reason", verified.status().reason()}});
    return server::HtmlError(verified.status(), "Launch refused");
  }
  // LTI 1.1 -> 1.3 migration: keep the 1.1 user id when the lti1p1 claim's signature checks out.
  std::string migration_refused;
  std::string lti11_user =
      VerifiedLti1p1UserId(verified->claims(), verified->registration(), *store, data_key, &migration_refused);
  if (!migration_refused.empty()) LogWarn("launch.lti1p1_ignored", {{"reason", migration_refused}});
  auto done = handoff->CompleteLaunch(
      [&](std::string id, int64_t now) {
        lti::Launch l = lti::Launch::FromVerified(*verified, std::move(id), now);
        l.lti11_user_id = lti11_user;
        return l;
      },
      verified->registration());
  if (!done.ok()) return server::HtmlError(done.status(), "Launch failed");
  const lti::Launch& l = done->launch;
  LogInfo("launch.accepted", {{"launch_id", l.id}, {"iss", l.issuer}, {"client_id", l.client_id},
                              {"deployment_id", l.deployment_id}, {"message_type", l.message_type}});
  Response resp;
  if (!done->redirect_url.empty()) {
    resp = Response::Redirect(done->redirect_url, 303);
  } else {
    std::string roles;
    for (const auto& r : l.role_names) roles += (roles.empty() ? "" : ", ") + r;
    std::string body = "<h1>Launch received</h1><dl>";
    auto row = [&](std::string_view k, std::string_view v) {
      body += "<dt>" + HtmlEscape(k) + "</dt><dd>" + HtmlEscape(v.empty() ? "(not sent)" : v) + "</dd>";
    };
    row("User", l.user.name.empty() ? l.user.id : l.user.name + " (" + l.user.id + ")");
    row("Role", roles);
    row("Context", l.context ? (l.context->title.empty() ? l.context->id : l.context->title + " (" + l.context->id + ")") : "");
    row("Resource link", l.resource_link ? (l.resource_link->title.empty() ? l.resource_link->id
                                                                          : l.resource_link->title + " (" + l.resource_link->id + ")")
                                         : "");
    row("Message type", l.message_type);
    row("Launch id", l.id);
    body += "</dl><p>This registration has no target URL; set one with <code>gradebridge registration add "
            "--target-url</code> to hand launches to your tool.</p>";
    resp = Response::Html(200, Page("Launch received", body));
  }
  // The state cookie has done its job; clear it.
  http::CookieOptions clear;
  clear.max_age_seconds = 0;
  clear.secure = secure_cookies;
  clear.same_site = secure_cookies ? "None" : "Lax";
  resp.headers.Add("Set-Cookie", http::BuildSetCookie(std::string(lti::kStateCookiePrefix) + in.state, "", clear));
  return resp;
}

Result<lti::Tenant> ToolApp::Impl::Authenticate(const Request& req) {
  auto auth = req.headers.Get("Authorization");
  if (!auth || !StartsWith(ToLower(*auth), "bearer ")) {
    return Error(Code::kUnauthenticated, "api.missing_key", "Send the tenant API key as 'Authorization: Bearer <key>'.");
  }
  std::string key(Trim(std::string_view(*auth).substr(7)));
  auto tenant = tenants->FindTenantByApiKeyHash(HashSecret(key));
  if (!tenant.ok()) return Error(Code::kUnauthenticated, "api.bad_key", "The API key is not valid.");
  return tenant;
}

Response ToolApp::Impl::HandleRedeem(const Request& req) {
  auto tenant = Authenticate(req);
  if (!tenant.ok()) return server::JsonError(tenant.status());
  std::string path = req.Path();
  std::string token = path.substr(std::string_view("/api/v1/launches/").size());
  auto launch = handoff->Redeem(token, tenant->id);
  if (!launch.ok()) return server::JsonError(launch.status());
  return Response::Json(200, launch->ToJson().dump());
}

// The Canvas developer-key configuration (platforms.md A9). Public: an administrator pastes this
// URL into Canvas ("Enter URL"), and it names nothing secret.
Response ToolApp::Impl::HandleCanvasJson(const Request&) const {
  lti::ToolDescription tool;
  tool.title = config.tool_title;
  tool.description = config.tool_description;
  tool.public_url = public_url;
  tool.canvas_privacy_level = config.canvas_privacy_level;
  return Response::Json(200, lti::CanvasDeveloperKeyJson(tool).dump(2));
}

server::Router ToolApp::Impl::BuildRouter() {
  server::Router r;
  // Login only reads (cached) state and signs a cookie: it runs on the I/O threads. Everything that
  // commits, or may fetch from a platform, is `blocking` and runs on the handler pool.
  server::RouteOptions form_limits;
  form_limits.max_body_bytes = 64 * 1024;
  server::RouteOptions launch_limits = form_limits;
  launch_limits.blocking = true;  // nonce + launch commit; a JWKS fetch on an unknown kid
  server::RouteOptions api_blocking;
  api_blocking.blocking = true;
  r.Add("GET", "/lti/login", [this](const Request& q) { return HandleLogin(q); }, form_limits);
  r.Add("POST", "/lti/login", [this](const Request& q) { return HandleLogin(q); }, form_limits);
  r.Add("POST", "/lti/launch", [this](const Request& q) { return HandleLaunch(q); }, launch_limits);
  r.Add("POST", "/lti11/launch", [this](const Request& q) { return lti11_launch->Handle(q); }, launch_limits);
  r.Add("GET", "/.well-known/jwks.json", [this](const Request&) {
    Response resp = Response::Json(200, keys->PublishedJwksJson());
    resp.headers.Set("Cache-Control", "public, max-age=300");
    return resp;
  });
  r.Add("GET", "/lti/canvas.json", [this](const Request& q) { return HandleCanvasJson(q); });
  r.AddPrefix("GET", "/api/v1/launches/", [this](const Request& q) { return HandleRedeem(q); }, api_blocking);
  server::RouteOptions score_limits;
  score_limits.max_body_bytes = 64 * 1024;
  score_limits.blocking = true;
  r.Add("POST", "/api/v1/scores", [this](const Request& q) { return scores->Submit(q); }, score_limits);
  r.AddPrefix("GET", "/api/v1/scores/", [this](const Request& q) { return scores->GetStatus(q); }, api_blocking);
  r.AddPrefix("GET", "/api/v1/contexts/", [this](const Request& q) { return members->List(q); }, api_blocking);
  r.Add("POST", "/lti/grade_passback", [this](const Request& q) { return grade_passback->Handle(q); }, score_limits);
  r.Add("GET", "/healthz", [](const Request&) { return Response::Text(200, "ok\n"); });
  r.Add("GET", "/readyz", [this](const Request&) {
    auto v = store->SchemaVersion();
    if (!v.ok()) return server::JsonError(Error(Code::kUnavailable, "not_ready", v.status().message()));
    return Response::Text(200, "ready\n");
  }, api_blocking);
  return r;
}

ToolApp::ToolApp(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ToolApp::~ToolApp() {
  if (impl_ && impl_->server) {
    impl_->server->Stop();
    impl_->server->Join();
  }
}

Result<std::unique_ptr<ToolApp>> ToolApp::Create(const Config& config, bool handle_signals) {
  auto impl = std::make_unique<Impl>();
  impl->config = config;
  // Without public_url the tool is reached at http://<listen> (the port may still be 0 here).
  std::string scheme = "http";
  if (!config.public_url.empty()) {
    GB_ASSIGN_OR_RETURN(auto public_url, Url::Parse(config.EffectivePublicUrl()));
    scheme = public_url.scheme;
  }
  if (scheme != "https" && !config.dev_mode) {
    return Error(Code::kFailedPrecondition, "config.public_url_not_https",
                 "public_url must be https:// (LMSs require it); set dev_mode = true for local http testing.");
  }
  impl->secure_cookies = scheme == "https";
  GB_RETURN_IF_ERROR(lti::ValidateCanvasPrivacyLevel(config.canvas_privacy_level));
  GB_ASSIGN_OR_RETURN(std::string db_path, config.SqlitePath());
  GB_ASSIGN_OR_RETURN(impl->store, storage::SqliteStore::Open(db_path));
  GB_ASSIGN_OR_RETURN(impl->data_key, LoadOrCreateDataKey(config.EffectiveDataKeyFile()));

  Clock& clock = SystemClock::Instance();
  impl->registrations = std::make_unique<lti::CachedRegistrations>(
      *impl->store, clock, std::chrono::milliseconds(config.registration_cache_ms));
  impl->tenants = std::make_unique<lti::CachedTenants>(*impl->store, clock,
                                                       std::chrono::milliseconds(config.registration_cache_ms));
  Random& random = SecureRandom::Instance();
  http::CurlClientOptions http_options;
  http_options.allow_insecure = config.dev_mode;
  impl->http_client = http::MakeCurlHttpClient(http_options);
  impl->keys = std::make_unique<lti::KeyRing>(*impl->store, impl->data_key, clock, random);
  GB_RETURN_IF_ERROR(impl->keys->Load());
  impl->jwks = std::make_unique<lti::JwksCache>(*impl->http_client, clock);
  impl->codec = std::make_unique<lti::LoginStateCodec>(jose::HmacSha256(impl->data_key, "gradebridge login state v1"));

  lti::ValidatorSettings vs;
  vs.leeway = std::chrono::seconds(config.launch_leeway_seconds);
  vs.max_token_bytes = static_cast<size_t>(config.max_id_token_bytes);
  impl->validator = std::make_unique<lti::LaunchValidator>(*impl->registrations, *impl->store, *impl->jwks, *impl->codec, clock, vs);
  impl->handoff = std::make_unique<lti::LaunchHandOff>(*impl->store, clock, random,
                                                       std::chrono::seconds(config.launch_token_ttl_seconds));

  impl->scores = std::make_unique<ScoreApi>(*impl->registrations, *impl->store, *impl->store, clock, random,
                                            [raw = impl.get()](const Request& q) { return raw->Authenticate(q); });
  impl->grade_passback = std::make_unique<GradePassbackApi>(*impl->store, *impl->registrations, *impl->scores, clock);

  impl->service_tokens = std::make_unique<lti::ServiceTokenClient>(*impl->http_client, *impl->keys, clock, random);
  impl->ags = std::make_unique<lti::AgsClient>(*impl->http_client, *impl->service_tokens);
  impl->grade_sink = std::make_unique<platforms::AgsGradeSink>(*impl->ags, clock);
  // Late enrolment (docs/roster.md): a score refused for an unknown user re-reads the roster first.
  impl->nrps = std::make_unique<lti::NrpsClient>(*impl->http_client, *impl->service_tokens);
  impl->roster_sync = std::make_unique<lti::RosterSync>(*impl->nrps, *impl->store, clock);
  impl->roster_source = std::make_unique<platforms::NrpsRosterSource>(*impl->roster_sync, *impl->store, clock);
  impl->checked_sink = std::make_unique<platforms::LateEnrolmentGradeSink>(*impl->grade_sink, *impl->roster_source);
  impl->members = std::make_unique<MembersApi>(*impl->registrations, *impl->store,
                                               [raw = impl.get()](const Request& q) { return raw->Authenticate(q); });
  impl->outcomes = std::make_unique<lti11::OutcomesClient>(*impl->http_client, clock, random);
  impl->outcomes_sink = std::make_unique<platforms::OutcomesGradeSink>(
      *impl->outcomes,
      [raw = impl.get()](const lti::Registration& reg) {
        return Lti11CredentialsFor(*raw->store, raw->data_key, reg);
      },
      clock);
  impl->sink_router = std::make_unique<platforms::GradeSinkRouter>(*impl->checked_sink, *impl->outcomes_sink);
  impl->lti11_launch = std::make_unique<Lti11LaunchEndpoint>(*impl->store, *impl->store, *impl->store, *impl->handoff,
                                                             clock, impl->data_key,
                                                             config.lti11_timestamp_window_seconds);
  passback::DispatcherOptions dispatch;
  dispatch.node_id = config.EffectiveNodeId();
  dispatch.workers = config.passback_workers;
  dispatch.retry.max_attempts = config.passback_max_attempts;
  dispatch.lease = std::chrono::seconds(config.passback_lease_seconds);
  impl->dispatcher = std::make_unique<passback::Dispatcher>(*impl->store, *impl->store, *impl->sink_router, clock,
                                                            random, dispatch);
  impl->scores->SetOnEnqueued([d = impl->dispatcher.get()] { d->Wake(); });

  server::ServerOptions so;
  so.listen = config.listen;
  so.threads = config.threads;
  so.handler_threads = config.handler_threads;
  so.access_log = config.access_log;
  so.handle_signals = handle_signals;
  impl->server = std::make_unique<server::HttpServer>(so, impl->BuildRouter());
  return std::unique_ptr<ToolApp>(new ToolApp(std::move(impl)));
}

Status ToolApp::Impl::BindAndPrepare() {
  GB_RETURN_IF_ERROR(server->Start());
  if (!config.public_url.empty()) {
    public_url = config.EffectivePublicUrl();
  } else {
    auto colon = config.listen.rfind(':');
    public_url = "http://" + config.listen.substr(0, colon) + ":" + std::to_string(server->port());
  }
  GB_ASSIGN_OR_RETURN(auto url, Url::Parse(public_url));
  lti11_launch->SetPublicUrl(public_url);
  lti::LoginSettings login_settings;
  login_settings.redirect_uri = public_url + "/lti/launch";
  login_settings.tool_origin = url.Origin();
  login_settings.state_ttl = std::chrono::seconds(config.login_state_ttl_seconds);
  login = std::make_unique<lti::OidcLogin>(*registrations, *codec, SystemClock::Instance(), SecureRandom::Instance(),
                                           login_settings);
  if (config.passback_workers > 0) GB_RETURN_IF_ERROR(dispatcher->Start());
  if (!config.port_file.empty()) GB_RETURN_IF_ERROR(WritePortFile(config.port_file, server->port()));
  LogInfo("server.listening", {{"port", server->port()}, {"public_url", public_url}});
  return Status::Ok();
}

Status ToolApp::Start() {
  GB_RETURN_IF_ERROR(impl_->BindAndPrepare());
  impl_->server->RunInBackground();
  return Status::Ok();
}

uint16_t ToolApp::port() const { return impl_->server->port(); }

std::string ToolApp::public_url() const { return impl_->public_url; }

void ToolApp::Stop() {
  impl_->server->Stop();
  impl_->server->Join();
  impl_->dispatcher->Stop();
}

Status ToolApp::RunUntilSignalled() {
  GB_RETURN_IF_ERROR(impl_->BindAndPrepare());
  impl_->server->Run();
  // Deliveries in progress finish and are recorded; buffered ones go back to the queue.
  impl_->dispatcher->Stop();
  LogInfo("server.stopped");
  return Status::Ok();
}

}  // namespace gb::app
