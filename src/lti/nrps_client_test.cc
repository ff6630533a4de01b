#include "lti/nrps_client.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "base/strings.h"
#include "lti/claims.h"
#include "lti/test_fakes.h"
#include "lti/test_http.h"

namespace gb::lti {
namespace {

using nlohmann::json;

constexpr char kRoster[] = "https://school.instructure.com/api/lti/courses/1/names_and_roles";
constexpr char kLearner[] = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner";
constexpr char kInstructor[] = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor";

std::string TokenJson(const std::string& token, const std::string& scope) {
  return json{{"access_token", token}, {"token_type", "Bearer"}, {"expires_in", 3600}, {"scope", scope}}.dump();
}

std::string Container(json members, std::string context = "1") {
  return json{{"id", kRoster}, {"context", {{"id", context}, {"title", "CS101"}}}, {"members", members}}.dump();
}

class NrpsClientTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    key_store_ = new testing::MemoryKeys;
    key_clock_ = new FakeClock;
    ring_ = new KeyRing(*key_store_, std::string(32, 'k'), *key_clock_, SecureRandom::Instance());
    ASSERT_TRUE(ring_->Load().ok());
  }
  static void TearDownTestSuite() {
    delete ring_;
    delete key_clock_;
    delete key_store_;
  }
  static Registration Canvas() {
    Registration r;
    r.id = RegistrationId("reg-canvas");
    r.issuer = "https://canvas.instructure.com";
    r.client_id = "10000000000001";
    r.deployment_ids = {"dep-1"};
    r.auth_url = "https://sso.canvaslms.com/api/lti/authorize_redirect";
    r.token_url = "https://school.instructure.com/login/oauth2/token";
    r.jwks_url = "https://sso.canvaslms.com/api/lti/security/jwks";
    r.family = PlatformFamily::kCanvas;
    return r;
  }
  void PushToken(const std::string& token) { http_.Push(200, TokenJson(token, kScopeNrps)); }
  std::vector<http::Request> ServiceRequests() {
    std::vector<http::Request> out;
    for (auto& r : http_.requests()) {
      if (r.url.find("/token") == std::string::npos) out.push_back(r);
    }
    return out;
  }

  static testing::MemoryKeys* key_store_;
  static FakeClock* key_clock_;
  static KeyRing* ring_;
  FakeClock clock_;
  testing::ScriptedHttpClient http_;
  ServiceTokenClient tokens_{http_, *ring_, clock_, SecureRandom::Instance()};
  NrpsClient nrps_{http_, tokens_};
};
testing::MemoryKeys* NrpsClientTest::key_store_ = nullptr;
FakeClock* NrpsClientTest::key_clock_ = nullptr;
KeyRing* NrpsClientTest::ring_ = nullptr;

TEST_F(NrpsClientTest, SendsTheExactRequestAndParsesMembers) {
  PushToken("t1");
  http_.Push(200, Container(json::array({
                      {{"user_id", "u1"}, {"roles", {"Learner"}}, {"name", "Grace Hopper"}, {"email", "g@x.edu"}},
                      {{"user_id", "u2"}, {"status", "Inactive"}, {"roles", {kInstructor, "urn:lti:role:ims/lis/Instructor"}}},
                      {{"user_id", "u3"}, {"roles", json::array()}, {"lti11_legacy_user_id", "legacy-3"},
                       {"given_name", nullptr}},
                  })));
  auto reply = nrps_.GetMembers(Canvas(), kRoster);
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  ASSERT_TRUE(reply->ok()) << reply->diagnosis;
  EXPECT_EQ(reply->context_id, "1");
  ASSERT_EQ(reply->members->size(), 3u);
  const auto& m = *reply->members;
  EXPECT_EQ(m[0].status, MemberStatus::kActive);  // absent = Active
  EXPECT_EQ(m[0].roles, std::vector<std::string>{kLearner});
  EXPECT_EQ(m[0].name, "Grace Hopper");
  EXPECT_EQ(m[0].email, "g@x.edu");
  EXPECT_FALSE(m[0].given_name.has_value());
  EXPECT_EQ(m[1].status, MemberStatus::kInactive);
  EXPECT_EQ(m[1].roles, std::vector<std::string>{kInstructor});  // the URN is the same role
  EXPECT_TRUE(m[2].roles.empty());
  EXPECT_EQ(m[2].lti11_legacy_user_id, "legacy-3");
  EXPECT_FALSE(m[2].given_name.has_value());  // null = not sent
  EXPECT_FALSE(m[2].name.has_value());

  auto token_request = http_.requests().front();
  EXPECT_EQ(FormValue(ParseForm(token_request.body).value_or(FormFields{}), "scope").value_or(""), kScopeNrps);
  auto service = ServiceRequests();
  ASSERT_EQ(service.size(), 1u);
  EXPECT_EQ(service[0].method, "GET");
  EXPECT_EQ(service[0].url, kRoster);
  EXPECT_EQ(service[0].headers.Get("Accept"), "application/vnd.ims.lti-nrps.v2.membershipcontainer+json");
  EXPECT_EQ(service[0].headers.Get("Authorization"), "Bearer t1");
}

