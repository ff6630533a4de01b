// LTI 1.1 end to end: the simulator as a 1.1 consumer launches `gradebridge serve` with an OAuth
// 1.0a-signed form, the launch is handed off like a 1.3 one, a score submitted for it is delivered
// through the durable queue as a Basic Outcomes replaceResult (body hash, signed header) into the
// simulator's gradebook as a 0.0-1.0 fraction; bad signatures, stale timestamps and replayed
// nonces are each refused with their own reason; and a 1.3 launch of a platform upgraded from 1.1
// keeps the user's 1.1 id through the verified lti1p1 migration claim.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <regex>
#include <thread>

#include "base/strings.h"
#include "e2e_fixture.h"
#include "jose/jose.h"

namespace gb::testing {
namespace {

using nlohmann::json;

std::string OAuthReason(const std::string& html) {
  std::smatch m;
  static const std::regex re("(oauth|lti11)\\.[a-z_]+");
  return std::regex_search(html, m, re) ? m.str() : "";
}

std::string LegacyId(const std::string& user) { return HexEncode(jose::Sha1(user)); }

struct Lti11Setup {
  std::string consumer_key, registration_id;
};

class Lti11E2eTest : public ::testing::Test {
 protected:
  E2eEnvironment& env = E2eEnvironment::Get();

  http::Response Send(const std::string& method, const std::string& url, const std::string& body,
                      const std::string& content_type, const std::string& bearer = "") {
    http::Request req;
    req.method = method;
    req.url = url;
    req.headers.Set("Content-Type", content_type);
    if (!bearer.empty()) req.headers.Set("Authorization", "Bearer " + bearer);
    req.body = body;
    auto resp = env.client->Send(req);
    EXPECT_TRUE(resp.ok()) << resp.status().ToString();
    return resp.ok() ? *resp : http::Response{};
  }

  // Once per test binary: a 1.1 consumer key in gradebridge (its own registration, outcome host
  // 127.0.0.1, Canvas family, handing off to the tool target) and the same key in the simulator.
  const Lti11Setup& Consumer() {
    static Lti11Setup setup = [this] {
      Lti11Setup s;
      auto r = env.Cli({"lti11-key", "add", "--tenant", "school-a", "--outcome-host", "127.0.0.1", "--target-url",
                        env.tool_target, "--family", "canvas", "--json", "--dev-mode", "true"});
      EXPECT_EQ(r.exit_code, 0) << r.err;
      json j = json::parse(r.out, nullptr, false);
      if (!j.is_object()) return s;
      s.consumer_key = j["consumer_key"];
      s.registration_id = j["registration_id"];
      json tool = {{"consumer_key", s.consumer_key}, {"secret", j["secret"]},
                   {"launch_url", env.gb_url + "/lti11/launch"}, {"profile", "canvas"}};
      auto reg = Send("POST", env.sim_url + "/sim/api/lti11/consumers", tool.dump(), "application/json");
      EXPECT_EQ(reg.status, 201) << reg.body;
      return s;
    }();
    return setup;
  }

  // The simulator's signed launch (form fields) for `user`.
  FormFields LaunchFields(const std::string& user, const std::string& mutation = "") {
    std::string url = env.sim_url + "/sim/api/lti11/launch?consumer_key=" + PercentEncode(Consumer().consumer_key) +
                      "&user_id=" + user + "&resource_link_id=rl-quiz-1";
    if (!mutation.empty()) url += "&mutation=" + mutation;
    auto r = env.Get(url);
    EXPECT_EQ(r.status, 200) << r.body;
    json j = json::parse(r.body, nullptr, false);
    FormFields f;
    if (!j.is_object()) return f;
    EXPECT_EQ(j["action"], env.gb_url + "/lti11/launch");
    for (const auto& kv : j["fields"]) f.emplace_back(kv[0].get<std::string>(), kv[1].get<std::string>());
    return f;
  }

  http::Response PostLaunch(const FormFields& fields) {
    return Send("POST", env.gb_url + "/lti11/launch", EncodeForm(fields), "application/x-www-form-urlencoded");
  }

