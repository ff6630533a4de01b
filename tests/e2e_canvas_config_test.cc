// An administrator registers gradebridge in Canvas the way Canvas offers: a developer key made
// from the tool's JSON configuration URL (/lti/canvas.json), then launches through it.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/strings.h"
#include "e2e_fixture.h"

namespace gb::testing {
namespace {

class CanvasConfigE2eTest : public ::testing::Test {
 protected:
  E2eEnvironment& env = E2eEnvironment::Get();

  http::Response PostSim(const std::string& path, const nlohmann::json& body) {
    http::Request req;
    req.method = "POST";
    req.url = env.sim_url + path;
    req.headers.Set("Content-Type", "application/json");
    req.body = body.dump();
    auto resp = env.client->Send(req);
    EXPECT_TRUE(resp.ok()) << resp.status().ToString();
    return resp.ok() ? *resp : http::Response{};
  }
};

TEST_F(CanvasConfigE2eTest, ServedConfigurationPointsAtThisServer) {
  auto resp = env.Get(env.gb_url + "/lti/canvas.json");
  ASSERT_EQ(resp.status, 200);
  EXPECT_TRUE(StartsWith(resp.headers.Get("Content-Type").value_or(""), "application/json"));
  auto config = nlohmann::json::parse(resp.body);
  EXPECT_EQ(config["oidc_initiation_url"], env.gb_url + "/lti/login");
  EXPECT_EQ(config["target_link_uri"], env.gb_url + "/lti/launch");
  EXPECT_EQ(config["public_jwk_url"], env.gb_url + "/.well-known/jwks.json");
  EXPECT_EQ(config["extensions"][0]["privacy_level"], "name_only");
  // Canvas needs alg and use on the key it fetches.
  auto jwks = nlohmann::json::parse(env.Get(config["public_jwk_url"].get<std::string>()).body);
  ASSERT_FALSE(jwks["keys"].empty());
  EXPECT_EQ(jwks["keys"][0]["alg"], "RS256");
  EXPECT_EQ(jwks["keys"][0]["use"], "sig");
}

TEST_F(CanvasConfigE2eTest, DeveloperKeyFromTheConfigurationUrlLaunches) {
  auto created = PostSim("/sim/api/tools/canvas", {{"config_url", env.gb_url + "/lti/canvas.json"},
                                                   {"redirect_uris", {env.gb_url + "/lti/launch"}}});
  ASSERT_EQ(created.status, 201) << created.body;
  auto key = nlohmann::json::parse(created.body);
  EXPECT_EQ(key["profile"], "canvas");
  EXPECT_EQ(key["tool"]["deep_link_url"], env.gb_url + "/lti/launch");

  RegisteredTool tool;
  tool.client_id = key["client_id"];
  tool.deployment_id = key["deployment_id"];
  auto reg = env.Cli({"registration", "add", "--tenant", "school-a", "--issuer", key["issuer"], "--client-id",
                      tool.client_id, "--deployment-id", tool.deployment_id, "--auth-url", key["auth_url"],
                      "--token-url", key["token_url"], "--jwks-url", key["jwks_url"], "--family", "canvas",
                      "--dev-mode", "true", "--json"});
  ASSERT_EQ(reg.exit_code, 0) << reg.err;
  tool.registration_id = nlohmann::json::parse(reg.out)["id"];

  auto outcome = env.Launch(env.LaunchUrl(tool, "learner2", "rl-quiz-1"));
  ASSERT_TRUE(outcome.reached_tool_launch()) << outcome.stage << "\n" << outcome.body;
  EXPECT_EQ(outcome.status, 200) << ReasonIn(outcome.body);
  EXPECT_NE(outcome.body.find("Launch received"), std::string::npos);
}

TEST_F(CanvasConfigE2eTest, CanvasRefusesAKeyWithoutRedirectUrisOrWithABrokenConfiguration) {
  auto no_redirects = PostSim("/sim/api/tools/canvas", {{"config_url", env.gb_url + "/lti/canvas.json"}});
  EXPECT_EQ(no_redirects.status, 400);
  EXPECT_EQ(nlohmann::json::parse(no_redirects.body)["error"], "sim.bad_developer_key");

  auto config = nlohmann::json::parse(env.Get(env.gb_url + "/lti/canvas.json").body);
  config.erase("public_jwk_url");
  auto no_key = PostSim("/sim/api/tools/canvas", {{"config", config}, {"redirect_uris", {env.gb_url + "/lti/launch"}}});
  EXPECT_EQ(no_key.status, 400);
  EXPECT_NE(no_key.body.find("public_jwk_url or public_jwk is required"), std::string::npos);

  auto not_found = PostSim("/sim/api/tools/canvas", {{"config_url", env.gb_url + "/lti/nope.json"},
                                                     {"redirect_uris", {env.gb_url + "/lti/launch"}}});
  EXPECT_EQ(not_found.status, 400);
  EXPECT_NE(not_found.body.find("HTTP 404"), std::string::npos);
}

}  // namespace
}  // namespace gb::testing
