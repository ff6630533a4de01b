// LTI 1.1 pieces of the app against a real (in-memory) store and the in-process simulator:
// consumer keys (sealed secrets, ownership, the host rule's prerequisite), the lti1p1 claim
// check, and the tool's OutcomesClient (replace/read/delete) against the simulator's independent
// outcomes service.
#include "app/lti11_keys.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "base/random.h"
#include "jose/jose.h"
#include "lti/claims.h"
#include "lti11/launch11.h"
#include "lti11/outcomes_client.h"
#include "server/router.h"
#include "sim/gradebook.h"
#include "sim/in_process_client.h"
#include "sim/lti11_consumer.h"
#include "sim/platform.h"
#include "storage/sqlite/sqlite_store.h"

namespace gb::app {
namespace {

using nlohmann::json;

class Lti11AppTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = storage::SqliteStore::Open(":memory:");
    ASSERT_TRUE(opened.ok());
    store = std::move(opened).value();
    ASSERT_TRUE(AddTenant(*store, "school-a").ok());
    ASSERT_TRUE(AddTenant(*store, "school-b").ok());
  }
  Result<NewLti11Key> Add(Lti11KeyInput in) { return AddLti11Key(*store, data_key, in, /*dev_mode=*/false); }

  std::string data_key = std::string(32, 'k');
  std::unique_ptr<storage::SqliteStore> store;
};

TEST_F(Lti11AppTest, KeysAreSealedOwnedAndNeedAnOutcomeHost) {
  Lti11KeyInput in;
  in.tenant = "school-a";
  EXPECT_EQ(Add(in).status().reason(), "lti11_key.no_outcome_host");
  in.outcome_hosts = {"school.instructure.com"};
  in.family = "canvas";
  auto k = Add(in);
  ASSERT_TRUE(k.ok()) << k.status().ToString();
  EXPECT_TRUE(k->created_registration);
  EXPECT_EQ(k->registration.issuer, "lti11:" + k->consumer.consumer_key);
  EXPECT_EQ(k->registration.service_hosts, std::vector<std::string>{"school.instructure.com"});
  // Stored sealed, never in the clear, and opened only with the data key.
  auto stored = store->FindLti11Consumer(k->consumer.consumer_key);
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->sealed_secret.find(k->secret), std::string::npos);
  EXPECT_EQ(*Lti11SecretFor(*store, data_key, k->consumer.consumer_key), k->secret);
  EXPECT_FALSE(Lti11SecretFor(*store, std::string(32, 'x'), k->consumer.consumer_key).ok());
  auto creds = Lti11CredentialsFor(*store, data_key, k->registration);
  ASSERT_TRUE(creds.ok());
  EXPECT_EQ(creds->consumer_key, k->consumer.consumer_key);

  // Attaching to another tenant's registration is refused; an imported secret is kept as given.
  Lti11KeyInput other;
  other.tenant = "school-b";
  other.registration_id = k->registration.id.str();
  EXPECT_EQ(Add(other).status().reason(), "lti11_key.bad_owner");
  Lti11KeyInput imported;
  imported.tenant = "school-a";
  imported.registration_id = k->registration.id.str();
  imported.consumer_key = "legacy";
  imported.secret = "the-old-secret";
  auto i = Add(imported);
  ASSERT_TRUE(i.ok()) << i.status().ToString();
  EXPECT_FALSE(i->created_registration);
  EXPECT_EQ(*Lti11SecretFor(*store, data_key, "legacy"), "the-old-secret");
  // The newest key of the registration signs.
  EXPECT_EQ(Lti11CredentialsFor(*store, data_key, k->registration)->consumer_key, "legacy");
  imported.consumer_key = "has space";
  EXPECT_EQ(Add(imported).status().reason(), "lti11_key.bad_key");
  imported.consumer_key = "legacy";
  EXPECT_EQ(Add(imported).status().reason(), "lti11_key.exists");
}

