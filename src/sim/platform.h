// Platform: the simulated LMS itself — state (keys, registered tools, pending launches) and the
// pure request handlers of every /sim/... endpoint. No sockets here (Simulator serves it), so the
// whole platform can be driven in-process (see in_process_client.h) or over HTTP.
//
// Endpoints (all under the base URL; see docs/simulator.md):
//   GET  /sim/                 human page: tools, users, resource links, launch links, mutations
//   GET  /sim/jwks             platform JWKS: the signing key and a second, unused key
//   GET  /sim/api/tools        registered tools (JSON array)
//   POST /sim/api/tools        register a tool (JSON) -> 201
//   GET  /sim/api/tools/<id>   one registered tool by client_id
//   GET  /sim/api/users        seeded users;   GET /sim/api/courses  seeded course + links
//   GET  /sim/launch           starts a launch: auto-submitting third-party-initiated login form
//   GET|POST /sim/auth         OIDC authorization endpoint (strict), answers with a form_post
//   GET  /sim/return           launch_presentation.return_url target (shows lti_msg/lti_errormsg)
//   POST /sim/token            OAuth 2.0 token endpoint (client_credentials + JWT assertion)
//   *    /sim/api/lti/courses/<course>/line_items[/<id>[/scores|/results[/<n>]]]   AGS
//   GET  /sim/gradebook        human gradebook;  GET /sim/api/gradebook  the same as JSON
//   GET|POST /sim/api/faults   fault injection for the token endpoint and AGS (faults.h)
//   GET  /sim/api/lti/courses/<course>/names_and_roles   NRPS (nrps.h): paging, differences
//   GET|POST /sim/api/roster   the course roster; enrol / deactivate / drop at run time (roster.h)
//   /sim/lti11/..., /sim/api/lti11/...   LTI 1.1 launches and Basic Outcomes (lti11_consumer.h)
//
// Thread-safe: handlers may run on several server threads at once.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <deque>
#include <functional>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "base/random.h"
#include "base/status.h"
#include "http/client.h"
#include "http/message.h"
#include "jose/jose.h"
#include "server/router.h"
#include "sim/mutations.h"
#include "sim/seed.h"

namespace gb::sim {

class AccessTokenStore;
class FaultInjector;
class Gradebook;
class JtiRegistry;
class Roster;
class Lti11Consumers;
class ToolJwksCache;

// Which real platform a registered tool's launches imitate.
//   moodle:  client_id 15 random alphanumerics, deployment "1", "2"…; login is a form POST with
//            lti_message_hint {"cmid":…,"launchid":"ltilaunch…"}; aud string, no azp; exp = iat+60;
//            institution roles added; ext + lis claims.
//   canvas:  client_id "100000000000NN", deployment "<tool id>:<40 hex>"; login form POST with
//            deployment_id + lti_deployment_id, canvas_region, canvas_environment and a JWT
//            lti_message_hint; aud string + azp; exp = iat+3600; system role User; custom values
//            as strings; vendor claims (https://www.instructure.com/placement, lti1p1, errors).
//   generic: a plain spec-shaped platform; login is a GET (query string); exp = iat+300.
//   brightspace: D2L-shaped: GUID client and deployment ids; login form POST; exp = iat+300;
//            client assertions must carry the fixed aud https://api.brightspace.com/auth/token
//            (a string; an array is refused); no `lineitem` in launches (1.3 links get no grade
//            item: the tool creates its own); line item pages of up to 200.
// Service-side (token endpoint, AGS) rules per profile: docs/simulator.md.
enum class Profile { kGeneric, kMoodle, kCanvas, kBrightspace };
std::string_view ProfileName(Profile profile);
std::optional<Profile> ParseProfile(std::string_view name);

struct ToolSpec {
  std::string name;
  std::string login_url;                   // OIDC third-party initiated login URL
  std::vector<std::string> redirect_uris;  // matched exactly at /sim/auth
  std::string target_link_uri;             // resource link launches
  std::string deep_link_url;               // deep-linking launches; empty: target_link_uri
  std::string jwks_url;                    // the tool's JWKS (token endpoint, part 2); optional
  Profile profile = Profile::kGeneric;
  std::map<std::string, std::string> custom;  // extra custom parameters sent on every launch
  // The platform was upgraded from LTI 1.1: launches carry the lti1p1 migration claim with this
  // consumer key and oauth_consumer_key_sign made with the secret (any profile).
  std::string lti11_consumer_key;
  std::string lti11_secret;
};

struct Tool {
  ToolSpec spec;
  std::string client_id;
  std::string deployment_id;
};

struct LaunchSpec {
  std::string client_id;
  std::string user_id = "learner1";
  std::string resource_link_id = "rl-quiz-1";  // ignored for deep linking
  std::string message_type = "LtiResourceLinkRequest";  // or "LtiDeepLinkingRequest"
  std::vector<Mutation> mutations;
};

struct PlatformOptions {
  std::string base_url;  // "http://127.0.0.1:PORT", no trailing slash; may be set later
  std::string issuer;    // empty: the base URL
  const Clock* clock = nullptr;  // null: SystemClock::Instance()
  Random* random = nullptr;      // null: SecureRandom::Instance(); used under a lock
  std::string signing_key_pem;   // PKCS#8; empty: a fresh 2048-bit key
  std::string second_key_pem;    // the published but unused key; empty: a fresh one
  std::chrono::seconds pending_launch_ttl{600};
  size_t max_pending_launches = 10'000;
  // Fetches tools' JWKS for the token endpoint; must outlive the Platform. Null: the Platform
  // makes its own libcurl client with allow_insecure (tools run on http://127.0.0.1 locally).
  http::HttpClient* http_client = nullptr;
  // Learners in the course: learner1..learner<learners> (at least the default three). Load tests
  // use thousands, so scores spread over many gradebook cells.
  int learners = 3;
  // How injected latency waits (tests record instead of sleeping). Null: sleep_for.
  std::function<void(std::chrono::milliseconds)> sleep;
};

class Platform {
 public:
  // Generates (or loads) the keys. Errors only from key generation/parsing.
  static Result<std::unique_ptr<Platform>> Create(PlatformOptions options);
  ~Platform();
  Platform(const Platform&) = delete;
  Platform& operator=(const Platform&) = delete;

