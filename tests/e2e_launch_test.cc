// End-to-end launch tests: every invalid launch category of the spec digest is proven to be
// refused for its own reason, and every valid shape is proven to be accepted, through real
// processes talking HTTP: simulator (platform + browser) → gradebridge → hand-off → tool API.
#include <signal.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <regex>

#include "base/strings.h"
#include "e2e_fixture.h"
#include "http/curl/curl_client.h"

namespace gb::testing {

std::string ReasonIn(const std::string& html) {
  std::smatch m;
  static const std::regex re("(launch|login|request)\\.[a-z_]+");
  if (std::regex_search(html, m, re)) return m.str();
  return "";
}

E2eEnvironment& E2eEnvironment::Get() {
  // Destroyed at exit: the child servers are stopped and the temporary directory removed.
  static E2eEnvironment env;
  return env;
}

E2eEnvironment::E2eEnvironment() {
  dir_ = std::make_unique<TempDir>();
  const std::string& d = dir_->path();
  db = "sqlite:" + d + "/gb.db";
  data_key = d + "/gb.key";
  http::CurlClientOptions copts;
  copts.allow_insecure = true;
  client = http::MakeCurlHttpClient(copts);

  sim_ = std::make_unique<ChildProcess>(
      std::vector<std::string>{GradebridgeBinary(), "sim", "--listen", "127.0.0.1:0", "--port-file", d + "/sim.port",
                               "--threads", "16", "--learners", std::to_string(kLearners)},
      d + "/sim.log");
  gb_ = std::make_unique<ChildProcess>(
      std::vector<std::string>{GradebridgeBinary(), "serve", "--listen", "127.0.0.1:0", "--port-file", d + "/gb.port",
                               "--database", db, "--data-key-file", data_key, "--dev-mode", "true", "--threads", "2",
                               "--registration-cache-ms", std::to_string(kRegistrationCacheMs)},
      d + "/gb.log");
  int sim_port = WaitForPortFile(d + "/sim.port");
  int gb_port = WaitForPortFile(d + "/gb.port");
  if (sim_port == 0 || gb_port == 0) {
    ADD_FAILURE() << "servers did not start\nsim log:\n" << sim_->Log() << "\ngb log:\n" << gb_->Log();
    return;
  }
  sim_url = "http://127.0.0.1:" + std::to_string(sim_port);
  gb_url = "http://127.0.0.1:" + std::to_string(gb_port);
  gb_port_ = gb_port;
  tool_target = "http://127.0.0.1:9/tool/start";

  auto tenant = Cli({"tenant", "add", "school-a", "--json"});
  auto other = Cli({"tenant", "add", "school-b", "--json"});
  if (tenant.exit_code != 0 || other.exit_code != 0) {
    ADD_FAILURE() << "tenant add failed: " << tenant.err << other.err;
    return;
  }
  api_key = nlohmann::json::parse(tenant.out)["api_key"];
  other_api_key = nlohmann::json::parse(other.out)["api_key"];

  auto register_tool = [&](const std::string& profile, bool with_target) {
    RegisteredTool t;
    nlohmann::json spec = {{"name", "gradebridge e2e " + profile},
                           {"login_url", gb_url + "/lti/login"},
                           {"redirect_uris", {gb_url + "/lti/launch"}},
                           {"target_link_uri", with_target ? tool_target : gb_url + "/lti/launch"},
                           {"jwks_url", gb_url + "/.well-known/jwks.json"},
                           {"profile", profile}};
    http::Request req;
    req.method = "POST";
    req.url = sim_url + "/sim/api/tools";
    req.headers.Set("Content-Type", "application/json");
    req.body = spec.dump();
    auto resp = client->Send(req);
    if (!resp.ok() || resp->status != 201) {
      ADD_FAILURE() << "sim tool registration failed: " << (resp.ok() ? resp->body : resp.status().ToString());
      return t;
    }
    auto j = nlohmann::json::parse(resp->body);
    t.client_id = j["client_id"];
    t.deployment_id = j["deployment_id"];
    std::vector<std::string> args = {"registration", "add", "--tenant", "school-a", "--issuer", j["issuer"],
                                     "--client-id", t.client_id, "--deployment-id", t.deployment_id,
                                     "--auth-url", j["auth_url"], "--token-url", j["token_url"],
                                     "--jwks-url", j["jwks_url"], "--family", profile, "--json", "--dev-mode", "true"};
    if (with_target) {
      args.push_back("--target-url");
      args.push_back(tool_target);
    }
    auto r = Cli(args);
    if (r.exit_code != 0) {
      ADD_FAILURE() << "registration add failed: " << r.err;
      return t;
    }
    t.registration_id = nlohmann::json::parse(r.out)["id"];
    return t;
  };
  canvas = register_tool("canvas", true);
  moodle = register_tool("moodle", false);
}

bool E2eEnvironment::CrashAndRestartServer() {
  const std::string& d = dir_->path();
  gb_->Stop(SIGKILL);
  std::remove((d + "/gb.port").c_str());
  gb_ = std::make_unique<ChildProcess>(
      std::vector<std::string>{GradebridgeBinary(), "serve", "--listen", "127.0.0.1:" + std::to_string(gb_port_),
                               "--port-file", d + "/gb.port", "--database", db, "--data-key-file", data_key,
                               "--dev-mode", "true", "--threads", "2", "--registration-cache-ms",
                               std::to_string(kRegistrationCacheMs)},
      d + "/gb.log");
  if (WaitForPortFile(d + "/gb.port") != gb_port_) {
    ADD_FAILURE() << "serve did not come back on port " << gb_port_ << "\n" << gb_->Log();
    return false;
  }
  return true;
}

CommandResult E2eEnvironment::Cli(std::vector<std::string> args) {
  args.insert(args.begin(), GradebridgeBinary());
  args.push_back("--database");
  args.push_back(db);
  args.push_back("--data-key-file");
  args.push_back(data_key);
  return RunCommand(args);
}

std::string E2eEnvironment::LaunchUrl(const RegisteredTool& tool, const std::string& user, const std::string& link,
                                      const std::string& mutate) const {
  std::string url = sim_url + "/sim/launch?client_id=" + PercentEncode(tool.client_id) + "&user=" + user +
                    "&resource_link=" + link;
  if (!mutate.empty()) url += "&mutate=" + mutate;
  return url;
}

sim::LaunchOutcome E2eEnvironment::Launch(const std::string& url, sim::LaunchBrowserOptions options) {
  sim::LaunchBrowser browser(*client, options);
  auto outcome = browser.Launch(url);
  EXPECT_TRUE(outcome.ok()) << outcome.status().ToString();
  return outcome.ok() ? *outcome : sim::LaunchOutcome{};
}

http::Response E2eEnvironment::Get(const std::string& url, const std::string& bearer) {
  http::Request req;
  req.method = "GET";
  req.url = url;
  if (!bearer.empty()) req.headers.Set("Authorization", "Bearer " + bearer);
  auto resp = client->Send(req);
  EXPECT_TRUE(resp.ok()) << resp.status().ToString();
  return resp.ok() ? *resp : http::Response{};
}

namespace {

class LaunchE2eTest : public ::testing::Test {
 protected:
  E2eEnvironment& env = E2eEnvironment::Get();

