// The simulator over real sockets: HttpServer + libcurl + a fake tool on its own HttpServer.
#include "sim/simulator.h"

#include <gtest/gtest.h>

#include "http/curl/curl_client.h"
#include "server/http_server.h"
#include "sim/browser.h"
#include "sim/faults.h"
#include "sim/lti_names.h"
#include "sim/test_util.h"
#include "sim/token_endpoint.h"

namespace gb::sim {
namespace {

using nlohmann::json;

SimOptions TestOptions() {
  SimOptions o;
  o.listen = "127.0.0.1:0";
  o.signing_key_pem = testing::TestKeyPems().first;
  o.second_key_pem = testing::TestKeyPems().second;
  return o;
}

TEST(Simulator, StartsOnAFreePortAndStops) {
  Simulator sim(TestOptions());
  ASSERT_TRUE(sim.Start().ok());
  EXPECT_NE(sim.port(), 0);
  EXPECT_EQ(sim.base_url(), "http://127.0.0.1:" + std::to_string(sim.port()));
  EXPECT_EQ(sim.issuer(), sim.base_url());
  EXPECT_FALSE(sim.Start().ok()) << "once only";
  sim.Stop();
  sim.Stop();  // idempotent
}

TEST(Simulator, ExplicitIssuer) {
  SimOptions o = TestOptions();
  o.issuer = "https://canvas.sim.example";
  Simulator sim(o);
  ASSERT_TRUE(sim.Start().ok());
  EXPECT_EQ(sim.issuer(), "https://canvas.sim.example");
  EXPECT_EQ(sim.platform().AuthUrl(), sim.base_url() + "/sim/auth");
}

TEST(Simulator, LaunchEndToEndOverHttp) {
  Simulator sim(TestOptions());
  ASSERT_TRUE(sim.Start().ok());

  testing::FakeTool tool;
  server::ServerOptions so;
  so.listen = "127.0.0.1:0";
  so.threads = 1;
  so.access_log = false;
  server::HttpServer tool_server(so, tool.router());
  ASSERT_TRUE(tool_server.Start().ok());
  tool.set_origin("http://127.0.0.1:" + std::to_string(tool_server.port()));
  tool_server.RunInBackground();

  http::CurlClientOptions co;
  co.allow_insecure = true;
  auto client = http::MakeCurlHttpClient(co);

  // Register through the JSON API.
  json reg = {{"name", "Fake"},
              {"login_url", tool.login_url()},
              {"redirect_uris", {tool.launch_url()}},
              {"target_link_uri", tool.target_url()},
              {"profile", "canvas"}};
  http::Request r;
  r.method = "POST";
  r.url = sim.base_url() + "/sim/api/tools";
  r.headers.Add("Content-Type", "application/json");
  r.body = reg.dump();
  auto created = client->Send(r);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  ASSERT_EQ(created->status, 201) << created->body;
  json info = json::parse(created->body);
  tool.auth_url = info["auth_url"];
  tool.client_id = info["client_id"];

  http::Request jr;
  jr.method = "GET";
  jr.url = info["jwks_url"];
  auto jwks_resp = client->Send(jr);
  ASSERT_TRUE(jwks_resp.ok());
  auto jwks = jose::Jwks::Parse(jwks_resp->body);
  ASSERT_TRUE(jwks.ok());

  LaunchSpec spec;
  spec.client_id = tool.client_id;
  spec.user_id = "learner3";
  LaunchBrowser browser(*client);
  auto out = browser.Launch(sim.platform().LaunchUrl(spec));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  for (const auto& s : out->steps) SCOPED_TRACE(s);
  EXPECT_EQ(out->status, 303) << out->body;
  auto jws = jose::ParseCompact(out->id_token);
  ASSERT_TRUE(jws.ok());
  const jose::Jwk* key = jwks->Find((*jws->header)["kid"].get<std::string>());
  ASSERT_NE(key, nullptr);
  EXPECT_TRUE(jose::VerifyRs256(*jws, key->key).ok());
  EXPECT_EQ((*jws->payload)["sub"], "learner3");
  EXPECT_EQ((*jws->payload)["iss"], sim.issuer());

  // Human page and JSON lists are served.
  for (const char* path : {"/sim/", "/sim/api/tools", "/sim/api/users", "/sim/api/courses"}) {
    http::Request g;
    g.method = "GET";
    g.url = sim.base_url() + path;
    auto resp = client->Send(g);
    ASSERT_TRUE(resp.ok());
    EXPECT_EQ(resp->status, 200) << path;
  }
  tool_server.Stop();
  tool_server.Join();
  sim.Stop();
}

// Token endpoint and AGS over real sockets: the simulator fetches the tool's JWKS from the tool's
// own server with its libcurl client (http://127.0.0.1 allowed), issues a token, takes a score.
TEST(Simulator, TokenAndScoreOverHttp) {
  Simulator sim(TestOptions());
  ASSERT_TRUE(sim.Start().ok());
  testing::FakeTool tool;
  server::ServerOptions so;
  so.listen = "127.0.0.1:0";
  so.threads = 1;
  so.access_log = false;
  server::HttpServer tool_server(so, tool.router());
  ASSERT_TRUE(tool_server.Start().ok());
  tool.set_origin("http://127.0.0.1:" + std::to_string(tool_server.port()));
  tool_server.RunInBackground();
  auto registered = sim.platform().RegisterTool(tool.Spec(Profile::kMoodle));
  ASSERT_TRUE(registered.ok());

  http::CurlClientOptions co;
  co.allow_insecure = true;
  auto client = http::MakeCurlHttpClient(co);
  auto send = [&](std::string method, std::string url, std::string body, std::string type, std::string token = "") {
    http::Request r;
    r.method = std::move(method);
    r.url = std::move(url);
    r.body = std::move(body);
    if (!type.empty()) r.headers.Add("Content-Type", type);
    if (!token.empty()) r.headers.Add("Authorization", "Bearer " + token);
    return client->Send(r);
  };

  int64_t now = SystemClock::Instance().NowSeconds();
  json claims = {{"iss", registered->client_id}, {"sub", registered->client_id}, {"aud", sim.platform().TokenUrl()},
                 {"iat", now}, {"exp", now + 300}, {"jti", "over-http-1"}};
  auto assertion = jose::SignJwt(claims, tool.key(), tool.kid());
  ASSERT_TRUE(assertion.ok());
  auto token_resp = send("POST", sim.platform().TokenUrl(),
                         EncodeForm({{"grant_type", "client_credentials"},
                                     {"client_assertion_type", kClientAssertionType},
                                     {"client_assertion", *assertion},
                                     {"scope", lti::kScopeScore}}),
                         "application/x-www-form-urlencoded");
  ASSERT_TRUE(token_resp.ok()) << token_resp.status().ToString();
  ASSERT_EQ(token_resp->status, 200) << token_resp->body;
  EXPECT_EQ(tool.jwks_fetches.load(), 1);
  std::string token = json::parse(token_resp->body)["access_token"];

  auto item = Url::Parse(sim.platform().LineItemUrl(*registered, "1"));
  ASSERT_TRUE(item.ok());
  json score = {{"userId", "learner1"}, {"scoreGiven", 9}, {"scoreMaximum", 10}, {"activityProgress", "Completed"},
                {"gradingProgress", "FullyGraded"}, {"timestamp", "2026-03-01T10:00:00.000Z"}};
  auto posted = send("POST", item->WithPathSuffix("/scores"), score.dump(), "application/vnd.ims.lis.v1.score+json",
                     token);
  ASSERT_TRUE(posted.ok());
  EXPECT_EQ(posted->status, 200) << posted->body;
  EXPECT_EQ(posted->body, "");

  auto book = send("GET", sim.base_url() + "/sim/api/gradebook", "", "");
  ASSERT_TRUE(book.ok());
  EXPECT_EQ(json::parse(book->body)["line_items"][0]["results"]["learner1"]["resultScore"], 9);

  // A dropped-connection fault closes the socket without an answer: a transport error.
  auto set = send("POST", sim.base_url() + "/sim/api/faults", R"({"drop_probability": 1})", "application/json");
  ASSERT_TRUE(set.ok());
  auto dropped = send("POST", item->WithPathSuffix("/scores"), score.dump(), "application/vnd.ims.lis.v1.score+json",
                      token);
  ASSERT_FALSE(dropped.ok()) << dropped->status;
  EXPECT_EQ(dropped.status().reason(), "http.transport");

  tool_server.Stop();
  tool_server.Join();
  sim.Stop();
}

}  // namespace
}  // namespace gb::sim