  // Sets the base URL once it is known (after bind). Call before serving requests.
  void SetBaseUrl(std::string base_url);
  std::string base_url() const;
  std::string issuer() const;

  // Registers every /sim/... route (and "/" -> /sim/) on `router`.
  void AddRoutes(server::Router& router);

  // Programmatic equivalents of the JSON API.
  Result<Tool> RegisterTool(ToolSpec spec);
  std::vector<Tool> tools() const;
  std::optional<Tool> FindTool(std::string_view client_id) const;
  const Seed& seed() const { return seed_; }
  const Clock& clock() const { return *clock_; }

  // Keys.
  std::string JwksJson() const;
  const std::string& kid() const { return kid_; }
  const std::string& second_kid() const { return second_kid_; }
  jose::RsaPublicKey public_key() const { return key_.PublicKey(); }

  // The claims of a launch before JOSE-level mutations (payload mutations applied), and the
  // signed id_token with every mutation applied. Exposed for tests and later parts.
  Result<nlohmann::json> BuildClaims(const LaunchSpec& launch, std::string_view nonce) const;
  Result<std::string> BuildIdToken(const LaunchSpec& launch, std::string_view nonce) const;

  // URLs.
  std::string LaunchUrl(const LaunchSpec& launch) const;  // <base>/sim/launch?...
  std::string AuthUrl() const;                            // <base>/sim/auth
  std::string TokenUrl() const;                           // <base>/sim/token (part 2)
  std::string JwksUrl() const;                            // <base>/sim/jwks
  std::string ReturnUrl() const;                          // <base>/sim/return
  std::string DeepLinkReturnUrl() const;                  // <base>/sim/deep_link_return
  // AGS/NRPS URLs as put in launches. Moodle-profile URLs end in "?type_id=<deployment>" like
  // Moodle's, so a tool must insert /scores before the query.
  std::string LineItemsUrl(const Tool& tool) const;
  std::string LineItemUrl(const Tool& tool, std::string_view line_item_id) const;
  std::string MembershipsUrl(const Tool& tool) const;