  // Launches with a mutation and expects the tool to refuse it for `reason`.
  void ExpectRefused(const std::string& mutate, const std::string& reason, int min_status = 400, int max_status = 499) {
    auto outcome = env.Launch(env.LaunchUrl(env.canvas, "learner1", "rl-quiz-1", mutate));
    ASSERT_TRUE(outcome.reached_tool_launch()) << "stage " << outcome.stage << "\n" << outcome.body;
    EXPECT_GE(outcome.status, min_status) << outcome.body;
    EXPECT_LE(outcome.status, max_status) << outcome.body;
    EXPECT_EQ(ReasonIn(outcome.body), reason) << outcome.body;
    EXPECT_EQ(outcome.body.find("Exception"), std::string::npos);
  }

  void ExpectAccepted(const RegisteredTool& tool, const std::string& user, const std::string& mutate = "") {
    auto outcome = env.Launch(env.LaunchUrl(tool, user, "rl-quiz-1", mutate));
    ASSERT_TRUE(outcome.reached_tool_launch()) << "stage " << outcome.stage << "\n" << outcome.body;
    EXPECT_TRUE(outcome.status == 303 || outcome.status == 200) << outcome.status << " " << ReasonIn(outcome.body);
  }
};

// --- valid launches -------------------------------------------------------------------------

TEST_F(LaunchE2eTest, CanvasShapedLaunchHandsOffToTheToolWhichRedeemsTheTokenOnce) {
  auto outcome = env.Launch(env.LaunchUrl(env.canvas, "instructor", "rl-quiz-1"));
  ASSERT_EQ(outcome.status, 303) << outcome.body;
  ASSERT_EQ(outcome.location.rfind(env.tool_target + "?launch_token=", 0), 0u) << outcome.location;
  std::string token = outcome.location.substr(outcome.location.find('=') + 1);

  // Another tenant cannot redeem (or burn) it.
  auto foreign = env.Get(env.gb_url + "/api/v1/launches/" + token, env.other_api_key);
  EXPECT_EQ(foreign.status, 404);
  auto anonymous = env.Get(env.gb_url + "/api/v1/launches/" + token);
  EXPECT_EQ(anonymous.status, 401);

  auto redeemed = env.Get(env.gb_url + "/api/v1/launches/" + token, env.api_key);
  ASSERT_EQ(redeemed.status, 200) << redeemed.body;
  auto launch = nlohmann::json::parse(redeemed.body);
  EXPECT_EQ(launch["user"]["id"], "instructor");
  EXPECT_EQ(launch["is_instructor"], true);
  EXPECT_EQ(launch["resource_link"]["id"], "rl-quiz-1");
  EXPECT_EQ(launch["context"]["id"], "1001");
  EXPECT_EQ(launch["deployment_id"], env.canvas.deployment_id);
  EXPECT_EQ(launch["message_type"], "LtiResourceLinkRequest");
  EXPECT_FALSE(launch["ags"].is_null());
  EXPECT_FALSE(launch["nrps"].is_null());

  auto again = env.Get(env.gb_url + "/api/v1/launches/" + token, env.api_key);
  EXPECT_EQ(again.status, 409) << again.body;
}

TEST_F(LaunchE2eTest, MoodleShapedLaunchLandsOnTheBuiltInPage) {
  auto outcome = env.Launch(env.LaunchUrl(env.moodle, "learner2", "rl-essay"));
  ASSERT_EQ(outcome.status, 200) << outcome.body;
  EXPECT_NE(outcome.body.find("Alan Turing"), std::string::npos) << outcome.body;
  EXPECT_NE(outcome.body.find("Learner"), std::string::npos);
  EXPECT_NE(outcome.body.find("Essay"), std::string::npos);
  EXPECT_NE(outcome.body.find("Introduction to Computing"), std::string::npos);
}

TEST_F(LaunchE2eTest, TeachingAssistantLaunch) { ExpectAccepted(env.moodle, "ta1"); }
TEST_F(LaunchE2eTest, AudArrayWithAzpIsAccepted) { ExpectAccepted(env.canvas, "learner1", "aud_array_with_azp"); }
TEST_F(LaunchE2eTest, UnknownClaimsAreIgnored) { ExpectAccepted(env.canvas, "learner1", "unknown_claims"); }
TEST_F(LaunchE2eTest, SmallClockSkewIsAccepted) { ExpectAccepted(env.moodle, "learner1", "clock_skew_small"); }
TEST_F(LaunchE2eTest, EmptyRolesAreAccepted) { ExpectAccepted(env.canvas, "learner1", "empty_roles"); }
TEST_F(LaunchE2eTest, ShortRoleNamesAreAccepted) { ExpectAccepted(env.canvas, "instructor", "short_roles"); }
TEST_F(LaunchE2eTest, UnknownRoleIsAccepted) { ExpectAccepted(env.canvas, "learner1", "unknown_role"); }
TEST_F(LaunchE2eTest, LaunchWithoutContextIsAccepted) { ExpectAccepted(env.canvas, "learner1", "no_context"); }
TEST_F(LaunchE2eTest, LaunchWithoutPiiIsAccepted) { ExpectAccepted(env.moodle, "learner1", "no_pii"); }
TEST_F(LaunchE2eTest, EmailOnlyIsAccepted) { ExpectAccepted(env.moodle, "learner1", "email_only"); }
TEST_F(LaunchE2eTest, NamesOnlyIsAccepted) { ExpectAccepted(env.moodle, "learner1", "names_only"); }

// --- invalid launches: certification's bad payloads (lti-digest §10) and our own -------------

TEST_F(LaunchE2eTest, NoKidIsRefused) { ExpectRefused("no_kid", "launch.missing_kid"); }
TEST_F(LaunchE2eTest, IncorrectKidIsRefused) { ExpectRefused("unknown_kid", "launch.unknown_kid"); }
TEST_F(LaunchE2eTest, KidOfAnotherKeyIsRefused) { ExpectRefused("wrong_kid_key", "launch.bad_signature"); }
TEST_F(LaunchE2eTest, BadSignatureIsRefused) { ExpectRefused("bad_signature", "launch.bad_signature"); }
TEST_F(LaunchE2eTest, AlgNoneIsRefused) { ExpectRefused("alg_none", "launch.bad_alg"); }
TEST_F(LaunchE2eTest, Hs256KeyConfusionIsRefused) { ExpectRefused("alg_hs256", "launch.bad_alg"); }
TEST_F(LaunchE2eTest, Rs512IsRefused) { ExpectRefused("alg_rs512", "launch.bad_alg"); }
TEST_F(LaunchE2eTest, WrongIssuerIsRefused) { ExpectRefused("wrong_iss", "launch.wrong_issuer"); }
TEST_F(LaunchE2eTest, WrongAudienceIsRefused) { ExpectRefused("wrong_aud", "launch.wrong_audience"); }
TEST_F(LaunchE2eTest, AudArrayWithoutAzpIsRefused) { ExpectRefused("aud_array_no_azp", "launch.missing_azp"); }
TEST_F(LaunchE2eTest, AzpMismatchIsRefused) { ExpectRefused("azp_mismatch", "launch.azp_mismatch"); }
TEST_F(LaunchE2eTest, ExpiredTokenIsRefused) { ExpectRefused("expired", "launch.expired"); }
TEST_F(LaunchE2eTest, MissingExpIsRefused) { ExpectRefused("no_exp", "launch.missing_exp"); }
TEST_F(LaunchE2eTest, StringExpIsRefused) { ExpectRefused("exp_string", "launch.missing_exp"); }
TEST_F(LaunchE2eTest, MissingIatIsRefused) { ExpectRefused("no_iat", "launch.missing_iat"); }
TEST_F(LaunchE2eTest, IatInTheFutureIsRefused) { ExpectRefused("iat_future", "launch.iat_in_future"); }
TEST_F(LaunchE2eTest, MissingNonceIsRefused) { ExpectRefused("no_nonce", "launch.missing_nonce"); }
TEST_F(LaunchE2eTest, WrongNonceIsRefused) { ExpectRefused("wrong_nonce", "launch.nonce_mismatch"); }
TEST_F(LaunchE2eTest, MissingDeploymentIdIsRefused) { ExpectRefused("no_deployment_id", "launch.missing_deployment_id"); }
TEST_F(LaunchE2eTest, UnknownDeploymentIdIsRefused) { ExpectRefused("unknown_deployment_id", "launch.unknown_deployment"); }
TEST_F(LaunchE2eTest, MissingMessageTypeIsRefused) { ExpectRefused("no_message_type", "launch.missing_message_type"); }
TEST_F(LaunchE2eTest, UnknownMessageTypeIsRefused) {
  ExpectRefused("unknown_message_type", "launch.unsupported_message_type");
}
TEST_F(LaunchE2eTest, MissingVersionIsRefused) { ExpectRefused("no_version", "launch.missing_version"); }
TEST_F(LaunchE2eTest, WrongVersionIsRefused) { ExpectRefused("wrong_version", "launch.wrong_version"); }
TEST_F(LaunchE2eTest, MissingUserIsRefused) { ExpectRefused("no_sub", "launch.missing_sub"); }
TEST_F(LaunchE2eTest, MissingTargetLinkUriIsRefused) { ExpectRefused("no_target_link_uri", "launch.missing_target_link_uri"); }
TEST_F(LaunchE2eTest, MissingRolesIsRefused) { ExpectRefused("no_roles", "launch.missing_roles"); }
TEST_F(LaunchE2eTest, MissingResourceLinkIsRefused) { ExpectRefused("no_resource_link", "launch.missing_resource_link"); }
TEST_F(LaunchE2eTest, MissingResourceLinkIdIsRefused) {
  ExpectRefused("no_resource_link_id", "launch.missing_resource_link_id");
}

TEST_F(LaunchE2eTest, ReplayedLaunchIsRefused) {
  sim::LaunchBrowserOptions options;
  options.replay = true;
  auto outcome = env.Launch(env.LaunchUrl(env.moodle, "learner1", "rl-quiz-1"), options);
  EXPECT_EQ(outcome.status, 200) << outcome.body;
  ASSERT_TRUE(outcome.replayed);
  EXPECT_EQ(outcome.replay_status, 401);
  EXPECT_EQ(ReasonIn(outcome.replay_body), "launch.nonce_replayed");
}

TEST_F(LaunchE2eTest, WrongStateIsRefused) {
  sim::LaunchBrowserOptions options;
  options.replace_state = "forged-state-value";
  auto outcome = env.Launch(env.LaunchUrl(env.canvas, "learner1", "rl-quiz-1"), options);
  EXPECT_EQ(outcome.status, 401);
  EXPECT_EQ(ReasonIn(outcome.body), "launch.state_mismatch");
}

TEST_F(LaunchE2eTest, LaunchWithoutTheLoginCookieIsRefused) {
  sim::LaunchBrowserOptions options;
  options.drop_cookies = true;
  auto outcome = env.Launch(env.LaunchUrl(env.canvas, "learner1", "rl-quiz-1"), options);
  EXPECT_EQ(outcome.status, 401);
  EXPECT_EQ(ReasonIn(outcome.body), "launch.no_session");
}

TEST_F(LaunchE2eTest, MalformedJwtIsRefused) {
  for (const char* garbage : {"not-a-jwt", "a.b", "a.b.c.d", "eyJhbGciOiJSUzI1NiJ9.bm9wZQ.c2ln"}) {
    sim::LaunchBrowserOptions options;
    options.replace_id_token = garbage;
    auto outcome = env.Launch(env.LaunchUrl(env.canvas, "learner1", "rl-quiz-1"), options);
    EXPECT_EQ(outcome.status, 400) << garbage;
    EXPECT_EQ(ReasonIn(outcome.body), "launch.malformed_jwt") << garbage;
  }
}

TEST_F(LaunchE2eTest, OversizedTokenIsRefused) {
  sim::LaunchBrowserOptions options;
  options.replace_id_token = std::string(40 * 1024, 'A');
  auto outcome = env.Launch(env.LaunchUrl(env.canvas, "learner1", "rl-quiz-1"), options);
  EXPECT_EQ(outcome.status, 413);
  EXPECT_EQ(ReasonIn(outcome.body), "launch.token_too_large");
}

TEST_F(LaunchE2eTest, OversizedBodyIsRefusedBeforeTheHandler) {
  http::Request req;
  req.method = "POST";
  req.url = env.gb_url + "/lti/launch";
  req.headers.Set("Content-Type", "application/x-www-form-urlencoded");
  req.body = "id_token=" + std::string(200 * 1024, 'A');
  auto resp = env.client->Send(req);
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_EQ(resp->status, 413);
}

TEST_F(LaunchE2eTest, PlatformOidcErrorIsShownNotTreatedAsALaunch) {
  http::Request req;
  req.method = "POST";
  req.url = env.gb_url + "/lti/launch";
  req.headers.Set("Content-Type", "application/x-www-form-urlencoded");
  req.body = "error=login_required&error_description=Session%20expired&state=abc";
  auto resp = env.client->Send(req);
  ASSERT_TRUE(resp.ok());
  EXPECT_EQ(resp->status, 400);
  EXPECT_EQ(ReasonIn(resp->body), "launch.platform_error");
  EXPECT_NE(resp->body.find("login_required"), std::string::npos);
}

TEST_F(LaunchE2eTest, LoginFromAnUnknownIssuerIsRefused) {
  auto resp = env.Get(env.gb_url + "/lti/login?iss=https%3A%2F%2Fevil.test&login_hint=1&target_link_uri=" +
                      PercentEncode(env.gb_url + "/lti/launch"));
  EXPECT_EQ(resp.status, 404);
  EXPECT_EQ(ReasonIn(resp.body), "login.unknown_issuer");
}

TEST_F(LaunchE2eTest, LoginWithAnOffSiteTargetIsRefused) {
  auto resp = env.Get(env.gb_url + "/lti/login?iss=" + PercentEncode(env.sim_url) + "&client_id=" +
                      PercentEncode(env.canvas.client_id) + "&login_hint=1&target_link_uri=" +
                      PercentEncode("https://evil.test/phish"));
  EXPECT_EQ(resp.status, 403);
  EXPECT_EQ(ReasonIn(resp.body), "login.target_not_allowed");
}

TEST_F(LaunchE2eTest, LoginSendsEveryRequiredParameterAndBindsStateToTheBrowser) {
  auto resp = env.Get(env.gb_url + "/lti/login?iss=" + PercentEncode(env.sim_url) + "&client_id=" +
                      PercentEncode(env.canvas.client_id) + "&login_hint=abc&lti_message_hint=xyz&target_link_uri=" +
                      PercentEncode(env.tool_target));
  ASSERT_EQ(resp.status, 302) << resp.body;
  std::string loc = resp.headers.Get("Location").value_or("");
  for (const char* p : {"scope=openid", "response_type=id_token", "response_mode=form_post", "prompt=none",
                        "login_hint=abc", "lti_message_hint=xyz", "state=", "nonce="}) {
    EXPECT_NE(loc.find(p), std::string::npos) << p << " missing from " << loc;
  }
  EXPECT_NE(loc.find("redirect_uri=" + PercentEncode(env.gb_url + "/lti/launch")), std::string::npos) << loc;
  std::string cookie = resp.headers.Get("Set-Cookie").value_or("");
  EXPECT_EQ(cookie.rfind("gb_lti_", 0), 0u) << cookie;
  EXPECT_NE(cookie.find("HttpOnly"), std::string::npos) << cookie;
}

TEST_F(LaunchE2eTest, ToolJwksIsPublished) {
  auto resp = env.Get(env.gb_url + "/.well-known/jwks.json");
  ASSERT_EQ(resp.status, 200);
  auto jwks = nlohmann::json::parse(resp.body);
  ASSERT_GE(jwks["keys"].size(), 1u);
  EXPECT_EQ(jwks["keys"][0]["kty"], "RSA");
  EXPECT_FALSE(jwks["keys"][0]["kid"].get<std::string>().empty());
  EXPECT_FALSE(jwks["keys"][0].contains("d")) << "private key material published!";
}

}  // namespace
}  // namespace gb::testing