TEST_F(Lti11AppTest, Lti1p1ClaimIsTrustedOnlyWhenItsSignatureVerifies) {
  Lti11KeyInput in;
  in.tenant = "school-a";
  in.outcome_hosts = {"lms.example"};
  in.consumer_key = "179248902";
  in.secret = "my-lti11-secret";
  auto k = Add(in);
  ASSERT_TRUE(k.ok());
  lti::Registration reg = k->registration;
  reg.client_id = "PM48OJSfGDTAzAo";
  json claims = {{"iss", "https://lmsvendor.com"},
                 {"exp", 1551290856},
                 {"nonce", "172we8671fd8z"},
                 {lti::kClaimDeploymentId, "689302"},
                 {lti::kClaimLti1p1,
                  {{"user_id", "legacy-7"},
                   {"oauth_consumer_key", "179248902"},
                   {"oauth_consumer_key_sign", "lWd54kFo5qU7xshAna6v8BwoBm6tmUjc6GTax6+12ps="}}}};
  std::string why;
  EXPECT_EQ(VerifiedLti1p1UserId(claims, reg, *store, data_key, &why), "legacy-7");
  EXPECT_EQ(why, "");

  json tampered = claims;
  tampered["nonce"] = "another";
  EXPECT_EQ(VerifiedLti1p1UserId(tampered, reg, *store, data_key, &why), "");
  EXPECT_EQ(why, "lti11.migration_bad_sign");
  json unsigned_claim = claims;
  unsigned_claim[lti::kClaimLti1p1].erase("oauth_consumer_key_sign");
  EXPECT_EQ(VerifiedLti1p1UserId(unsigned_claim, reg, *store, data_key, &why), "");
  EXPECT_EQ(why, "lti11.migration_unsigned");
  lti::Registration foreign = reg;
  foreign.tenant_id = lti::TenantId("t-someone-else");
  EXPECT_EQ(VerifiedLti1p1UserId(claims, foreign, *store, data_key, &why), "");
  EXPECT_EQ(why, "lti11.migration_unknown_key");
  json none = claims;
  none.erase(lti::kClaimLti1p1);
  EXPECT_EQ(VerifiedLti1p1UserId(none, reg, *store, data_key, &why), "");
}

// The tool's client against the simulator's outcomes service: two independent OAuth 1.0a and POX
// implementations that must agree.
TEST(Lti11OutcomesAgainstSim, ReplaceReadAndDeleteResult) {
  FakeClock clock;
  sim::PlatformOptions o;
  o.base_url = "http://sim.test";
  o.clock = &clock;
  auto platform = sim::Platform::Create(std::move(o));
  ASSERT_TRUE(platform.ok());
  server::Router router;
  (*platform)->AddRoutes(router);
  sim::InProcessHttpClient http;
  http.Mount("http://sim.test", &router);
  ASSERT_TRUE((*platform)->lti11().Register({"ck", "cs", "http://tool.test/lti11/launch", "moodle"}).ok());
  auto launch = (*platform)->lti11().BuildLaunch({"ck", "learner2", "rl-quiz-1", ""});
  ASSERT_TRUE(launch.ok());
  std::string url = *FormValue(launch->second, "lis_outcome_service_url");
  std::string sid = *FormValue(launch->second, "lis_result_sourcedid");

  SeededRandom random(3);
  lti11::OutcomesClient client(http, clock, random);
  lti11::ConsumerCredentials creds{"ck", "cs"};
  lti11::PoxRequest replace;
  replace.sourced_id = sid;
  replace.score = 0.6;
  auto r = client.Send(url, replace, creds);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(r->pox) << r->pox_error << r->response.body;
  EXPECT_EQ(r->pox->code_major, "success") << r->pox->description;
  EXPECT_EQ(r->pox->message_ref, r->message_id);
  EXPECT_DOUBLE_EQ(*(*platform)->gradebook().FindResult("1", "learner2")->score_given, 6.0);

  lti11::PoxRequest read;
  read.operation = lti11::PoxOperation::kReadResult;
  read.sourced_id = sid;
  auto rr = client.Send(url, read, creds);
  ASSERT_TRUE(rr.ok() && rr->pox);
  EXPECT_EQ(rr->pox->score_text, "0.6");

  lti11::PoxRequest del = read;
  del.operation = lti11::PoxOperation::kDeleteResult;
  auto dr = client.Send(url, del, creds);
  ASSERT_TRUE(dr.ok() && dr->pox);
  EXPECT_EQ(dr->pox->code_major, "success");
  EXPECT_EQ(client.Send(url, read, creds)->pox->score_text, "");

  // A wrong secret is refused by the platform (Moodle: HTTP 200 + failure).
  auto bad = client.Send(url, replace, {"ck", "wrong"});
  ASSERT_TRUE(bad.ok() && bad->pox);
  EXPECT_EQ(bad->response.status, 200);
  EXPECT_EQ(bad->pox->code_major, "failure");
}

}  // namespace
}  // namespace gb::app