  // Handlers (also reachable through AddRoutes).
  http::Response HandleHome(const http::Request& request) const;
  http::Response HandleJwks(const http::Request& request) const;
  http::Response HandleListTools(const http::Request& request) const;
  http::Response HandleRegisterTool(const http::Request& request);
  // POST /sim/api/tools/canvas {"config": {...} | "config_url": URL, "redirect_uris": [...]}:
  // a developer key from the tool's Canvas JSON (canvas_developer_key.cc).
  http::Response HandleRegisterCanvasTool(const http::Request& request);
  http::Response HandleGetTool(const http::Request& request) const;  // GET /sim/api/tools/<client_id>
  http::Response HandleUsers(const http::Request& request) const;
  http::Response HandleCourses(const http::Request& request) const;
  http::Response HandleLaunch(const http::Request& request);
  http::Response HandleAuth(const http::Request& request);
  http::Response HandleReturn(const http::Request& request) const;

  // Number of launches waiting for their authentication request (tests).
  size_t pending_launches() const;

  // Part 2: token endpoint, AGS, gradebook, faults.
  http::Response HandleToken(const http::Request& request);          // POST /sim/token
  http::Response HandleAgs(const http::Request& request);            // /sim/api/lti/courses/...
  http::Response HandleGradebookPage(const http::Request& request) const;  // GET /sim/gradebook
  http::Response HandleGradebookJson(const http::Request& request) const;  // GET /sim/api/gradebook
  http::Response HandleGetFaults(const http::Request& request) const;      // GET /sim/api/faults
  http::Response HandleSetFaults(const http::Request& request);            // POST /sim/api/faults
  http::Response HandleGetRoster(const http::Request& request) const;      // GET /sim/api/roster
  http::Response HandleSetRoster(const http::Request& request);            // POST /sim/api/roster

  // Replaces the client used to fetch tool JWKS (before serving requests).
  void SetHttpClient(http::HttpClient* client);
  Gradebook& gradebook() { return *gradebook_; }
  const Gradebook& gradebook() const { return *gradebook_; }
  FaultInjector& faults() { return *faults_; }
  Roster& roster() { return *roster_; }
  const Roster& roster() const { return *roster_; }
  AccessTokenStore& access_tokens() { return *tokens_; }
  ToolJwksCache& tool_jwks() { return *tool_jwks_; }
  Lti11Consumers& lti11() { return *lti11_; }

 private:
  struct PendingLaunch {
    LaunchSpec spec;
    std::string login_hint;
    std::string message_hint;
    int64_t created = 0;
    uint64_t seq = 0;
  };

  explicit Platform(PlatformOptions options);
  nlohmann::json ToolToJson(const Tool& tool) const;
  std::string RandomAlnum(size_t n) const;
  std::string RandomHex(size_t bytes) const;
  void PurgePendingLocked(int64_t now);
  Result<std::string> CanvasMessageHint(const LaunchSpec& launch) const;
  double Uniform01() const;
  http::HttpClient& FetchClient();

  PlatformOptions options_;
  const Clock* clock_;
  Random* random_;
  mutable std::mutex random_mu_;
  std::unique_ptr<Seed> owned_seed_;  // when options_.learners asks for more than the default
  const Seed& seed_;

  jose::RsaPrivateKey key_;
  jose::RsaPrivateKey second_key_;
  std::string kid_;
  std::string second_kid_;
  std::string public_pem_;
  std::string platform_guid_;

  mutable std::shared_mutex url_mu_;
  std::string base_url_;
  std::string issuer_;

  mutable std::shared_mutex tools_mu_;
  std::vector<Tool> tools_;
  int next_canvas_key_ = 42;
  int next_canvas_tool_ = 189;
  int next_moodle_type_ = 1;

  mutable std::mutex pending_mu_;
  std::unordered_map<std::string, PendingLaunch> pending_;
  std::deque<std::pair<std::string, uint64_t>> pending_order_;
  uint64_t next_seq_ = 1;

  // Part 2 state (each thread-safe on its own).
  std::unique_ptr<Gradebook> gradebook_;
  std::unique_ptr<FaultInjector> faults_;
  std::unique_ptr<Roster> roster_;
  std::unique_ptr<AccessTokenStore> tokens_;
  std::unique_ptr<JtiRegistry> jtis_;
  std::unique_ptr<ToolJwksCache> tool_jwks_;
  std::unique_ptr<Lti11Consumers> lti11_;  // LTI 1.1 launches and outcomes (lti11_consumer.h)
  std::mutex fetch_client_mu_;
  http::HttpClient* fetch_client_ = nullptr;
  std::unique_ptr<http::HttpClient> owned_fetch_client_;
};

}  // namespace gb::sim
