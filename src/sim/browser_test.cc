// Whole launches, login -> auth -> id_token POST, driven by LaunchBrowser through routers in this
// process (sim + a fake tool).
#include "sim/browser.h"

#include <gtest/gtest.h>

#include "sim/lti_names.h"
#include "sim/test_util.h"

namespace gb::sim {
namespace {

using nlohmann::json;
using testing::InProcessWorld;

jose::CompactJws Decode(const std::string& token) {
  auto jws = jose::ParseCompact(token);
  EXPECT_TRUE(jws.ok()) << jws.status().ToString();
  return jws.ok() ? *jws : jose::CompactJws{};
}

TEST(LaunchFlow, MoodleLaunchReachesTheToolWithAValidToken) {
  InProcessWorld w(Profile::kMoodle);
  LaunchBrowser browser(w.client);
  auto out = browser.Launch(w.platform->LaunchUrl(w.Spec("learner1")));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  for (const auto& s : out->steps) SCOPED_TRACE(s);
  EXPECT_EQ(out->stage, "tool_launch");
  EXPECT_EQ(out->status, 303) << out->body;
  EXPECT_EQ(out->location, w.tool.target_url() + "?launch=1");
  EXPECT_EQ(w.tool.last_login_method, "POST");
  EXPECT_EQ(FormValue(w.tool.last_login, "iss"), w.platform->issuer());
  ASSERT_EQ(w.tool.id_tokens.size(), 1u);
  EXPECT_EQ(w.tool.id_tokens[0], out->id_token);
  EXPECT_EQ(w.tool.last_launch_cookie, w.tool.state);
  EXPECT_EQ(out->launch_url, w.tool.launch_url());

  auto jws = Decode(out->id_token);
  auto jwks = jose::Jwks::Parse(w.platform->JwksJson());
  ASSERT_TRUE(jwks.ok());
  const jose::Jwk* key = jwks->Find((*jws.header)["kid"].get<std::string>());
  ASSERT_NE(key, nullptr);
  EXPECT_TRUE(jose::VerifyRs256(jws, key->key).ok());
  EXPECT_EQ((*jws.payload)["nonce"], w.tool.nonce);
  EXPECT_EQ((*jws.payload)["aud"], w.registered.client_id);
  EXPECT_FALSE(out->steps.empty());
  for (const auto& s : out->steps) EXPECT_EQ(s.find(out->id_token), std::string::npos) << "no tokens in the trace";
}

TEST(LaunchFlow, CanvasAndGenericProfiles) {
  for (Profile p : {Profile::kCanvas, Profile::kGeneric}) {
    InProcessWorld w(p);
    LaunchBrowser browser(w.client);
    auto out = browser.Launch(w.platform->LaunchUrl(w.Spec("instructor")));
    ASSERT_TRUE(out.ok());
    EXPECT_EQ(out->status, 303) << ProfileName(p) << " " << out->body;
    EXPECT_EQ(w.tool.last_login_method, p == Profile::kGeneric ? "GET" : "POST");
    EXPECT_EQ((*Decode(out->id_token).payload)["sub"], "instructor");
  }
}

TEST(LaunchFlow, ToolThatPostsAFormToTheAuthEndpoint) {
  InProcessWorld w(Profile::kMoodle);
  w.tool.use_form_post_to_auth = true;
  LaunchBrowser browser(w.client);
  auto out = browser.Launch(w.platform->LaunchUrl(w.Spec()));
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->status, 303) << out->body;
  EXPECT_EQ(w.tool.id_tokens.size(), 1u);
}

TEST(LaunchFlow, DeepLinkingLaunch) {
  InProcessWorld w(Profile::kCanvas);
  LaunchSpec spec = w.Spec("instructor");
  spec.message_type = lti::kMsgDeepLinkingRequest;
  LaunchBrowser browser(w.client);
  auto out = browser.Launch(w.platform->LaunchUrl(spec));
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->status, 303);
  auto jws = Decode(out->id_token);
  EXPECT_EQ((*jws.payload)[lti::kClaimMessageType], "LtiDeepLinkingRequest");
  EXPECT_TRUE(jws.payload->contains(lti::kClaimDlSettings));
}

TEST(LaunchFlow, MutationsTravelWithThePendingLaunch) {
  InProcessWorld w(Profile::kMoodle);
  LaunchBrowser browser(w.client);
  auto out = browser.Launch(w.platform->LaunchUrl(w.Spec("learner2", {Mutation::kNoKid, Mutation::kWrongNonce})));
  ASSERT_TRUE(out.ok());
  auto jws = Decode(out->id_token);
  EXPECT_FALSE(jws.header->contains("kid"));
  EXPECT_NE((*jws.payload)["nonce"], w.tool.nonce);
  EXPECT_EQ((*jws.payload)["sub"], "learner2");
}

TEST(LaunchFlow, WrongRedirectUriStopsAtThePlatformWith400) {
  InProcessWorld w(Profile::kMoodle);
  w.tool.overrides["redirect_uri"] = w.tool.launch_url() + "2";
  LaunchBrowser browser(w.client);
  auto out = browser.Launch(w.platform->LaunchUrl(w.Spec()));
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->stage, "platform_auth");
  EXPECT_EQ(out->status, 400);
  EXPECT_NE(out->body.find("not registered"), std::string::npos);
  EXPECT_TRUE(out->id_token.empty());
  EXPECT_TRUE(w.tool.last_launch.empty());
}