TEST_F(NrpsClientTest, FiltersGoIntoTheQueryAndPagesAreFollowedWithTheDifferencesLink) {
  const std::string p2 = std::string(kRoster) + "?page=2&per_page=1";
  const std::string diff = "https://school.instructure.com/api/lti/courses/1/names_and_roles?since=abc%3D&x=1";
  PushToken("t1");
  http_.Push(200, Container(json::array({{{"user_id", "u1"}, {"roles", {kLearner}}}})),
             {{"Link", "<" + p2 + ">; rel=\"next\""}});
  http_.Push(200, Container(json::array({{{"user_id", "u2"}, {"roles", {kLearner}}}})),
             {{"Link", "<" + diff + ">; rel=\"differences\""}});
  std::vector<std::pair<int, size_t>> progress;
  MembershipFilter filter;
  filter.role = kLearner;
  filter.rlid = "rl 1";
  filter.limit = 1;
  auto reply = nrps_.GetMembers(Canvas(), kRoster, filter, [&](int pages, size_t members) {
    progress.emplace_back(pages, members);
  });
  ASSERT_TRUE(reply.ok());
  ASSERT_TRUE(reply->ok()) << reply->diagnosis;
  EXPECT_EQ(reply->members->size(), 2u);
  EXPECT_EQ(reply->pages, 2);
  EXPECT_EQ(reply->differences_url, diff);  // verbatim
  EXPECT_EQ(progress, (std::vector<std::pair<int, size_t>>{{1, 1}, {2, 2}}));
  auto service = ServiceRequests();
  ASSERT_EQ(service.size(), 2u);
  EXPECT_EQ(service[0].url, std::string(kRoster) +
                                "?role=http%3A%2F%2Fpurl.imsglobal.org%2Fvocab%2Flis%2Fv2%2Fmembership%23Learner"
                                "&rlid=rl%201&limit=1");
  EXPECT_EQ(service[1].url, p2);

  // The stored link is fetched exactly as given (with the cached token).
  http_.Push(200, Container(json::array({{{"user_id", "u2"}, {"status", "Deleted"}, {"roles", json::array()}}})));
  auto changes = nrps_.GetDifferences(Canvas(), diff);
  ASSERT_TRUE(changes.ok());
  ASSERT_TRUE(changes->ok()) << changes->diagnosis;
  EXPECT_EQ((*changes->members)[0].status, MemberStatus::kDeleted);
  EXPECT_EQ(ServiceRequests().back().url, diff);
}

TEST_F(NrpsClientTest, MoodleCurlyQuoteLinksAreFollowed) {
  const std::string p2 = std::string(kRoster) + "?limit=1&from=1";
  PushToken("t1");
  http_.Push(200, Container(json::array({{{"user_id", "2"}, {"roles", {"Instructor"}}}})),
             {{"Link", "<" + p2 + ">; rel=\u201cnext\u201d"}});
  http_.Push(200, Container(json::array({{{"user_id", "3"}, {"roles", {"Learner"}}}})));
  auto reply = nrps_.GetMembers(Canvas(), kRoster);
  ASSERT_TRUE(reply.ok());
  ASSERT_TRUE(reply->ok()) << reply->diagnosis;
  EXPECT_EQ(reply->members->size(), 2u);
  EXPECT_EQ((*reply->members)[1].roles, std::vector<std::string>{kLearner});
}

TEST_F(NrpsClientTest, RefusesForeignHostsAndSendsNoToken) {
  EXPECT_EQ(nrps_.GetMembers(Canvas(), "https://evil.example.com/roster").status().reason(), "service.host_not_allowed");
  EXPECT_EQ(nrps_.GetDifferences(Canvas(), "https://evil.example.com/diff").status().reason(),
            "service.host_not_allowed");
  EXPECT_EQ(nrps_.GetMembers(Canvas(), "not a url").status().reason(), "nrps.invalid_url");
  MembershipFilter bad;
  bad.limit = 0;
  EXPECT_EQ(nrps_.GetMembers(Canvas(), kRoster, bad).status().reason(), "nrps.invalid_filter");
  EXPECT_EQ(http_.count(), 0u);

  PushToken("t1");
  http_.Push(200, Container(json::array()), {{"Link", "<https://evil.example.com/steal?page=2>; rel=\"next\""}});
  auto reply = nrps_.GetMembers(Canvas(), kRoster);
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply->reason, "service.host_not_allowed");
  EXPECT_FALSE(reply->members.has_value());
  for (const auto& r : http_.requests()) EXPECT_EQ(r.url.find("evil"), std::string::npos);
}

TEST_F(NrpsClientTest, PagingLoopsAndUnboundedPagingFail) {
  PushToken("t1");
  http_.Push(200, Container(json::array()), {{"Link", std::string("<") + kRoster + ">; rel=\"next\""}});
  auto loop = nrps_.GetMembers(Canvas(), kRoster);
  ASSERT_TRUE(loop.ok());
  EXPECT_EQ(loop->reason, "nrps.paging_loop");
  EXPECT_FALSE(loop->members.has_value());

  NrpsClientOptions options;
  options.max_pages = 2;
  NrpsClient bounded(http_, tokens_, options);
  http_.SetHandler([](const http::Request& r) -> Result<http::Response> {
    http::Response resp = http::Response::Json(200, Container(json::array()));
    resp.headers.Set("Link", "<" + r.url + "x>; rel=\"next\"");
    return resp;
  });
  auto many = bounded.GetMembers(Canvas(), kRoster);
  ASSERT_TRUE(many.ok());
  EXPECT_EQ(many->reason, "nrps.too_many_pages");
}

