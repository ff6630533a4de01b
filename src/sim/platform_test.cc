#include "sim/platform.h"

#include <gtest/gtest.h>

#include <atomic>
#include <regex>
#include <thread>

#include "base/clock.h"
#include "sim/html.h"
#include "sim/lti_names.h"
#include "sim/test_util.h"

namespace gb::sim {
namespace {

using nlohmann::json;
using testing::FakeTool;
using testing::MakePlatform;

class PlatformTest : public ::testing::Test {
 protected:
  void SetUp() override {
    platform_ = MakePlatform("http://sim.test", &clock_);
    ASSERT_TRUE(platform_);
    platform_->AddRoutes(router_);
    client_.Mount("http://sim.test", &router_);
  }

  http::Response Send(std::string method, std::string path, std::string body = "",
                      std::string content_type = "") {
    http::Request r;
    r.method = std::move(method);
    r.url = "http://sim.test" + path;
    r.body = std::move(body);
    if (!content_type.empty()) r.headers.Add("Content-Type", content_type);
    auto resp = client_.Send(r);
    EXPECT_TRUE(resp.ok()) << resp.status().ToString();
    return resp.ok() ? *resp : http::Response{};
  }

  json RegisterJson(const std::string& profile) {
    json req = {{"name", "Quiz engine"},
                {"login_url", "https://tool.example/lti/login"},
                {"redirect_uris", {"https://tool.example/lti/launch"}},
                {"target_link_uri", "https://tool.example/app"},
                {"jwks_url", "https://tool.example/.well-known/jwks.json"},
                {"profile", profile}};
    auto resp = Send("POST", "/sim/api/tools", req.dump(), "application/json");
    EXPECT_EQ(resp.status, 201) << resp.body;
    return json::parse(resp.body, nullptr, false);
  }

  Tool RegisterFake(Profile profile) {
    auto t = platform_->RegisterTool(tool_.Spec(profile));
    EXPECT_TRUE(t.ok());
    return *t;
  }

  // Runs /sim/launch and returns the parsed login form.
  HtmlForm StartLaunch(const LaunchSpec& spec) {
    std::string url = platform_->LaunchUrl(spec);
    auto resp = Send("GET", url.substr(std::string("http://sim.test").size()));
    EXPECT_EQ(resp.status, 200) << resp.body;
    auto form = ParseHtmlForm(resp.body);
    EXPECT_TRUE(form);
    return form.value_or(HtmlForm{});
  }

  // A correct authentication request for a login form, with overrides (nullopt: remove).
  FormFields AuthParams(const HtmlForm& login, const Tool& tool,
                        std::map<std::string, std::optional<std::string>> overrides = {}) {
    FormFields q = {{"scope", "openid"},           {"response_type", "id_token"},
                    {"response_mode", "form_post"}, {"prompt", "none"},
                    {"client_id", tool.client_id},  {"redirect_uri", tool.spec.redirect_uris[0]},
                    {"login_hint", FormValue(login.fields, "login_hint").value_or("")},
                    {"state", "state-1"},           {"nonce", "nonce-1"}};
    if (auto h = FormValue(login.fields, "lti_message_hint")) q.emplace_back("lti_message_hint", *h);
    for (const auto& [k, v] : overrides) {
      std::erase_if(q, [&](const auto& f) { return f.first == k; });
      if (v) q.emplace_back(k, *v);
    }
    return q;
  }

  http::Response Auth(const FormFields& q, bool post = false) {
    if (post) return Send("POST", "/sim/auth", EncodeForm(q), "application/x-www-form-urlencoded");
    return Send("GET", "/sim/auth?" + EncodeForm(q));
  }

