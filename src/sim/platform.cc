#include "sim/platform.h"

#include <algorithm>
#include <utility>

#include "base/log.h"
#include "base/strings.h"
#include "base/url.h"
#include "http/curl/curl_client.h"
#include "sim/faults.h"
#include "sim/gradebook.h"
#include "sim/lti11_consumer.h"
#include "sim/html.h"
#include "sim/lti_names.h"
#include "sim/roster.h"
#include "sim/token_endpoint.h"

namespace gb::sim {
namespace {

using nlohmann::json;

constexpr std::string_view kAlnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

http::Response JsonError(int status, std::string_view error, std::string_view message) {
  json body = {{"error", error}, {"message", message}};
  return http::Response::Json(status, body.dump());
}

http::Response HtmlErrorPage(int status, std::string_view title, std::string_view message) {
  std::string body = "<p>" + HtmlEscape(message) + "</p>\n<p><a href=\"/sim/\">Simulator home</a></p>";
  return http::Response::Html(status, SimplePage(title, body));
}

http::Response AutoSubmit(std::string_view action, std::string_view method, const FormFields& fields,
                          std::string_view title) {
  return http::Response::Html(200, AutoSubmitPage(title, action, method, fields));
}

int64_t LifetimeFor(Profile profile) {
  switch (profile) {
    case Profile::kMoodle: return 60;
    case Profile::kCanvas: return 3600;
    case Profile::kGeneric: return 300;
    case Profile::kBrightspace: return 300;
  }
  return 300;
}

std::string Membership(std::string_view role) { return std::string(lti::kRoleMembership) + std::string(role); }
std::string Institution(std::string_view role) { return std::string(lti::kRoleInstitution) + std::string(role); }
std::string System(std::string_view role) { return std::string(lti::kRoleSystem) + std::string(role); }

json RolesFor(const SimUser& user, Profile profile) {
  json roles = json::array();
  switch (user.role) {
    case CourseRole::kInstructor:
      if (profile == Profile::kCanvas) roles.push_back(Institution("Instructor"));
      if (profile == Profile::kMoodle) roles.push_back(Institution("Administrator"));
      roles.push_back(Membership("Instructor"));
      break;
    case CourseRole::kLearner:
      if (profile != Profile::kGeneric) roles.push_back(Institution("Student"));
      roles.push_back(Membership("Learner"));
      break;
    case CourseRole::kTeachingAssistant:
      // Only the sub-role: a tool must derive the principal (Instructor) from the URI path.
      if (profile == Profile::kMoodle) roles.push_back(Institution("Staff"));
      roles.push_back(lti::kRoleTeachingAssistant);
      break;
  }
  if (profile == Profile::kCanvas) roles.push_back(System("User"));
  return roles;
}

std::string ShortRoleFor(const SimUser& user) {
  return user.role == CourseRole::kLearner ? "Learner" : "Instructor";
}

// "http://127.0.0.1:8080/x/" -> "http://127.0.0.1:8080/x"
std::string StripTrailingSlash(std::string s) {
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

std::string ValidUrlOrEmpty(const json& j, std::string_view key, std::string& error) {
  auto it = j.find(std::string(key));
  if (it == j.end() || it->is_null()) return "";
  if (!it->is_string()) {
    error = std::string(key) + " must be a string";
    return "";
  }
  std::string value = it->get<std::string>();
  auto url = Url::Parse(value);
  if (!url.ok()) {
    error = std::string(key) + ": " + url.status().message();
    return "";
  }
  return value;
}

}  // namespace

std::string_view ProfileName(Profile profile) {
  switch (profile) {
    case Profile::kGeneric: return "generic";
    case Profile::kMoodle: return "moodle";
    case Profile::kCanvas: return "canvas";
    case Profile::kBrightspace: return "brightspace";
  }
  return "generic";
}

std::optional<Profile> ParseProfile(std::string_view name) {
  if (name == "generic") return Profile::kGeneric;
  if (name == "moodle") return Profile::kMoodle;
  if (name == "canvas") return Profile::kCanvas;
  if (name == "brightspace") return Profile::kBrightspace;
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// Construction, keys, URLs

Platform::Platform(PlatformOptions options)
    : options_(std::move(options)),
      clock_(options_.clock ? options_.clock : &SystemClock::Instance()),
      random_(options_.random ? options_.random : &SecureRandom::Instance()),
      owned_seed_(options_.learners > 3 ? SeedWithLearners(options_.learners) : nullptr),
      seed_(owned_seed_ ? *owned_seed_ : DefaultSeed()),
      gradebook_(std::make_unique<Gradebook>(seed_, *clock_)),
      faults_(std::make_unique<FaultInjector>(*clock_, [this] { return Uniform01(); }, options_.sleep)),
      roster_(std::make_unique<Roster>(seed_)),
      tokens_(std::make_unique<AccessTokenStore>()),
      jtis_(std::make_unique<JtiRegistry>()),
      tool_jwks_(std::make_unique<ToolJwksCache>(*clock_)),
      lti11_(std::make_unique<Lti11Consumers>(seed_, *gradebook_, *clock_, SecureRandom::Instance(),
                                              [this] { return base_url(); })),
      fetch_client_(options_.http_client) {}

Platform::~Platform() = default;

Result<std::unique_ptr<Platform>> Platform::Create(PlatformOptions options) {
  std::unique_ptr<Platform> p(new Platform(std::move(options)));
  auto load = [](const std::string& pem) -> Result<jose::RsaPrivateKey> {
    if (pem.empty()) return jose::RsaPrivateKey::Generate(2048);
    return jose::RsaPrivateKey::FromPem(pem);
  };
  GB_ASSIGN_OR_RETURN(p->key_, load(p->options_.signing_key_pem));
  GB_ASSIGN_OR_RETURN(p->second_key_, load(p->options_.second_key_pem));
  p->kid_ = jose::Thumbprint(p->key_.PublicKey());
  p->second_kid_ = jose::Thumbprint(p->second_key_.PublicKey());
  if (p->kid_ == p->second_kid_) {
    return Error(Code::kInvalidArgument, "sim.same_keys", "The two simulator keys must differ");
  }
  p->public_pem_ = p->key_.PublicKey().ToPem();
  p->platform_guid_ = "gradebridge-sim-" + p->RandomHex(8);
  p->SetBaseUrl(p->options_.base_url);
  return p;
}

void Platform::SetBaseUrl(std::string base_url) {
  std::unique_lock lock(url_mu_);
  base_url_ = StripTrailingSlash(std::move(base_url));
  issuer_ = options_.issuer.empty() ? base_url_ : options_.issuer;
}

std::string Platform::base_url() const {
  std::shared_lock lock(url_mu_);
  return base_url_;
}

std::string Platform::issuer() const {
  std::shared_lock lock(url_mu_);
  return issuer_;
}

std::string Platform::JwksJson() const {
  json keys = json::array({key_.PublicKey().ToJwk(kid_), second_key_.PublicKey().ToJwk(second_kid_)});
  return json{{"keys", keys}}.dump();
}

std::string Platform::RandomAlnum(size_t n) const {
  std::lock_guard lock(random_mu_);
  std::string out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) out += kAlnum[random_->Uniform(kAlnum.size())];
  return out;
}

std::string Platform::RandomHex(size_t bytes) const {
  std::lock_guard lock(random_mu_);
  return random_->Hex(bytes);
}

double Platform::Uniform01() const {
  std::lock_guard lock(random_mu_);
  return static_cast<double>(random_->NextU64() >> 11) * 0x1.0p-53;
}

void Platform::SetHttpClient(http::HttpClient* client) {
  std::lock_guard lock(fetch_client_mu_);
  fetch_client_ = client;
}

http::HttpClient& Platform::FetchClient() {
  std::lock_guard lock(fetch_client_mu_);
  if (fetch_client_ == nullptr) {
    // Tools under development run on http://127.0.0.1:PORT: allow plain http and loopback.
    http::CurlClientOptions o;
    o.allow_insecure = true;
    owned_fetch_client_ = http::MakeCurlHttpClient(o);
    fetch_client_ = owned_fetch_client_.get();
  }
  return *fetch_client_;
}

std::string Platform::LaunchUrl(const LaunchSpec& launch) const {
  FormFields q = {{"client_id", launch.client_id}, {"user", launch.user_id}};
  if (launch.message_type == lti::kMsgDeepLinkingRequest) {
    q.emplace_back("message_type", launch.message_type);
  } else {
    q.emplace_back("resource_link", launch.resource_link_id);
    if (launch.message_type != lti::kMsgResourceLink) q.emplace_back("message_type", launch.message_type);
  }
  if (!launch.mutations.empty()) q.emplace_back("mutate", JoinMutations(launch.mutations));
  return base_url() + "/sim/launch?" + EncodeForm(q);
}

std::string Platform::AuthUrl() const { return base_url() + "/sim/auth"; }
std::string Platform::TokenUrl() const { return base_url() + "/sim/token"; }
std::string Platform::JwksUrl() const { return base_url() + "/sim/jwks"; }
std::string Platform::ReturnUrl() const { return base_url() + "/sim/return"; }
std::string Platform::DeepLinkReturnUrl() const { return base_url() + "/sim/deep_link_return"; }

std::string Platform::LineItemsUrl(const Tool& tool) const {
  std::string url = base_url() + "/sim/api/lti/courses/" + seed_.course.id + "/line_items";
  if (tool.spec.profile == Profile::kMoodle) url += "?type_id=" + PercentEncode(tool.deployment_id);
  return url;
}

std::string Platform::LineItemUrl(const Tool& tool, std::string_view line_item_id) const {
  std::string url = base_url() + "/sim/api/lti/courses/" + seed_.course.id + "/line_items/" +
                    PercentEncode(line_item_id);
  if (tool.spec.profile == Profile::kMoodle) url += "?type_id=" + PercentEncode(tool.deployment_id);
  return url;
}

std::string Platform::MembershipsUrl(const Tool& tool) const {
  (void)tool;
  return base_url() + "/sim/api/lti/courses/" + seed_.course.id + "/names_and_roles";
}

// ---------------------------------------------------------------------------------------------
// Tools

Result<Tool> Platform::RegisterTool(ToolSpec spec) {
  auto bad = [](std::string message) {
    return Error(Code::kInvalidArgument, "sim.invalid_tool", std::move(message));
  };
  if (spec.name.empty()) spec.name = "Unnamed tool";
  for (const std::string* u : {&spec.login_url, &spec.target_link_uri}) {
    if (u->empty()) return bad("login_url and target_link_uri are required");
    auto parsed = Url::Parse(*u);
    if (!parsed.ok()) return bad(parsed.status().message() + ": " + *u);
  }
  if (spec.redirect_uris.empty()) return bad("redirect_uris must list at least one URL");
  for (const auto& u : spec.redirect_uris) {
    auto parsed = Url::Parse(u);
    if (!parsed.ok()) return bad("redirect_uris: " + parsed.status().message());
  }
  for (const std::string* u : {&spec.deep_link_url, &spec.jwks_url}) {
    if (u->empty()) continue;
    auto parsed = Url::Parse(*u);
    if (!parsed.ok()) return bad(parsed.status().message() + ": " + *u);
  }

  Tool tool;
  tool.spec = std::move(spec);
  std::unique_lock lock(tools_mu_);
  auto taken = [&](const std::string& id) {
    return std::any_of(tools_.begin(), tools_.end(), [&](const Tool& t) { return t.client_id == id; });
  };
  switch (tool.spec.profile) {
    case Profile::kMoodle:
      do {
        tool.client_id = RandomAlnum(15);
      } while (taken(tool.client_id));
      tool.deployment_id = std::to_string(next_moodle_type_++);
      break;
    case Profile::kCanvas:
      tool.client_id = std::to_string(10'000'000'000'000LL + next_canvas_key_++);
      tool.deployment_id = std::to_string(next_canvas_tool_++) + ":" + RandomHex(20);
      break;
    case Profile::kGeneric:
      do {
        tool.client_id = "sim-client-" + RandomHex(8);
      } while (taken(tool.client_id));
      tool.deployment_id = "sim-deployment-" + RandomHex(4);
      break;
    case Profile::kBrightspace: {
      auto guid = [this] {
        std::string h = RandomHex(16);
        return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) + "-" +
               h.substr(20, 12);
      };
      do {
        tool.client_id = guid();
      } while (taken(tool.client_id));
      tool.deployment_id = guid();
      break;
    }
  }
  tools_.push_back(tool);
  return tool;
}

std::vector<Tool> Platform::tools() const {
  std::shared_lock lock(tools_mu_);
  return tools_;
}

std::optional<Tool> Platform::FindTool(std::string_view client_id) const {
  std::shared_lock lock(tools_mu_);
  for (const auto& t : tools_) {
    if (t.client_id == client_id) return t;
  }
  return std::nullopt;
}

json Platform::ToolToJson(const Tool& tool) const {
  json custom = json::object();
  for (const auto& [k, v] : tool.spec.custom) custom[k] = v;
  return {{"client_id", tool.client_id},
          {"deployment_id", tool.deployment_id},
          {"issuer", issuer()},
          {"auth_url", AuthUrl()},
          {"token_url", TokenUrl()},
          {"jwks_url", JwksUrl()},
          {"profile", ProfileName(tool.spec.profile)},
          {"name", tool.spec.name},
          {"tool",
           {{"name", tool.spec.name},
            {"login_url", tool.spec.login_url},
            {"redirect_uris", tool.spec.redirect_uris},
            {"target_link_uri", tool.spec.target_link_uri},
            {"deep_link_url", tool.spec.deep_link_url},
            {"jwks_url", tool.spec.jwks_url},
            {"custom", custom}}}};
}

http::Response Platform::HandleListTools(const http::Request&) const {
  json out = json::array();
  for (const auto& t : tools()) out.push_back(ToolToJson(t));
  return http::Response::Json(200, out.dump());
}

http::Response Platform::HandleRegisterTool(const http::Request& request) {
  auto content_type = request.headers.Get("Content-Type");
  if (!content_type || !StartsWith(ToLower(Trim(*content_type)), "application/json")) {
    return JsonError(415, "unsupported_media_type", "Content-Type must be application/json");
  }
  json body = json::parse(request.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded() || !body.is_object()) {
    return JsonError(400, "invalid_request", "The body must be a JSON object");
  }
  ToolSpec spec;
  std::string error;
  auto str = [&](const char* key) -> std::string {
    auto it = body.find(key);
    if (it == body.end() || it->is_null()) return "";
    if (!it->is_string()) {
      error = std::string(key) + " must be a string";
      return "";
    }
    return it->get<std::string>();
  };
  spec.name = str("name");
  spec.login_url = str("login_url");
  spec.target_link_uri = str("target_link_uri");
  spec.deep_link_url = ValidUrlOrEmpty(body, "deep_link_url", error);
  spec.jwks_url = ValidUrlOrEmpty(body, "jwks_url", error);
  std::string profile = str("profile");
  if (auto it = body.find("redirect_uris"); it != body.end()) {
    if (!it->is_array()) {
      error = "redirect_uris must be an array of strings";
    } else {
      for (const auto& u : *it) {
        if (!u.is_string()) {
          error = "redirect_uris must be an array of strings";
          break;
        }
        spec.redirect_uris.push_back(u.get<std::string>());
      }
    }
  }
  if (auto it = body.find("custom"); it != body.end() && !it->is_null()) {
    if (!it->is_object()) {
      error = "custom must be an object of strings";
    } else {
      for (const auto& [k, v] : it->items()) {
        if (!v.is_string()) {
          error = "custom values must be strings";
          break;
        }
        spec.custom[k] = v.get<std::string>();
      }
    }
  }
  for (const char* k : {"lti11_consumer_key", "lti11_secret"}) {
    if (auto it = body.find(k); it != body.end() && !it->is_null()) {
      if (!it->is_string()) error = std::string(k) + " must be a string";
      else (std::string_view(k) == "lti11_secret" ? spec.lti11_secret : spec.lti11_consumer_key) = it->get<std::string>();
    }
  }
  if (spec.lti11_consumer_key.empty() != spec.lti11_secret.empty()) {
    error = "lti11_consumer_key and lti11_secret go together";
  }
  if (!error.empty()) return JsonError(400, "invalid_request", error);
  if (!profile.empty()) {
    auto p = ParseProfile(profile);
    if (!p) return JsonError(400, "invalid_request", "profile must be canvas, moodle, brightspace or generic");
    spec.profile = *p;
  }
  auto tool = RegisterTool(std::move(spec));
  if (!tool.ok()) return JsonError(400, "invalid_request", tool.status().message());
  LogInfo("sim.tool_registered", {{"client_id", tool->client_id},
                                  {"deployment_id", tool->deployment_id},
                                  {"profile", ProfileName(tool->spec.profile)}});
  http::Response r = http::Response::Json(201, ToolToJson(*tool).dump());
  r.headers.Add("Location", base_url() + "/sim/api/tools/" + PercentEncode(tool->client_id));
  return r;
}

http::Response Platform::HandleGetTool(const http::Request& request) const {
  constexpr std::string_view kPrefix = "/sim/api/tools/";
  std::string path = request.Path();
  auto id = PercentDecode(std::string_view(path).substr(std::min(path.size(), kPrefix.size())), false);
  auto tool = id ? FindTool(*id) : std::nullopt;
  if (!tool) return JsonError(404, "not_found", "No tool with that client_id");
  return http::Response::Json(200, ToolToJson(*tool).dump());
}

http::Response Platform::HandleUsers(const http::Request&) const {
  json out = json::array();
  for (const auto& u : seed_.users) out.push_back(UserToJson(u));
  return http::Response::Json(200, out.dump());
}

http::Response Platform::HandleCourses(const http::Request&) const {
  json links = json::array();
  for (const auto& l : seed_.resource_links) links.push_back(ResourceLinkToJson(l));
  json members = json::array();
  for (const auto& u : seed_.users) members.push_back(u.id);
  json course = {{"id", seed_.course.id},
                 {"label", seed_.course.label},
                 {"title", seed_.course.title},
                 {"type", json::array({seed_.course.type})},
                 {"members", members},
                 {"resource_links", links}};
  return http::Response::Json(200, json::array({course}).dump());
}

http::Response Platform::HandleJwks(const http::Request&) const {
  http::Response r = http::Response::Json(200, JwksJson());
  r.headers.Add("Cache-Control", "max-age=300");
  return r;
}

// ---------------------------------------------------------------------------------------------
// Claims and id_token

Result<json> Platform::BuildClaims(const LaunchSpec& launch, std::string_view nonce) const {
  auto tool = FindTool(launch.client_id);
  if (!tool) return Error(Code::kNotFound, "sim.unknown_client", "Unknown client_id");
  const SimUser* user = seed_.FindUser(launch.user_id);
  if (!user) return Error(Code::kNotFound, "sim.unknown_user", "Unknown user \"" + launch.user_id + "\"");
  bool deep_linking = launch.message_type == lti::kMsgDeepLinkingRequest;
  if (!deep_linking && launch.message_type != lti::kMsgResourceLink) {
    return Error(Code::kInvalidArgument, "sim.bad_message_type",
                 "message_type must be LtiResourceLinkRequest or LtiDeepLinkingRequest");
  }
  const SimResourceLink* link = nullptr;
  if (!deep_linking) {
    link = seed_.FindResourceLink(launch.resource_link_id);
    if (!link) {
      return Error(Code::kNotFound, "sim.unknown_resource_link",
                   "Unknown resource link \"" + launch.resource_link_id + "\"");
    }
  }
  const Profile profile = tool->spec.profile;
  const int64_t now = clock_->NowSeconds();
  const int64_t lifetime = LifetimeFor(profile);
  const std::string base = base_url();

  json c = json::object();
  c["iss"] = issuer();
  c["aud"] = tool->client_id;
  if (profile == Profile::kCanvas) c["azp"] = tool->client_id;
  c["sub"] = user->id;
  c["iat"] = now;
  c["exp"] = now + lifetime;
  c["nonce"] = std::string(nonce);
  c["given_name"] = user->given_name;
  c["family_name"] = user->family_name;
  c["name"] = user->name();
  c["email"] = user->email;
  if (profile == Profile::kCanvas) {
    c["locale"] = "en";
    c["picture"] = base + "/sim/avatars/" + user->id + ".png";
  }

  c[lti::kClaimMessageType] = launch.message_type;
  c[lti::kClaimVersion] = lti::kLtiVersion;
  c[lti::kClaimDeploymentId] = tool->deployment_id;
  c[lti::kClaimTargetLinkUri] = deep_linking && !tool->spec.deep_link_url.empty()
                                    ? tool->spec.deep_link_url
                                    : tool->spec.target_link_uri;
  if (link) {
    c[lti::kClaimResourceLink] = {{"id", link->id}, {"title", link->title}, {"description", link->description}};
  }
  c[lti::kClaimRoles] = RolesFor(*user, profile);
  c[lti::kClaimContext] = {{"id", seed_.course.id},
                           {"label", seed_.course.label},
                           {"title", seed_.course.title},
                           {"type", json::array({seed_.course.type})}};
  json platform = {{"guid", platform_guid_}, {"contact_email", "admin@sim.example.edu"}};
  switch (profile) {
    case Profile::kCanvas:
      platform.update({{"name", "Gradebridge Simulated Canvas"}, {"product_family_code", "canvas"},
                       {"version", "cloud"}, {"url", base + "/sim/"}});
      break;
    case Profile::kMoodle:
      platform.update({{"name", "Gradebridge Simulated Moodle"}, {"product_family_code", "moodle"},
                       {"version", "2024100706"}, {"description", "Simulated Moodle 4.5"}});
      break;
    case Profile::kGeneric:
      platform.update({{"name", "Gradebridge Platform Simulator"},
                       {"product_family_code", "gradebridge-sim"}, {"version", "0.1.0"}});
      break;
    case Profile::kBrightspace:
      platform.update({{"name", "Gradebridge Simulated Brightspace"}, {"product_family_code", "desire2learn"},
                       {"version", "20.24.10"}});
      break;
  }
  c[lti::kClaimToolPlatform] = platform;
  c[lti::kClaimLaunchPresentation] = {{"document_target", "iframe"}, {"return_url", ReturnUrl()}, {"locale", "en"}};

  json custom = json::object();
  if (profile == Profile::kCanvas) {
    custom["canvas_course_id"] = seed_.course.id;
    custom["canvas_user_login_id"] = user->id;
    if (link && !link->line_item_id.empty()) {
      custom["canvas_assignment_points_possible"] = std::to_string(static_cast<int>(link->score_maximum));
    }
  } else if (profile == Profile::kGeneric) {
    custom["context_label"] = seed_.course.label;
  }
  for (const auto& [k, v] : tool->spec.custom) custom[k] = v;
  if (!custom.empty()) c[lti::kClaimCustom] = custom;

  json ags = {{"scope", json::array({lti::kScopeLineItem, lti::kScopeLineItemReadOnly,
                                     lti::kScopeResultReadOnly, lti::kScopeScore})},
              {"lineitems", LineItemsUrl(*tool)}};
  // D2L gives LTI 1.3 links no grade item: the tool must create its line item itself.
  if (link && !link->line_item_id.empty() && profile != Profile::kBrightspace) {
    ags["lineitem"] = LineItemUrl(*tool, link->line_item_id);
  }
  c[lti::kClaimAgsEndpoint] = ags;
  c[lti::kClaimNrps] = {{"context_memberships_url", MembershipsUrl(*tool)},
                        {"service_versions", json::array({"2.0"})}};

  if (deep_linking) {
    c[lti::kClaimDlSettings] = {{"deep_link_return_url", DeepLinkReturnUrl()},
                                {"accept_types", json::array({"ltiResourceLink"})},
                                {"accept_presentation_document_targets", json::array({"iframe", "window"})},
                                {"accept_multiple", true},
                                {"accept_lineitem", true},
                                {"auto_create", true},
                                {"title", "Add an activity"},
                                {"data", "sim-dl-" + RandomHex(8)}};
  }

  if (profile == Profile::kMoodle) {
    c[lti::kClaimMoodleExt] = {{"user_username", user->id}, {"lms", "moodle-2"}};
    c[lti::kClaimLis] = {{"person_sourcedid", ""}, {"course_section_sourcedid", ""}};
  } else if (profile == Profile::kCanvas) {
    c[lti::kClaimCanvasPlacement] = deep_linking ? "assignment_selection" : "course_navigation";
    std::string legacy = HexEncode(jose::Sha1(user->id));
    c[lti::kClaimLti11LegacyUserId] = legacy;
    c[lti::kClaimLti1p1] = {{"user_id", legacy}};
    c[lti::kClaimLis] = {{"person_sourcedid", "SIS-" + user->id},
                         {"course_offering_sourcedid", "SIS-" + seed_.course.label}};
    c["errors"] = {{"errors", json::object()}};
  }

  // A platform upgraded from LTI 1.1 proves which 1.1 consumer it was (lti-digest §9.2).
  if (!tool->spec.lti11_consumer_key.empty()) {
    const std::string& key = tool->spec.lti11_consumer_key;
    std::string signed_text = key + "&" + tool->deployment_id + "&" + issuer() + "&" + tool->client_id + "&" +
                              std::to_string(c["exp"].get<int64_t>()) + "&" + std::string(nonce);
    c[lti::kClaimLti1p1] = {{"user_id", HexEncode(jose::Sha1(user->id))},
                            {"oauth_consumer_key", key},
                            {"oauth_consumer_key_sign",
                             Base64Encode(jose::HmacSha256(tool->spec.lti11_secret, signed_text))}};
  }

  // Payload mutations, in order.
  for (Mutation m : launch.mutations) {
    switch (m) {
      case Mutation::kWrongIss: c["iss"] = "https://wrong-issuer.sim.example"; break;
      case Mutation::kWrongAud:
        c["aud"] = "wrong-client-" + RandomHex(4);
        c.erase("azp");
        break;
      case Mutation::kAudArrayWithAzp:
        c["aud"] = json::array({tool->client_id, "other-audience"});
        c["azp"] = tool->client_id;
        break;
      case Mutation::kAudArrayNoAzp:
        c["aud"] = json::array({tool->client_id, "other-audience"});
        c.erase("azp");
        break;
      case Mutation::kAzpMismatch: c["azp"] = "other-client-" + RandomHex(4); break;
      case Mutation::kExpired:
        c["exp"] = now - 300;
        c["iat"] = now - 300 - lifetime;
        break;
      case Mutation::kNoExp: c.erase("exp"); break;
      case Mutation::kNoIat: c.erase("iat"); break;
      case Mutation::kIatFuture:
        c["iat"] = now + 600;
        c["exp"] = now + 600 + lifetime;
        break;
      case Mutation::kExpString:
        if (c.contains("exp") && c["exp"].is_number_integer()) c["exp"] = std::to_string(c["exp"].get<int64_t>());
        break;
      case Mutation::kClockSkewSmall:
        c["iat"] = now + 20;
        c["exp"] = now + 20 + lifetime;
        break;
      case Mutation::kNoNonce: c.erase("nonce"); break;
      case Mutation::kWrongNonce: c["nonce"] = "wrong-nonce-" + RandomHex(8); break;
      case Mutation::kNoVersion: c.erase(lti::kClaimVersion); break;
      case Mutation::kWrongVersion: c[lti::kClaimVersion] = "1.1.0"; break;
      case Mutation::kNoMessageType: c.erase(lti::kClaimMessageType); break;
      case Mutation::kUnknownMessageType: c[lti::kClaimMessageType] = "LtiUnknownMessageRequest"; break;
      case Mutation::kNoDeploymentId: c.erase(lti::kClaimDeploymentId); break;
      case Mutation::kUnknownDeploymentId: c[lti::kClaimDeploymentId] = "unknown-deployment-" + RandomHex(4); break;
      case Mutation::kNoRoles: c.erase(lti::kClaimRoles); break;
      case Mutation::kEmptyRoles: c[lti::kClaimRoles] = json::array(); break;
      case Mutation::kShortRoles: c[lti::kClaimRoles] = json::array({ShortRoleFor(*user)}); break;
      case Mutation::kUnknownRole:
        if (!c.contains(lti::kClaimRoles) || !c[lti::kClaimRoles].is_array()) c[lti::kClaimRoles] = RolesFor(*user, profile);
        c[lti::kClaimRoles].push_back("https://sim.gradebridge.example/roles#Wizard");
        break;
      case Mutation::kNoResourceLink: c.erase(lti::kClaimResourceLink); break;
      case Mutation::kNoResourceLinkId:
        if (c.contains(lti::kClaimResourceLink)) c[lti::kClaimResourceLink].erase("id");
        break;
      case Mutation::kNoSub: c.erase("sub"); break;
      case Mutation::kNoTargetLinkUri: c.erase(lti::kClaimTargetLinkUri); break;
      case Mutation::kNoContext:
        c.erase(lti::kClaimContext);
        c.erase(lti::kClaimAgsEndpoint);
        c.erase(lti::kClaimNrps);
        break;
      case Mutation::kNoPii:
        for (const char* k : {"given_name", "family_name", "middle_name", "name", "email", "picture"}) c.erase(k);
        if (c.contains(lti::kClaimLis)) c[lti::kClaimLis].erase("person_sourcedid");
        if (c.contains(lti::kClaimMoodleExt)) c[lti::kClaimMoodleExt].erase("user_username");
        break;
      case Mutation::kEmailOnly:
        for (const char* k : {"given_name", "family_name", "middle_name", "name", "picture"}) c.erase(k);
        break;
      case Mutation::kNamesOnly: c.erase("email"); break;
      case Mutation::kUnknownClaims:
        c["https://sim.gradebridge.example/claim/unknown"] = {{"anything", json::array({1, "two", nullptr})}};
        c["x_sim_unknown"] = 42;
        if (c.contains(lti::kClaimContext)) c[lti::kClaimContext]["x_sim_unknown"] = true;
        break;
      default: break;  // JOSE-level mutations: BuildIdToken
    }
  }
  return c;
}

Result<std::string> Platform::BuildIdToken(const LaunchSpec& launch, std::string_view nonce) const {
  GB_ASSIGN_OR_RETURN(json claims, BuildClaims(launch, nonce));
  json header = {{"alg", "RS256"}, {"typ", "JWT"}, {"kid", kid_}};
  enum class Sig { kRs256, kNone, kHs256 } sig = Sig::kRs256;
  bool flip = false;
  for (Mutation m : launch.mutations) {
    switch (m) {
      case Mutation::kNoKid: header.erase("kid"); break;
      case Mutation::kUnknownKid: header["kid"] = "unknown-kid-" + RandomHex(8); break;
      case Mutation::kWrongKidKey: header["kid"] = second_kid_; break;
      case Mutation::kBadSignature: flip = true; break;
      case Mutation::kAlgNone:
        header["alg"] = "none";
        sig = Sig::kNone;
        break;
      case Mutation::kAlgHs256:
        header["alg"] = "HS256";
        sig = Sig::kHs256;
        break;
      case Mutation::kAlgRs512:
        header["alg"] = "RS512";
        sig = Sig::kRs256;
        break;
      default: break;
    }
  }
  std::string signing_input = Base64UrlEncode(header.dump()) + "." + Base64UrlEncode(claims.dump());
  std::string signature;
  switch (sig) {
    case Sig::kRs256: {
      GB_ASSIGN_OR_RETURN(signature, key_.SignRs256(signing_input));
      break;
    }
    case Sig::kHs256: signature = jose::HmacSha256(public_pem_, signing_input); break;
    case Sig::kNone: break;
  }
  if (flip) {
    if (signature.empty()) signature = "x";
    signature[signature.size() / 2] = static_cast<char>(signature[signature.size() / 2] ^ 0x01);
  }
  return signing_input + "." + Base64UrlEncode(signature);
}

Result<std::string> Platform::CanvasMessageHint(const LaunchSpec& launch) const {
  std::string host = base_url();
  if (auto u = Url::Parse(host); u.ok()) host = u->host;
  json claims = {{"verifier", RandomHex(32)},
                 {"canvas_domain", host},
                 {"context_type", "Course"},
                 {"context_id", seed_.course.id},
                 {"canvas_locale", "en"},
                 {"include_storage_target", false},
                 {"exp", clock_->NowSeconds() + 600}};
  if (launch.message_type == lti::kMsgResourceLink) claims["resource_link_id"] = launch.resource_link_id;
  return jose::SignJwt(claims, key_, kid_);
}

// ---------------------------------------------------------------------------------------------
// Launch: third-party initiated login

void Platform::PurgePendingLocked(int64_t now) {
  const int64_t ttl = options_.pending_launch_ttl.count();
  while (!pending_order_.empty()) {
    const auto& [key, seq] = pending_order_.front();
    auto it = pending_.find(key);
    bool stale = it == pending_.end() || it->second.seq != seq;
    bool expired = !stale && now - it->second.created >= ttl;
    bool overfull = !stale && pending_.size() > options_.max_pending_launches;
    if (!stale && !expired && !overfull) break;
    if (expired || overfull) pending_.erase(it);
    pending_order_.pop_front();
  }
}

size_t Platform::pending_launches() const {
  std::lock_guard lock(pending_mu_);
  return pending_.size();
}

http::Response Platform::HandleLaunch(const http::Request& request) {
  auto query = ParseForm(request.Query());
  if (!query) return HtmlErrorPage(400, "Bad launch request", "Malformed query string.");
  LaunchSpec spec;
  spec.client_id = FormValue(*query, "client_id").value_or("");
  spec.user_id = FormValue(*query, "user").value_or("");
  spec.resource_link_id = FormValue(*query, "resource_link").value_or("rl-quiz-1");
  spec.message_type = FormValue(*query, "message_type").value_or(lti::kMsgResourceLink);
  if (spec.message_type.empty()) spec.message_type = lti::kMsgResourceLink;
  auto mutations = ParseMutations(FormValue(*query, "mutate").value_or(""));
  if (!mutations.ok()) return HtmlErrorPage(400, "Bad launch request", mutations.status().message());
  spec.mutations = std::move(mutations).value();

  auto tool = FindTool(spec.client_id);
  if (!tool) return HtmlErrorPage(400, "Bad launch request", "Unknown client_id \"" + spec.client_id + "\".");
  const SimUser* user = seed_.FindUser(spec.user_id);
  if (!user) return HtmlErrorPage(400, "Bad launch request", "Unknown user \"" + spec.user_id + "\".");
  bool deep_linking = spec.message_type == lti::kMsgDeepLinkingRequest;
  if (!deep_linking && spec.message_type != lti::kMsgResourceLink) {
    return HtmlErrorPage(400, "Bad launch request",
                         "message_type must be LtiResourceLinkRequest or LtiDeepLinkingRequest.");
  }
  const SimResourceLink* link = nullptr;
  if (!deep_linking) {
    link = seed_.FindResourceLink(spec.resource_link_id);
    if (!link) {
      return HtmlErrorPage(400, "Bad launch request",
                           "Unknown resource link \"" + spec.resource_link_id + "\".");
    }
  } else {
    spec.resource_link_id.clear();
  }

  const Profile profile = tool->spec.profile;
  const std::string target = deep_linking && !tool->spec.deep_link_url.empty() ? tool->spec.deep_link_url
                                                                                : tool->spec.target_link_uri;
  std::string login_hint = user->id;
  std::string message_hint;
  FormFields fields;
  std::string method = "post";
  switch (profile) {
    case Profile::kMoodle: {
      json hint = json::object();
      if (link) hint["cmid"] = link->cmid;
      hint["launchid"] = "ltilaunch" + (link ? std::to_string(link->cmid) : std::string()) + "_" +
                         std::to_string(100000000 + (std::stoull(RandomHex(4), nullptr, 16) % 900000000));
      message_hint = hint.dump();
      fields = {{"iss", issuer()},
                {"target_link_uri", target},
                {"login_hint", login_hint},
                {"lti_message_hint", message_hint},
                {"client_id", tool->client_id},
                {"lti_deployment_id", tool->deployment_id}};
      break;
    }
    case Profile::kCanvas: {
      auto hint = CanvasMessageHint(spec);
      if (!hint.ok()) return HtmlErrorPage(500, "Simulator error", hint.status().message());
      message_hint = *hint;
      fields = {{"iss", issuer()},
                {"login_hint", login_hint},
                {"client_id", tool->client_id},
                {"deployment_id", tool->deployment_id},
                {"lti_deployment_id", tool->deployment_id},
                {"target_link_uri", target},
                {"lti_message_hint", message_hint},
                {"canvas_environment", "prod"},
                {"canvas_region", "us-east-1"}};
      break;
    }
    case Profile::kBrightspace:
      message_hint = "d2l-" + RandomHex(16);
      fields = {{"iss", issuer()},
                {"login_hint", login_hint},
                {"target_link_uri", target},
                {"lti_message_hint", message_hint},
                {"client_id", tool->client_id},
                {"lti_deployment_id", tool->deployment_id}};
      break;
    case Profile::kGeneric:
      method = "get";
      message_hint = "sim-" + RandomHex(16);
      fields = {{"iss", issuer()},
                {"login_hint", login_hint},
                {"target_link_uri", target},
                {"lti_message_hint", message_hint},
                {"client_id", tool->client_id},
                {"lti_deployment_id", tool->deployment_id}};
      break;
  }

  {
    std::lock_guard lock(pending_mu_);
    int64_t now = clock_->NowSeconds();
    std::string key = login_hint + '\n' + message_hint;
    PendingLaunch p{spec, login_hint, message_hint, now, next_seq_++};
    pending_order_.emplace_back(key, p.seq);
    pending_[key] = std::move(p);
    PurgePendingLocked(now);
  }
  LogDebug("sim.launch", {{"client_id", tool->client_id}, {"user", user->id},
                          {"message_type", spec.message_type},
                          {"mutate", JoinMutations(spec.mutations)}});
  return AutoSubmit(tool->spec.login_url, method, fields, "Launching " + tool->spec.name);
}

// ---------------------------------------------------------------------------------------------
// OIDC authorization endpoint

http::Response Platform::HandleAuth(const http::Request& request) {
  std::optional<FormFields> params;
  if (request.method == "POST") {
    auto ct = request.headers.Get("Content-Type");
    if (!ct || !StartsWith(ToLower(Trim(*ct)), "application/x-www-form-urlencoded")) {
      return HtmlErrorPage(400, "Invalid authentication request",
                           "A POSTed authentication request must be application/x-www-form-urlencoded.");
    }
    params = ParseForm(request.body);
  } else {
    params = ParseForm(request.Query());
  }
  if (!params) return HtmlErrorPage(400, "Invalid authentication request", "Malformed parameters.");
  auto get = [&](std::string_view k) { return FormValue(*params, k).value_or(""); };
  auto count = [&](std::string_view k) {
    return std::count_if(params->begin(), params->end(), [&](const auto& f) { return f.first == k; });
  };

  // Without a known client and an exactly registered redirect_uri there is nowhere safe to send an
  // error (OIDC §3.1.2.6): answer with a page.
  const std::string client_id = get("client_id");
  if (client_id.empty() || count("client_id") > 1) {
    return HtmlErrorPage(400, "Invalid authentication request", "client_id is missing or repeated.");
  }
  auto tool = FindTool(client_id);
  if (!tool) return HtmlErrorPage(400, "Invalid authentication request", "Unknown client_id \"" + client_id + "\".");
  const std::string redirect_uri = get("redirect_uri");
  if (redirect_uri.empty() || count("redirect_uri") > 1) {
    return HtmlErrorPage(400, "Invalid authentication request", "redirect_uri is missing or repeated.");
  }
  const auto& uris = tool->spec.redirect_uris;
  if (std::find(uris.begin(), uris.end(), redirect_uri) == uris.end()) {
    LogInfo("sim.auth_rejected", {{"client_id", client_id}, {"error", "redirect_uri_not_registered"}});
    return HtmlErrorPage(400, "Invalid authentication request",
                         "redirect_uri \"" + redirect_uri + "\" is not registered for this client.");
  }

  const std::string state = get("state");
  auto oidc_error = [&](std::string_view error, std::string_view description) {
    LogInfo("sim.auth_rejected", {{"client_id", client_id}, {"error", error}, {"description", description}});
    FormFields f = {{"error", std::string(error)}, {"error_description", std::string(description)}};
    if (!state.empty()) f.emplace_back("state", state);
    return AutoSubmit(redirect_uri, "post", f, "Authentication error");
  };

  for (std::string_view k : {"scope", "response_type", "response_mode", "prompt", "login_hint",
                             "lti_message_hint", "state", "nonce"}) {
    if (count(k) > 1) return oidc_error("invalid_request", std::string(k) + " is repeated");
  }
  bool has_openid = false;
  const std::string scope = get("scope");
  for (std::string_view s : Split(scope, ' ')) has_openid = has_openid || s == "openid";
  if (!has_openid) return oidc_error("invalid_scope", "scope must contain openid");
  if (get("response_type") != "id_token") {
    return oidc_error("unsupported_response_type", "response_type must be id_token");
  }
  if (get("response_mode") != "form_post") return oidc_error("invalid_request", "response_mode must be form_post");
  if (get("prompt") != "none") return oidc_error("invalid_request", "prompt must be none");
  if (get("nonce").empty()) return oidc_error("invalid_request", "nonce is required");
  if (state.empty()) return oidc_error("invalid_request", "state is required");
  const std::string login_hint = get("login_hint");
  if (login_hint.empty()) return oidc_error("login_required", "login_hint is required");
  const bool hint_sent = count("lti_message_hint") > 0;
  const std::string message_hint = get("lti_message_hint");

  std::optional<PendingLaunch> pending;
  bool hint_missing = false;
  {
    std::lock_guard lock(pending_mu_);
    PurgePendingLocked(clock_->NowSeconds());
    auto it = pending_.find(login_hint + '\n' + message_hint);
    if (it != pending_.end()) {
      if (it->second.spec.client_id == client_id) {
        pending = std::move(it->second);
        pending_.erase(it);
      }
    } else if (!hint_sent) {
      for (const auto& [k, p] : pending_) {
        if (p.login_hint == login_hint && !p.message_hint.empty()) hint_missing = true;
      }
    }
  }
  if (!pending) {
    if (hint_missing) return oidc_error("invalid_request", "lti_message_hint from the login request is missing");
    return oidc_error("access_denied",
                      "login_hint/lti_message_hint do not match a pending launch for this client");
  }

  auto token = BuildIdToken(pending->spec, get("nonce"));
  if (!token.ok()) return oidc_error("server_error", token.status().message());
  LogDebug("sim.auth_ok", {{"client_id", client_id}, {"user", pending->spec.user_id}});
  return AutoSubmit(redirect_uri, "post", {{"id_token", *token}, {"state", state}}, "Launching");
}

// ---------------------------------------------------------------------------------------------
// Human pages

http::Response Platform::HandleReturn(const http::Request& request) const {
  auto q = ParseForm(request.Query()).value_or(FormFields{});
  std::string body;
  if (auto msg = FormValue(q, "lti_msg")) body += "<p class=\"msg\">" + HtmlEscape(*msg) + "</p>\n";
  if (auto err = FormValue(q, "lti_errormsg")) body += "<p class=\"error\">" + HtmlEscape(*err) + "</p>\n";
  if (body.empty()) body = "<p>Returned from the tool.</p>\n";
  body += "<p><a href=\"/sim/\">Simulator home</a></p>";
  return http::Response::Html(200, SimplePage("Back in the course", body));
}

http::Response Platform::HandleHome(const http::Request&) const {
  std::string b;
  b += "<p>Issuer <code>" + HtmlEscape(issuer()) + "</code> &middot; JWKS <a href=\"/sim/jwks\">/sim/jwks</a>"
       " &middot; auth <code>" + HtmlEscape(AuthUrl()) + "</code> &middot; token <code>" +
       HtmlEscape(TokenUrl()) + "</code></p>\n";
  b += "<h2>Course</h2>\n<p>" + HtmlEscape(seed_.course.label) + " &mdash; " + HtmlEscape(seed_.course.title) +
       " (context <code>" + HtmlEscape(seed_.course.id) + "</code>)</p>\n";
  b += "<h2>Tools</h2>\n";
  auto all = tools();
  if (all.empty()) {
    b += "<p>No tools yet: <code>POST /sim/api/tools</code> with a JSON registration.</p>\n";
  }
  for (const auto& t : all) {
    b += "<h3>" + HtmlEscape(t.spec.name) + " <small>(" + std::string(ProfileName(t.spec.profile)) +
         ", client_id <code>" + HtmlEscape(t.client_id) + "</code>, deployment <code>" +
         HtmlEscape(t.deployment_id) + "</code>)</small></h3>\n<table><tr><th>user</th>";
    for (const auto& l : seed_.resource_links) b += "<th>" + HtmlEscape(l.title) + "</th>";
    b += "<th>deep linking</th></tr>\n";
    for (const auto& u : seed_.users) {
      b += "<tr><td>" + HtmlEscape(u.name()) + " (" + HtmlEscape(u.id) + ", " + std::string(RoleName(u.role)) + ")</td>";
      for (const auto& l : seed_.resource_links) {
        LaunchSpec s{t.client_id, u.id, l.id, lti::kMsgResourceLink, {}};
        b += "<td><a href=\"" + HtmlEscape(LaunchUrl(s)) + "\">launch</a></td>";
      }
      LaunchSpec dl{t.client_id, u.id, "", lti::kMsgDeepLinkingRequest, {}};
      b += "<td><a href=\"" + HtmlEscape(LaunchUrl(dl)) + "\">deep link</a></td></tr>\n";
    }
    b += "</table>\n";
  }
  b += lti11_->HomeSection();
  b += "<h2>Launch with mutations</h2>\n<form method=\"get\" action=\"/sim/launch\">"
       "<label>client <select name=\"client_id\">";
  for (const auto& t : all) {
    b += "<option value=\"" + HtmlEscape(t.client_id) + "\">" + HtmlEscape(t.spec.name) + "</option>";
  }
  b += "</select></label> <label>user <select name=\"user\">";
  for (const auto& u : seed_.users) b += "<option>" + HtmlEscape(u.id) + "</option>";
  b += "</select></label> <label>link <select name=\"resource_link\">";
  for (const auto& l : seed_.resource_links) b += "<option>" + HtmlEscape(l.id) + "</option>";
  b += "</select></label> <label>message <select name=\"message_type\"><option>LtiResourceLinkRequest</option>"
       "<option>LtiDeepLinkingRequest</option></select></label> <label>mutate <input name=\"mutate\" "
       "size=\"30\"></label> <button type=\"submit\">Launch</button></form>\n";
  b += "<h2>Mutations</h2>\n<table><tr><th>name</th><th>a correct tool</th><th>effect</th></tr>\n";
  for (const auto& m : AllMutations()) {
    b += "<tr><td><code>" + std::string(m.name) + "</code></td><td>" + (m.valid ? "accepts" : "rejects") +
         "</td><td>" + HtmlEscape(m.description) + "</td></tr>\n";
  }
  b += "</table>\n<h2>Users</h2>\n<ul>";
  for (const auto& u : seed_.users) {
    b += "<li><code>" + HtmlEscape(u.id) + "</code> " + HtmlEscape(u.name()) + " &lt;" + HtmlEscape(u.email) +
         "&gt; &mdash; " + std::string(RoleName(u.role)) + "</li>";
  }
  b += "</ul>\n<h2>Resource links</h2>\n<ul>";
  for (const auto& l : seed_.resource_links) {
    b += "<li><code>" + HtmlEscape(l.id) + "</code> " + HtmlEscape(l.title) +
         (l.line_item_id.empty() ? std::string() : " (line item " + HtmlEscape(l.line_item_id) + ")") + "</li>";
  }
  b += "</ul>\n<p><a href=\"/sim/gradebook\">Gradebook</a>. JSON: <a href=\"/sim/api/tools\">tools</a>, "
       "<a href=\"/sim/api/users\">users</a>, <a href=\"/sim/api/courses\">courses</a>, "
       "<a href=\"/sim/api/gradebook\">gradebook</a>, <a href=\"/sim/api/faults\">faults</a></p>";
  return http::Response::Html(200, SimplePage("gradebridge platform simulator", b));
}

// ---------------------------------------------------------------------------------------------
// Routes

void Platform::AddRoutes(server::Router& router) {
  auto redirect_home = [](const http::Request&) { return http::Response::Redirect("/sim/", 302); };
  router.Add("GET", "/", redirect_home);
  router.Add("GET", "/sim", redirect_home);
  router.Add("GET", "/sim/", [this](const http::Request& r) { return HandleHome(r); });
  router.Add("GET", "/sim/jwks", [this](const http::Request& r) { return HandleJwks(r); });
  router.Add("GET", "/sim/api/tools", [this](const http::Request& r) { return HandleListTools(r); });
  router.Add("POST", "/sim/api/tools", [this](const http::Request& r) { return HandleRegisterTool(r); });
  router.Add("POST", "/sim/api/tools/canvas", [this](const http::Request& r) { return HandleRegisterCanvasTool(r); });
  router.AddPrefix("GET", "/sim/api/tools/", [this](const http::Request& r) { return HandleGetTool(r); });
  router.Add("GET", "/sim/api/users", [this](const http::Request& r) { return HandleUsers(r); });
  router.Add("GET", "/sim/api/courses", [this](const http::Request& r) { return HandleCourses(r); });
  router.Add("GET", "/sim/launch", [this](const http::Request& r) { return HandleLaunch(r); });
  router.Add("GET", "/sim/auth", [this](const http::Request& r) { return HandleAuth(r); });
  router.Add("POST", "/sim/auth", [this](const http::Request& r) { return HandleAuth(r); });
  router.Add("GET", "/sim/return", [this](const http::Request& r) { return HandleReturn(r); });

  // Part 2. AGS takes every method under the courses prefix and answers 404/405 itself, per
  // profile (Moodle's router answers 400 "No handler found" before it looks at methods).
  router.Add("POST", "/sim/token", [this](const http::Request& r) { return HandleToken(r); });
  for (const char* method : {"GET", "POST", "PUT", "DELETE", "PATCH"}) {
    router.AddPrefix(method, "/sim/api/lti/courses/", [this](const http::Request& r) { return HandleAgs(r); });
  }
  router.Add("GET", "/sim/gradebook", [this](const http::Request& r) { return HandleGradebookPage(r); });
  router.Add("GET", "/sim/api/gradebook", [this](const http::Request& r) { return HandleGradebookJson(r); });
  router.Add("GET", "/sim/api/faults", [this](const http::Request& r) { return HandleGetFaults(r); });
  router.Add("POST", "/sim/api/faults", [this](const http::Request& r) { return HandleSetFaults(r); });
  router.Add("GET", "/sim/api/roster", [this](const http::Request& r) { return HandleGetRoster(r); });
  router.Add("POST", "/sim/api/roster", [this](const http::Request& r) { return HandleSetRoster(r); });
  lti11_->AddRoutes(router);
}

http::Response Platform::HandleGetRoster(const http::Request&) const {
  return http::Response::Json(200, roster_->ToJson().dump());
}

http::Response Platform::HandleSetRoster(const http::Request& request) {
  auto content_type = request.headers.Get("Content-Type");
  if (!content_type || !StartsWith(ToLower(Trim(*content_type)), "application/json")) {
    return http::Response::Json(415, json{{"error", "unsupported_media_type"},
                                          {"message", "Content-Type must be application/json"}}.dump());
  }
  json body = json::parse(request.body, nullptr, /*allow_exceptions=*/false);
  Status s = body.is_discarded() ? Error(Code::kInvalidArgument, "sim.invalid_roster", "The body is not JSON.")
                                 : ApplyRosterChange(*roster_, body);
  if (!s.ok()) return http::Response::Json(400, json{{"error", "invalid_request"}, {"message", s.message()}}.dump());
  LogInfo("sim.roster_changed", {{"change", body.dump()}});
  return http::Response::Json(200, roster_->ToJson().dump());
}

}  // namespace gb::sim