TEST_F(NrpsClientTest, UntrustedBodiesAreRejectedWithTheFieldNamed) {
  struct Case {
    std::string body;
    std::string says;
  } cases[] = {
      {"not json", "not JSON"},
      {"[]", "JSON object"},
      {R"({"members":{}})", "members must be an array"},
      {R"({"context":{"id":"1"}})", "members must be an array"},
      {R"({"members":[42]})", "members[0] must be a JSON object"},
      {R"({"members":[{"roles":[]}]})", "members[0].user_id is required"},
      {R"({"members":[{"user_id":"","roles":[]}]})", "must not be empty"},
      {R"({"members":[{"user_id":{"x":1},"roles":[]}]})", "user_id must be a string"},
      {R"({"members":[{"user_id":"a"}]})", "roles must be an array"},
      {R"({"members":[{"user_id":"a","roles":"Learner"}]})", "roles must be an array"},
      {R"({"members":[{"user_id":"a","roles":[1]}]})", "roles must hold strings"},
      {R"({"members":[{"user_id":"a","roles":[],"status":"Gone"}]})", "is not Active, Inactive or Deleted"},
      {R"({"members":[{"user_id":"a","roles":[],"status":1}]})", "status must be a string"},
      {R"({"members":[{"user_id":"a","roles":[],"email":["x"]}]})", "members[0].email must be a string"},
      {R"({"members":[{"user_id":"a","roles":[]},{"user_id":"b","roles":[],"name":7}]})", "members[1].name"},
      {R"({"context":"1","members":[]})", "context must be an object"},
      {std::string("{\"members\":[]}\0", 15), "NUL"},
  };
  for (const auto& c : cases) {
    auto parsed = ParseMembershipContainer(c.body);
    ASSERT_FALSE(parsed.ok()) << c.body;
    EXPECT_EQ(parsed.status().reason(), "nrps.invalid_response");
    EXPECT_NE(parsed.status().message().find(c.says), std::string::npos) << parsed.status().message();
  }
  EXPECT_FALSE(ParseMembershipContainer(R"({"members":[{"user_id":"a","roles":[]},{"user_id":"b","roles":[]}]})", 1).ok());
  EXPECT_EQ(ParseMembershipContainer(std::string(R"({"members":[{"user_id":")") + std::string(2000, 'x') +
                                     R"(","roles":[]}]})")
                .status()
                .reason(),
            "nrps.invalid_response");
  auto numeric = ParseMembershipContainer(R"({"members":[{"user_id":42,"roles":["Learner"]}]})");
  ASSERT_TRUE(numeric.ok());
  EXPECT_EQ(numeric->members[0].user_id, "42");

  // Through the client: a permanent outcome that says which page was bad.
  PushToken("t1");
  http_.Push(200, R"({"members":[{"user_id":"a"}]})");
  auto reply = nrps_.GetMembers(Canvas(), kRoster);
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply->classification, Classification::kPermanent);
  EXPECT_EQ(reply->reason, "nrps.invalid_response");
  EXPECT_NE(reply->diagnosis.find("page 1"), std::string::npos);
}

TEST_F(NrpsClientTest, A401RefreshesTheTokenOnceAndErrorsAreClassified) {
  PushToken("old");
  http_.Push(401, R"({"errors":[{"message":"Invalid access token"}]})");
  PushToken("new");
  http_.Push(200, Container(json::array()));
  auto reply = nrps_.GetMembers(Canvas(), kRoster);
  ASSERT_TRUE(reply.ok());
  EXPECT_TRUE(reply->ok()) << reply->diagnosis;
  auto service = ServiceRequests();
  ASSERT_EQ(service.size(), 2u);
  EXPECT_EQ(service[1].headers.Get("Authorization"), "Bearer new");

  http_.Push(404, R"({"errors":[{"message":"not found"}]})");
  auto missing = nrps_.GetMembers(Canvas(), kRoster);
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->reason, "nrps.not_found");
  EXPECT_NE(missing->diagnosis.find("roster"), std::string::npos);

  http_.Push(500, "boom");
  auto down = nrps_.GetMembers(Canvas(), kRoster);
  ASSERT_TRUE(down.ok());
  EXPECT_TRUE(down->retryable());

  http_.Push(401, "Insufficient permissions");
  auto scope = nrps_.GetMembers(Canvas(), kRoster);
  ASSERT_TRUE(scope.ok());
  EXPECT_EQ(scope->reason, "nrps.missing_scope");
  EXPECT_NE(scope->diagnosis.find("Names and Role Provisioning"), std::string::npos);
}

}  // namespace
}  // namespace gb::lti