  FakeClock clock_;
  std::unique_ptr<Platform> platform_;
  server::Router router_;
  InProcessHttpClient client_;
  FakeTool tool_;
};

TEST_F(PlatformTest, RegistrationShapesPerProfile) {
  json moodle = RegisterJson("moodle");
  EXPECT_TRUE(std::regex_match(moodle["client_id"].get<std::string>(), std::regex("[A-Za-z0-9]{15}")));
  EXPECT_EQ(moodle["deployment_id"], "1");
  EXPECT_EQ(moodle["issuer"], "http://sim.test");
  EXPECT_EQ(moodle["auth_url"], "http://sim.test/sim/auth");
  EXPECT_EQ(moodle["token_url"], "http://sim.test/sim/token");
  EXPECT_EQ(moodle["jwks_url"], "http://sim.test/sim/jwks");
  EXPECT_EQ(moodle["profile"], "moodle");
  EXPECT_EQ(moodle["tool"]["jwks_url"], "https://tool.example/.well-known/jwks.json");
  json moodle2 = RegisterJson("moodle");
  EXPECT_EQ(moodle2["deployment_id"], "2");
  EXPECT_NE(moodle2["client_id"], moodle["client_id"]);

  json canvas = RegisterJson("canvas");
  EXPECT_EQ(canvas["client_id"], "10000000000042");
  EXPECT_TRUE(std::regex_match(canvas["deployment_id"].get<std::string>(), std::regex("189:[0-9a-f]{40}")));
  json canvas2 = RegisterJson("canvas");
  EXPECT_EQ(canvas2["client_id"], "10000000000043");

  json generic = RegisterJson("generic");
  EXPECT_EQ(generic["profile"], "generic");
  EXPECT_FALSE(generic["client_id"].get<std::string>().empty());

  auto list = Send("GET", "/sim/api/tools");
  ASSERT_EQ(list.status, 200);
  json tools = json::parse(list.body);
  ASSERT_EQ(tools.size(), 5u);
  EXPECT_EQ(tools[0]["client_id"], moodle["client_id"]);
  EXPECT_EQ(tools[2]["tool"]["redirect_uris"][0], "https://tool.example/lti/launch");

  auto one = Send("GET", "/sim/api/tools/" + canvas["client_id"].get<std::string>());
  ASSERT_EQ(one.status, 200);
  EXPECT_EQ(json::parse(one.body)["deployment_id"], canvas["deployment_id"]);
  EXPECT_EQ(Send("GET", "/sim/api/tools/nope").status, 404);
}

TEST_F(PlatformTest, RegistrationIsValidated) {
  auto post = [&](const json& j) { return Send("POST", "/sim/api/tools", j.dump(), "application/json").status; };
  json ok = {{"login_url", "https://t.example/login"},
             {"redirect_uris", {"https://t.example/launch"}},
             {"target_link_uri", "https://t.example/app"}};
  EXPECT_EQ(post(ok), 201);
  for (const char* drop : {"login_url", "redirect_uris", "target_link_uri"}) {
    json j = ok;
    j.erase(drop);
    EXPECT_EQ(post(j), 400) << drop;
  }
  json j = ok;
  j["profile"] = "blackboard";
  EXPECT_EQ(post(j), 400);
  j = ok;
  j["redirect_uris"] = json::array();
  EXPECT_EQ(post(j), 400);
  j = ok;
  j["redirect_uris"] = {"not a url"};
  EXPECT_EQ(post(j), 400);
  j = ok;
  j["login_url"] = 7;
  EXPECT_EQ(post(j), 400);
  j = ok;
  j["custom"] = {{"n", 1}};
  EXPECT_EQ(post(j), 400);
  EXPECT_EQ(Send("POST", "/sim/api/tools", "{not json", "application/json").status, 400);
  EXPECT_EQ(Send("POST", "/sim/api/tools", ok.dump(), "text/plain").status, 415);
  auto err = Send("POST", "/sim/api/tools", "[]", "application/json");
  EXPECT_EQ(json::parse(err.body)["error"], "invalid_request");
}

TEST_F(PlatformTest, SeededUsersAndCourses) {
  json users = json::parse(Send("GET", "/sim/api/users").body);
  ASSERT_EQ(users.size(), 5u);
  EXPECT_EQ(users[0]["id"], "instructor");
  EXPECT_EQ(users[0]["name"], "Ada Lovelace");
  EXPECT_EQ(users[0]["roles"][0], "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor");
  int learners = 0;
  for (const auto& u : users) {
    if (u["role"] == "Learner") {
      ++learners;
      EXPECT_FALSE(u["email"].get<std::string>().empty());
    }
  }
  EXPECT_EQ(learners, 3);
  EXPECT_EQ(users[4]["roles"][0], "http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant");
  json courses = json::parse(Send("GET", "/sim/api/courses").body);
  ASSERT_EQ(courses.size(), 1u);
  EXPECT_EQ(courses[0]["type"][0], "http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering");
  ASSERT_EQ(courses[0]["resource_links"].size(), 2u);
  EXPECT_EQ(courses[0]["resource_links"][0]["id"], "rl-quiz-1");
  EXPECT_EQ(courses[0]["resource_links"][0]["title"], "Quiz 1");
  EXPECT_EQ(courses[0]["resource_links"][1]["id"], "rl-essay");
  EXPECT_EQ(courses[0]["resource_links"][1]["title"], "Essay");
}

TEST_F(PlatformTest, JwksHasTwoKeysWithKids) {
  auto resp = Send("GET", "/sim/jwks");
  ASSERT_EQ(resp.status, 200);
  EXPECT_NE(resp.headers.Get("Content-Type").value_or("").find("application/json"), std::string::npos);
  auto jwks = jose::Jwks::Parse(resp.body);
  ASSERT_TRUE(jwks.ok()) << jwks.status().ToString();
  ASSERT_EQ(jwks->keys().size(), 2u);
  ASSERT_NE(jwks->Find(platform_->kid()), nullptr);
  ASSERT_NE(jwks->Find(platform_->second_kid()), nullptr);
  EXPECT_NE(platform_->kid(), platform_->second_kid());
  json raw = json::parse(resp.body);
  for (const auto& k : raw["keys"]) {
    EXPECT_EQ(k["kty"], "RSA");
    EXPECT_EQ(k["alg"], "RS256");
    EXPECT_EQ(k["use"], "sig");
    EXPECT_FALSE(k["kid"].get<std::string>().empty());
    EXPECT_FALSE(k.contains("d")) << "never publish the private part";
  }
}

TEST_F(PlatformTest, HomePageListsToolsAndEscapes) {
  ToolSpec s = tool_.Spec(Profile::kCanvas);
  s.name = "<b>Evil & Co</b>";
  ASSERT_TRUE(platform_->RegisterTool(s).ok());
  auto resp = Send("GET", "/sim/");
  ASSERT_EQ(resp.status, 200);
  EXPECT_NE(resp.body.find("&lt;b&gt;Evil &amp; Co&lt;/b&gt;"), std::string::npos);
  EXPECT_EQ(resp.body.find("<b>Evil"), std::string::npos);
  EXPECT_NE(resp.body.find("/sim/launch?client_id=10000000000042"), std::string::npos);
  EXPECT_NE(resp.body.find("alg_hs256"), std::string::npos);
  EXPECT_EQ(Send("GET", "/").status, 302);
}

TEST_F(PlatformTest, MoodleLoginForm) {
  Tool tool = RegisterFake(Profile::kMoodle);
  LaunchSpec spec{tool.client_id, "learner1", "rl-quiz-1", lti::kMsgResourceLink, {}};
  HtmlForm form = StartLaunch(spec);
  EXPECT_EQ(form.method, "post");
  EXPECT_EQ(form.action, tool_.login_url());
  std::vector<std::string> names;
  for (const auto& [k, v] : form.fields) names.push_back(k);
  EXPECT_EQ(names, (std::vector<std::string>{"iss", "target_link_uri", "login_hint", "lti_message_hint",
                                             "client_id", "lti_deployment_id"}));
  EXPECT_EQ(FormValue(form.fields, "iss"), "http://sim.test");
  EXPECT_EQ(FormValue(form.fields, "login_hint"), "learner1");
  EXPECT_EQ(FormValue(form.fields, "target_link_uri"), tool_.target_url());
  EXPECT_EQ(FormValue(form.fields, "lti_deployment_id"), "1");
  json hint = json::parse(FormValue(form.fields, "lti_message_hint").value_or(""));
  EXPECT_EQ(hint["cmid"], 1);
  EXPECT_TRUE(std::regex_match(hint["launchid"].get<std::string>(), std::regex("ltilaunch1_[0-9]+")));
  EXPECT_EQ(platform_->pending_launches(), 1u);
}

TEST_F(PlatformTest, CanvasAndGenericLoginForms) {
  Tool canvas = RegisterFake(Profile::kCanvas);
  HtmlForm form = StartLaunch({canvas.client_id, "instructor", "rl-essay", lti::kMsgResourceLink, {}});
  EXPECT_EQ(form.method, "post");
  for (const char* k : {"iss", "login_hint", "target_link_uri", "client_id", "lti_deployment_id",
                        "deployment_id", "canvas_region", "canvas_environment", "lti_message_hint"}) {
    EXPECT_TRUE(FormValue(form.fields, k)) << k;
  }
  EXPECT_EQ(FormValue(form.fields, "lti_deployment_id"), canvas.deployment_id);
  EXPECT_TRUE(jose::ParseCompact(FormValue(form.fields, "lti_message_hint").value_or("")).ok())
      << "Canvas sends a JWT as lti_message_hint";

  Tool generic = RegisterFake(Profile::kGeneric);
  HtmlForm g = StartLaunch({generic.client_id, "learner2", "rl-quiz-1", lti::kMsgResourceLink, {}});
  EXPECT_EQ(g.method, "get");
  EXPECT_EQ(FormValue(g.fields, "client_id"), generic.client_id);
  EXPECT_EQ(FormValue(g.fields, "lti_deployment_id"), generic.deployment_id);
}

TEST_F(PlatformTest, LaunchRejectsUnknowns) {
  Tool tool = RegisterFake(Profile::kMoodle);
  auto status = [&](const std::string& q) { return Send("GET", "/sim/launch?" + q).status; };
  std::string base = "client_id=" + tool.client_id;
  EXPECT_EQ(status(base + "&user=learner1&resource_link=rl-quiz-1"), 200);
  EXPECT_EQ(status(base + "&user=learner1&mutate=no_kid,expired"), 200);
  auto bad = Send("GET", "/sim/launch?" + base + "&user=learner1&mutate=no_kid,teleport");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("teleport"), std::string::npos);
  EXPECT_EQ(status("client_id=nope&user=learner1"), 400);
  EXPECT_EQ(status(base + "&user=nobody"), 400);
  EXPECT_EQ(status(base + "&user=learner1&resource_link=rl-nope"), 400);
  EXPECT_EQ(status(base + "&user=learner1&message_type=LtiSubmissionReviewRequest"), 400);
  EXPECT_EQ(status(base + "&user=learner1&message_type=LtiDeepLinkingRequest"), 200);
}

TEST_F(PlatformTest, AuthSuccessPostsIdTokenAndStateToRedirectUri) {
  Tool tool = RegisterFake(Profile::kMoodle);
  HtmlForm login = StartLaunch({tool.client_id, "learner1", "rl-quiz-1", lti::kMsgResourceLink, {}});
  for (bool post : {false, true}) {
    if (post) login = StartLaunch({tool.client_id, "learner1", "rl-quiz-1", lti::kMsgResourceLink, {}});
    auto resp = Auth(AuthParams(login, tool), post);
    ASSERT_EQ(resp.status, 200) << resp.body;
    auto form = ParseHtmlForm(resp.body);
    ASSERT_TRUE(form);
    EXPECT_EQ(form->method, "post");
    EXPECT_EQ(form->action, tool_.launch_url());
    EXPECT_EQ(FormValue(form->fields, "state"), "state-1");
    auto jws = jose::ParseCompact(FormValue(form->fields, "id_token").value_or(""));
    ASSERT_TRUE(jws.ok());
    EXPECT_EQ((*jws->payload)["nonce"], "nonce-1");
    EXPECT_EQ((*jws->payload)["sub"], "learner1");
  }
  EXPECT_EQ(platform_->pending_launches(), 0u) << "a pending launch is used once";
}

TEST_F(PlatformTest, AuthHardErrorsAreA400Page) {
  Tool tool = RegisterFake(Profile::kMoodle);
  HtmlForm login = StartLaunch({tool.client_id, "learner1", "rl-quiz-1", lti::kMsgResourceLink, {}});
  struct Case {
    const char* what;
    std::map<std::string, std::optional<std::string>> overrides;
  };
  std::vector<Case> cases = {
      {"wrong redirect_uri", {{"redirect_uri", tool_.launch_url() + "/"}}},
      {"redirect_uri differs in case", {{"redirect_uri", "http://TOOL.test/lti/launch"}}},
      {"redirect_uri with a query", {{"redirect_uri", tool_.launch_url() + "?x=1"}}},
      {"no redirect_uri", {{"redirect_uri", std::nullopt}}},
      {"unknown client_id", {{"client_id", "nope"}}},
      {"no client_id", {{"client_id", std::nullopt}}},
  };
  for (const auto& c : cases) {
    auto resp = Auth(AuthParams(login, tool, c.overrides));
    EXPECT_EQ(resp.status, 400) << c.what;
    EXPECT_FALSE(ParseHtmlForm(resp.body)) << c.what << ": nothing may be posted anywhere";
  }
  // Repeated redirect_uri.
  FormFields q = AuthParams(login, tool);
  q.emplace_back("redirect_uri", tool_.launch_url());
  EXPECT_EQ(Auth(q).status, 400);
  // POST with the wrong content type.
  EXPECT_EQ(Send("POST", "/sim/auth", EncodeForm(AuthParams(login, tool)), "application/json").status, 400);
  EXPECT_EQ(platform_->pending_launches(), 1u) << "rejections do not consume the launch";
}

TEST_F(PlatformTest, AuthProtocolErrorsArePostedBackToTheRedirectUri) {
  Tool tool = RegisterFake(Profile::kMoodle);
  HtmlForm login = StartLaunch({tool.client_id, "learner1", "rl-quiz-1", lti::kMsgResourceLink, {}});
  struct Case {
    const char* what;
    std::map<std::string, std::optional<std::string>> overrides;
    const char* error;
  };
  std::vector<Case> cases = {
      {"response_mode query", {{"response_mode", "query"}}, "invalid_request"},
      {"no response_mode", {{"response_mode", std::nullopt}}, "invalid_request"},
      {"response_type code", {{"response_type", "code"}}, "unsupported_response_type"},
      {"scope without openid", {{"scope", "profile email"}}, "invalid_scope"},
      {"no scope", {{"scope", std::nullopt}}, "invalid_scope"},
      {"prompt login", {{"prompt", "login"}}, "invalid_request"},
      {"no prompt", {{"prompt", std::nullopt}}, "invalid_request"},
      {"no nonce", {{"nonce", std::nullopt}}, "invalid_request"},
      {"empty nonce", {{"nonce", ""}}, "invalid_request"},
      {"wrong login_hint", {{"login_hint", "learner2"}}, "access_denied"},
      {"no login_hint", {{"login_hint", std::nullopt}}, "login_required"},
      {"changed lti_message_hint", {{"lti_message_hint", "{\"cmid\":1}"}}, "access_denied"},
      {"dropped lti_message_hint", {{"lti_message_hint", std::nullopt}}, "invalid_request"},
  };
  for (const auto& c : cases) {
    auto resp = Auth(AuthParams(login, tool, c.overrides));
    ASSERT_EQ(resp.status, 200) << c.what;
    auto form = ParseHtmlForm(resp.body);
    ASSERT_TRUE(form) << c.what;
    EXPECT_EQ(form->action, tool_.launch_url()) << c.what;
    EXPECT_EQ(form->method, "post");
    EXPECT_EQ(FormValue(form->fields, "error"), c.error) << c.what;
    EXPECT_TRUE(FormValue(form->fields, "error_description")) << c.what;
    EXPECT_EQ(FormValue(form->fields, "state"), "state-1") << c.what;
    EXPECT_FALSE(FormValue(form->fields, "id_token")) << c.what;
  }
  // Missing state: an error, posted without state.
  auto resp = Auth(AuthParams(login, tool, {{"state", std::nullopt}}));
  auto form = ParseHtmlForm(resp.body);
  ASSERT_TRUE(form);
  EXPECT_EQ(FormValue(form->fields, "error"), "invalid_request");
  EXPECT_FALSE(FormValue(form->fields, "state"));
  // Repeated nonce.
  FormFields q = AuthParams(login, tool);
  q.emplace_back("nonce", "other");
  EXPECT_EQ(FormValue(ParseHtmlForm(Auth(q).body)->fields, "error"), "invalid_request");

  // After all that, the correct request still works once, then never again.
  auto ok = Auth(AuthParams(login, tool));
  EXPECT_TRUE(FormValue(ParseHtmlForm(ok.body)->fields, "id_token"));
  auto again = Auth(AuthParams(login, tool));
  EXPECT_EQ(FormValue(ParseHtmlForm(again.body)->fields, "error"), "access_denied");
}

TEST_F(PlatformTest, AuthRejectsAnotherClientsLaunchAndExpiredLaunches) {
  Tool a = RegisterFake(Profile::kMoodle);
  Tool b = RegisterFake(Profile::kMoodle);
  HtmlForm login = StartLaunch({a.client_id, "learner1", "rl-quiz-1", lti::kMsgResourceLink, {}});
  auto resp = Auth(AuthParams(login, b));
  EXPECT_EQ(FormValue(ParseHtmlForm(resp.body)->fields, "error"), "access_denied");
  clock_.Advance(std::chrono::minutes(11));
  resp = Auth(AuthParams(login, a));
  EXPECT_EQ(FormValue(ParseHtmlForm(resp.body)->fields, "error"), "access_denied") << "pending launch expired";
  EXPECT_EQ(platform_->pending_launches(), 0u);
}

TEST(PlatformBounds, PendingLaunchesAreBounded) {
  PlatformOptions o;
  o.base_url = "http://sim.test";
  o.signing_key_pem = testing::TestKeyPems().first;
  o.second_key_pem = testing::TestKeyPems().second;
  o.max_pending_launches = 3;
  auto p = Platform::Create(o);
  ASSERT_TRUE(p.ok());
  FakeTool tool;
  auto t = (*p)->RegisterTool(tool.Spec(Profile::kGeneric));
  ASSERT_TRUE(t.ok());
  http::Request r;
  r.method = "GET";
  r.target = "/sim/launch?client_id=" + t->client_id + "&user=learner1";
  for (int i = 0; i < 10; ++i) EXPECT_EQ((*p)->HandleLaunch(r).status, 200);
  EXPECT_EQ((*p)->pending_launches(), 3u);
}

TEST(PlatformIssuer, ExplicitIssuerIsUsed) {
  auto p = MakePlatform("http://127.0.0.1:9/", nullptr, "https://canvas.sim.example");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->issuer(), "https://canvas.sim.example");
  EXPECT_EQ(p->base_url(), "http://127.0.0.1:9");
  EXPECT_EQ(p->AuthUrl(), "http://127.0.0.1:9/sim/auth");
}

}  // namespace
}  // namespace gb::sim