  json Redeem(const http::Response& launch) {
    EXPECT_EQ(launch.status, 303) << launch.body;
    std::string location = launch.headers.Get("Location").value_or("");
    std::string token = location.substr(location.find("launch_token=") + 13);
    auto redeemed = env.Get(env.gb_url + "/api/v1/launches/" + token, env.api_key);
    EXPECT_EQ(redeemed.status, 200) << redeemed.body;
    return json::parse(redeemed.body, nullptr, false);
  }

  json WaitForOutcome(const std::string& id) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    json s;
    while (std::chrono::steady_clock::now() < deadline) {
      s = json::parse(env.Get(env.gb_url + "/api/v1/scores/" + id, env.api_key).body, nullptr, false);
      std::string state = s.value("status", "");
      if (state != "queued" && state != "delivering") return s;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return s;
  }

  json Cell(const std::string& user) {
    json book = json::parse(env.Get(env.sim_url + "/sim/api/gradebook").body, nullptr, false);
    for (const auto& item : book["line_items"]) {
      if (item.value("resourceLinkId", "") == "rl-quiz-1") return item["results"].value(user, json());
    }
    return json();
  }
};

TEST_F(Lti11E2eTest, LaunchHandOffScoreAndBasicOutcomesDelivery) {
  auto launch = Redeem(PostLaunch(LaunchFields("learner7")));
  ASSERT_TRUE(launch.is_object());
  EXPECT_EQ(launch["lti_version"], "1.1");
  EXPECT_EQ(launch["message_type"], "basic-lti-launch-request");
  EXPECT_EQ(launch["user"]["id"], LegacyId("learner7"));
  EXPECT_EQ(launch["lti11_user_id"], LegacyId("learner7"));
  EXPECT_EQ(launch["resource_link"]["id"], "rl-quiz-1");
  EXPECT_TRUE(launch["is_learner"].get<bool>());
  EXPECT_EQ(launch["custom"]["sim"], "1");
  EXPECT_EQ(launch["basic_outcome"]["service_url"], env.sim_url + "/sim/lti11/outcomes");

  json score = {{"launch_id", launch["id"]}, {"score_given", 7}, {"score_maximum", 8}};
  auto accepted = Send("POST", env.gb_url + "/api/v1/scores", score.dump(), "application/json", env.api_key);
  ASSERT_EQ(accepted.status, 202) << accepted.body;
  std::string id = json::parse(accepted.body)["id"];
  json done = WaitForOutcome(id);
  EXPECT_EQ(done["status"], "delivered") << done.dump();
  EXPECT_EQ(done["protocol"], "lti11");
  json cell = Cell("learner7");
  ASSERT_TRUE(cell.is_object()) << cell.dump();
  // 7/8 = 0.875 of the 10-point column, written by replaceResult.
  EXPECT_DOUBLE_EQ(cell.value("resultScore", -1.0), 8.75) << cell.dump();
  EXPECT_EQ(cell["gradingProgress"], "FullyGraded");

  // 1.1 carries only a score, and only the launching user's cell.
  json progress_only = {{"launch_id", launch["id"]}, {"activity_progress", "Started"},
                        {"grading_progress", "Pending"}};
  auto refused = Send("POST", env.gb_url + "/api/v1/scores", progress_only.dump(), "application/json", env.api_key);
  EXPECT_EQ(refused.status, 400) << refused.body;
  EXPECT_NE(refused.body.find("score.lti11_needs_score"), std::string::npos);
  json other = {{"launch_id", launch["id"]}, {"user_id", "someone-else"}, {"score_given", 1}, {"score_maximum", 1}};
  refused = Send("POST", env.gb_url + "/api/v1/scores", other.dump(), "application/json", env.api_key);
  EXPECT_NE(refused.body.find("score.lti11_other_user"), std::string::npos) << refused.body;
}

TEST_F(Lti11E2eTest, UntrustedLaunchesAreRefusedEachForItsReason) {
  auto bad = PostLaunch(LaunchFields("learner8", "bad_signature"));
  EXPECT_EQ(bad.status, 401);
  EXPECT_EQ(OAuthReason(bad.body), "oauth.bad_signature");
  auto stale = PostLaunch(LaunchFields("learner8", "stale_timestamp"));
  EXPECT_EQ(stale.status, 401);
  EXPECT_EQ(OAuthReason(stale.body), "oauth.stale_timestamp");
  auto version = PostLaunch(LaunchFields("learner8", "wrong_version"));
  EXPECT_EQ(version.status, 400);
  EXPECT_EQ(OAuthReason(version.body), "lti11.bad_version");
  auto no_link = PostLaunch(LaunchFields("learner8", "no_resource_link"));
  EXPECT_EQ(OAuthReason(no_link.body), "lti11.missing_resource_link");

  FormFields fields = LaunchFields("learner8");
  EXPECT_EQ(PostLaunch(fields).status, 303);
  auto replay = PostLaunch(fields);
  EXPECT_EQ(replay.status, 401);
  EXPECT_EQ(OAuthReason(replay.body), "oauth.nonce_replayed");

  // A tampered parameter breaks the signature.
  for (auto& [k, v] : fields) {
    if (k == "oauth_nonce") v += "x";
    if (k == "roles") v = "Instructor";
  }
  EXPECT_EQ(OAuthReason(PostLaunch(fields).body), "oauth.bad_signature");
}

TEST_F(Lti11E2eTest, UpgradedPlatformKeepsTheLti11UserThroughTheMigrationClaim) {
  const std::string key = "legacy-consumer", secret = "legacy-secret-0123456789";
  json spec = {{"name", "upgraded from 1.1"},
               {"login_url", env.gb_url + "/lti/login"},
               {"redirect_uris", {env.gb_url + "/lti/launch"}},
               {"target_link_uri", env.tool_target},
               {"jwks_url", env.gb_url + "/.well-known/jwks.json"},
               {"profile", "generic"},
               {"lti11_consumer_key", key},
               {"lti11_secret", secret}};
  auto resp = Send("POST", env.sim_url + "/sim/api/tools", spec.dump(), "application/json");
  ASSERT_EQ(resp.status, 201) << resp.body;
  json j = json::parse(resp.body);
  auto reg = env.Cli({"registration", "add", "--tenant", "school-a", "--issuer", j["issuer"], "--client-id",
                      j["client_id"], "--deployment-id", j["deployment_id"], "--auth-url", j["auth_url"],
                      "--token-url", j["token_url"], "--jwks-url", j["jwks_url"], "--target-url", env.tool_target,
                      "--json", "--dev-mode", "true"});
  ASSERT_EQ(reg.exit_code, 0) << reg.err;
  RegisteredTool tool{j["client_id"], j["deployment_id"], json::parse(reg.out)["id"]};

  // Before the 1.1 key is known, the claim cannot be verified: a plain 1.3 launch.
  auto plain = env.Launch(env.LaunchUrl(tool, "learner9", "rl-quiz-1"));
  ASSERT_EQ(plain.status, 303) << plain.body;
  std::string token = plain.location.substr(plain.location.find("launch_token=") + 13);
  json before = json::parse(env.Get(env.gb_url + "/api/v1/launches/" + token, env.api_key).body, nullptr, false);
  EXPECT_FALSE(before.contains("lti11_user_id")) << before.dump();

  const std::string secret_file = env.data_key + ".lti11-secret";
  std::ofstream(secret_file) << secret << "\n";
  auto add = env.Cli({"lti11-key", "add", "--tenant", "school-a", "--registration", tool.registration_id,
                      "--consumer-key", key, "--secret-file", secret_file, "--json"});
  ASSERT_EQ(add.exit_code, 0) << add.err;
  EXPECT_EQ(json::parse(add.out)["secret"], "");  // an imported secret is not echoed

  auto migrated = env.Launch(env.LaunchUrl(tool, "learner9", "rl-quiz-1"));
  ASSERT_EQ(migrated.status, 303) << migrated.body;
  token = migrated.location.substr(migrated.location.find("launch_token=") + 13);
  json after = json::parse(env.Get(env.gb_url + "/api/v1/launches/" + token, env.api_key).body, nullptr, false);
  EXPECT_EQ(after["user"]["id"], "learner9");
  EXPECT_EQ(after.value("lti11_user_id", ""), LegacyId("learner9")) << after.dump();
  // The same person launching through the old 1.1 link is the same 1.1 user.
  EXPECT_EQ(Redeem(PostLaunch(LaunchFields("learner9")))["lti11_user_id"], after["lti11_user_id"]);
}

}  // namespace
}  // namespace gb::testing