TEST(LaunchFlow, BadResponseModeIsPostedBackAsAnOidcError) {
  InProcessWorld w(Profile::kMoodle);
  w.tool.overrides["response_mode"] = "fragment";
  LaunchBrowser browser(w.client);
  auto out = browser.Launch(w.platform->LaunchUrl(w.Spec()));
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->stage, "tool_launch");
  EXPECT_EQ(out->oidc_error, "invalid_request");
  EXPECT_EQ(FormValue(w.tool.last_launch, "error"), "invalid_request");
  EXPECT_EQ(FormValue(w.tool.last_launch, "state"), w.tool.state);
  EXPECT_EQ(out->status, 400);
  EXPECT_TRUE(w.tool.id_tokens.empty());
}

TEST(LaunchFlow, TamperHooks) {
  {
    InProcessWorld w;
    LaunchBrowserOptions o;
    o.replace_state = "forged";
    LaunchBrowser browser(w.client, o);
    auto out = browser.Launch(w.platform->LaunchUrl(w.Spec()));
    ASSERT_TRUE(out.ok());
    EXPECT_EQ(out->status, 401);
    EXPECT_EQ(FormValue(out->posted, "state"), "forged");
  }
  {
    InProcessWorld w;
    LaunchBrowserOptions o;
    o.drop_cookies = true;
    LaunchBrowser browser(w.client, o);
    auto out = browser.Launch(w.platform->LaunchUrl(w.Spec()));
    ASSERT_TRUE(out.ok());
    EXPECT_EQ(out->status, 401);
    EXPECT_FALSE(w.tool.last_launch_cookie);
  }
  {
    InProcessWorld w;
    LaunchBrowserOptions o;
    o.replace_id_token = "not-a-jwt";
    LaunchBrowser browser(w.client, o);
    auto out = browser.Launch(w.platform->LaunchUrl(w.Spec()));
    ASSERT_TRUE(out.ok());
    EXPECT_EQ(FormValue(w.tool.last_launch, "id_token"), "not-a-jwt");
    EXPECT_FALSE(out->id_token.empty()) << "the platform's token is still reported";
    EXPECT_NE(out->id_token, "not-a-jwt");
  }
  {
    InProcessWorld w;
    LaunchBrowserOptions o;
    o.replay = true;
    LaunchBrowser browser(w.client, o);
    auto out = browser.Launch(w.platform->LaunchUrl(w.Spec()));
    ASSERT_TRUE(out.ok());
    EXPECT_TRUE(out->replayed);
    EXPECT_EQ(out->status, 303);
    EXPECT_EQ(out->replay_status, 303) << "the fake tool has no replay protection";
    ASSERT_EQ(w.tool.id_tokens.size(), 2u);
    EXPECT_EQ(w.tool.id_tokens[0], w.tool.id_tokens[1]);
  }
}

TEST(LaunchFlow, SameSiteLaxCookieIsNotSentCrossSite) {
  // A tool on another site than the platform that sets its state cookie SameSite=Lax loses it on
  // the platform's cross-site form POST, as in a real browser.
  auto platform = testing::MakePlatform("http://sim.test");
  server::Router sim_router;
  platform->AddRoutes(sim_router);
  testing::FakeTool tool("https://tool.example.com");
  InProcessHttpClient client;
  client.Mount("http://sim.test", &sim_router);
  client.Mount(tool.origin(), &tool.router());
  auto reg = platform->RegisterTool(tool.Spec(Profile::kMoodle));
  ASSERT_TRUE(reg.ok());
  tool.auth_url = platform->AuthUrl();
  LaunchSpec spec;
  spec.client_id = reg->client_id;

  LaunchBrowser browser(client);
  auto out = browser.Launch(platform->LaunchUrl(spec));
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->status, 401) << "Lax cookie withheld";
  bool noted = false;
  for (const auto& s : out->steps) noted = noted || s.find("cookie withheld: tool_state") != std::string::npos;
  EXPECT_TRUE(noted);

  tool.cookie_attributes = "; Path=/; Secure; HttpOnly; SameSite=None";
  browser.cookies().Clear();
  out = browser.Launch(platform->LaunchUrl(spec));
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->status, 303) << "SameSite=None; Secure works cross-site";

  tool.cookie_attributes = "; Path=/; SameSite=Lax";
  browser.cookies().Clear();
  browser.options().enforce_same_site = false;
  out = browser.Launch(platform->LaunchUrl(spec));
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->status, 303) << "modelling can be switched off";
}

TEST(LaunchFlow, ErrorsBeforeTheTool) {
  InProcessWorld w;
  LaunchBrowser browser(w.client);
  auto out = browser.Launch(w.platform->base_url() + "/sim/launch?client_id=" + w.registered.client_id +
                            "&user=learner1&mutate=bogus");
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->stage, "platform_launch");
  EXPECT_EQ(out->status, 400);
  auto refused = browser.Launch("http://nowhere.test/sim/launch");
  EXPECT_FALSE(refused.ok());
}

TEST(LaunchFlow, RedirectLoopIsBounded) {
  server::Router loop;
  loop.Add("GET", "/a", [](const http::Request&) { return http::Response::Redirect("/b", 302); });
  loop.Add("GET", "/b", [](const http::Request&) { return http::Response::Redirect("http://loop.test/a", 302); });
  InProcessHttpClient client;
  client.Mount("http://loop.test", &loop);
  LaunchBrowserOptions o;
  o.max_steps = 5;
  LaunchBrowser browser(client, o);
  auto out = browser.Launch("http://loop.test/a");
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().reason(), "browser.too_many_steps");
}

}  // namespace
}  // namespace gb::sim