namespace gb::sim {
namespace {

// Launches and auth requests from several threads at once (run under the sanitizers).
TEST(PlatformConcurrency, ParallelLaunches) {
  auto platform = testing::MakePlatform("http://127.0.0.1:7001");
  ASSERT_TRUE(platform);
  testing::FakeTool tool;
  std::vector<Tool> tools;
  for (Profile p : {Profile::kMoodle, Profile::kCanvas, Profile::kGeneric}) {
    tools.push_back(*platform->RegisterTool(tool.Spec(p)));
  }
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 15; ++i) {
        const Tool& tl = tools[static_cast<size_t>(t + i) % tools.size()];
        http::Request launch;
        launch.method = "GET";
        launch.target = "/sim/launch?client_id=" + PercentEncode(tl.client_id) + "&user=learner" +
                        std::to_string(1 + i % 3) + "&mutate=unknown_claims";
        auto page = platform->HandleLaunch(launch);
        auto form = ParseHtmlForm(page.body);
        if (!form) continue;
        FormFields q = {{"scope", "openid"}, {"response_type", "id_token"}, {"response_mode", "form_post"},
                        {"prompt", "none"}, {"client_id", tl.client_id}, {"redirect_uri", tl.spec.redirect_uris[0]},
                        {"login_hint", FormValue(form->fields, "login_hint").value_or("")},
                        {"lti_message_hint", FormValue(form->fields, "lti_message_hint").value_or("")},
                        {"state", "s"}, {"nonce", "n" + std::to_string(i)}};
        http::Request auth;
        auth.method = "POST";
        auth.target = "/sim/auth";
        auth.headers.Add("Content-Type", "application/x-www-form-urlencoded");
        auth.body = EncodeForm(q);
        auto resp = ParseHtmlForm(platform->HandleAuth(auth).body);
        if (resp && FormValue(resp->fields, "id_token")) ++ok;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), 60);
  EXPECT_EQ(platform->pending_launches(), 0u);
}

}  // namespace
}  // namespace gb::sim
