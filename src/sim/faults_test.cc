// Fault injection: each fault observable on the token endpoint and AGS, switchable at run time
// through /sim/api/faults, never on launches/auth/JWKS; Canvas's leaky bucket throttles and
// recovers.
#include "sim/faults.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "sim/ags.h"
#include "sim/lti_names.h"
#include "sim/test_util.h"

namespace gb::sim {
namespace {

using nlohmann::json;
using testing::ServiceWorld;

json Body(const http::Response& r) { return json::parse(r.body, nullptr, false); }

http::Response SetFaults(ServiceWorld& w, const json& patch) {
  return w.Post("/sim/api/faults", patch.dump(), "application/json");
}

json Faults(ServiceWorld& w) { return Body(w.Call("GET", std::string(testing::kSimOrigin) + "/sim/api/faults", "")); }

json Counters(ServiceWorld& w) { return Faults(w)["counters"]; }

TEST(FaultApi, DefaultsChangesAndResets) {
  ServiceWorld w;
  json f = Faults(w);
  EXPECT_EQ(f["config"]["latency_ms"], 0);
  EXPECT_EQ(f["config"]["token_lifetime_seconds"], nullptr);
  EXPECT_EQ(f["config"]["rate_limit"]["enabled"], false);
  EXPECT_EQ(f["config"]["rate_limit"]["capacity"], 700);
  EXPECT_EQ(f["counters"]["requests"], 0);

  auto r = SetFaults(w, {{"error_429_probability", 0.25}, {"retry_after_seconds", 3}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["config"]["error_429_probability"], 0.25);
  // A patch merges: other settings stay.
  ASSERT_EQ(SetFaults(w, {{"latency_ms", 5}}).status, 200);
  EXPECT_EQ(Faults(w)["config"]["retry_after_seconds"], 3);
  ASSERT_EQ(SetFaults(w, {{"reset", true}}).status, 200);
  EXPECT_EQ(Faults(w)["config"], FaultConfigToJson(FaultConfig{}));
}

TEST(FaultApi, RejectsInvalidConfigurations) {
  ServiceWorld w;
  EXPECT_EQ(SetFaults(w, {{"error_500_probabilty", 0.5}}).status, 400) << "typo";
  EXPECT_EQ(SetFaults(w, {{"error_500_probability", 1.5}}).status, 400);
  EXPECT_EQ(SetFaults(w, {{"latency_ms", -1}}).status, 400);
  EXPECT_EQ(SetFaults(w, {{"latency_ms", 2.5}}).status, 400);
  EXPECT_EQ(SetFaults(w, {{"rate_limit", {{"cost_min", 10}, {"cost_max", 5}}}}).status, 400);
  EXPECT_EQ(SetFaults(w, {{"rate_limit", {{"burst", 5}}}}).status, 400);
  EXPECT_EQ(SetFaults(w, {{"reset", "yes"}}).status, 400);
  EXPECT_EQ(w.Post("/sim/api/faults", "{}", "text/plain").status, 415);
  EXPECT_EQ(w.Post("/sim/api/faults", "[1]", "application/json").status, 400);
  EXPECT_EQ(Faults(w)["config"], FaultConfigToJson(FaultConfig{})) << "nothing applied";
}

TEST(Faults, LatencyDelaysServiceCalls) {
  ServiceWorld w;
  std::string token = w.token();
  ASSERT_EQ(SetFaults(w, {{"latency_ms", 40}}).status, 200);
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(w.Call("GET", w.LineItemsUrl(), token).status, 200);
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(40));
  json c = Counters(w);
  EXPECT_EQ(c["delayed"], 1);
  EXPECT_EQ(c["delay_ms_total"], 40);
}

TEST(Faults, JitterStaysWithinItsRange) {
  FakeClock clock;
  std::vector<int64_t> slept;
  double u = 0;
  FaultInjector f(clock, [&] { return u; }, [&](std::chrono::milliseconds d) { slept.push_back(d.count()); });
  ASSERT_TRUE(f.Apply({{"latency_ms", 100}, {"latency_jitter_ms", 50}}).ok());
  FaultInjector::Ticket t;
  for (double v : {0.0, 0.5, 0.999999}) {
    u = v;
    EXPECT_FALSE(f.Admit("c", MeteredKind::kService, t));
  }
  EXPECT_EQ(slept, (std::vector<int64_t>{100, 125, 150}));
}

TEST(Faults, Injected429CarriesRetryAfter) {
  ServiceWorld w;
  std::string token = w.token();
  ASSERT_EQ(SetFaults(w, {{"error_429_probability", 1}, {"retry_after_seconds", 7}}).status, 200);
  auto r = w.Call("GET", w.LineItemsUrl(), token);
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.headers.Get("Retry-After").value_or(""), "7");
  auto t = w.TokenRequest(w.Assertion(), lti::kScopeScore);
  EXPECT_EQ(t.status, 429) << "the token endpoint too";
  EXPECT_EQ(Counters(w)["http_429"], 2);
}

TEST(Faults, Injected500) {
  ServiceWorld w;
  std::string token = w.token();
  ASSERT_EQ(SetFaults(w, {{"error_500_probability", 1}}).status, 200);
  EXPECT_EQ(w.Call("GET", w.LineItemsUrl(), token).status, 500);
  EXPECT_EQ(Counters(w)["http_500"], 1);
  ASSERT_EQ(SetFaults(w, {{"error_500_probability", 0}}).status, 200);
  EXPECT_EQ(w.Call("GET", w.LineItemsUrl(), token).status, 200) << "switched off at run time";
}

TEST(Faults, DroppedConnectionIsATransportError) {
  ServiceWorld w;
  std::string token = w.token();
  ASSERT_EQ(SetFaults(w, {{"drop_probability", 1}}).status, 200);
  auto r = w.RawCall("GET", w.LineItemsUrl(), token);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().reason(), "http.transport");
  EXPECT_EQ(Counters(w)["dropped"], 1);
  // What a server that cannot drop connections sends instead: a marked 502.
  http::Response marker = DropConnectionResponse();
  EXPECT_EQ(marker.status, 502);
  EXPECT_TRUE(IsDropConnection(marker));
}

TEST(Faults, ProbabilitiesApplyToAShareOfRequests) {
  ServiceWorld w;
  std::string token = w.token();
  ASSERT_EQ(SetFaults(w, {{"error_500_probability", 0.3}}).status, 200);
  int errors = 0;
  for (int i = 0; i < 400; ++i) errors += w.Call("GET", w.LineItemsUrl(), token).status == 500;
  EXPECT_GT(errors, 60);
  EXPECT_LT(errors, 180);
}

TEST(Faults, TokensCanExpireEarlierThanExpiresInSays) {
  ServiceWorld w;
  ASSERT_EQ(SetFaults(w, {{"token_lifetime_seconds", 5}}).status, 200);
  auto tr = w.TokenRequest(w.Assertion(), lti::kScopeLineItem);
  ASSERT_EQ(tr.status, 200);
  EXPECT_EQ(Body(tr)["expires_in"], 3600) << "the token response does not tell";
  std::string token = Body(tr)["access_token"];
  EXPECT_EQ(w.Call("GET", w.LineItemsUrl(), token).status, 200);
  w.clock.Advance(std::chrono::seconds(5));
  auto r = w.Call("GET", w.LineItemsUrl(), token);
  EXPECT_EQ(r.status, 401);
  EXPECT_NE(r.body.find("expired"), std::string::npos);
  EXPECT_EQ(Counters(w)["early_token_expiry"], 1);
  // A fresh token works until its own early expiry.
  EXPECT_EQ(w.Call("GET", w.LineItemsUrl(), w.Token()).status, 200);
}

TEST(Faults, FaultsNeverTouchLaunchAuthOrJwks) {
  ServiceWorld w;
  ASSERT_EQ(SetFaults(w, {{"error_500_probability", 1}, {"drop_probability", 1}, {"latency_ms", 1000}}).status, 200);
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(w.Call("GET", std::string(testing::kSimOrigin) + "/sim/jwks", "").status, 200);
  EXPECT_EQ(w.Call("GET", w.platform().LaunchUrl(w.world.Spec()), "").status, 200);
  EXPECT_EQ(w.Call("GET", std::string(testing::kSimOrigin) + "/sim/api/gradebook", "").status, 200);
  EXPECT_EQ(w.Call("GET", std::string(testing::kSimOrigin) + "/sim/auth?client_id=x", "").status, 400);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(500));
  EXPECT_EQ(Counters(w)["requests"], 0);
}

TEST(Faults, LeakyBucketThrottlesPerClientAndRecovers) {
  ServiceWorld w(Profile::kCanvas);
  ASSERT_EQ(SetFaults(w, {{"rate_limit",
                           {{"enabled", true},
                            {"capacity", 700},
                            {"leak_per_second", 10},
                            {"cost_min", 100},
                            {"cost_max", 100},
                            {"token_surcharge", 200}}}})
                .status,
            200);
  auto tr = w.TokenRequest(w.Assertion(), lti::kScopeLineItem);
  ASSERT_EQ(tr.status, 200);
  EXPECT_EQ(tr.headers.Get("X-Request-Cost").value_or(""), "300.00") << "100 + the 200 token surcharge";
  EXPECT_EQ(tr.headers.Get("X-Rate-Limit-Remaining").value_or(""), "400.0");
  std::string token = Body(tr)["access_token"];
  for (const char* remaining : {"300.0", "200.0", "100.0", "0.0"}) {
    auto r = w.Call("GET", w.LineItemsUrl(), token);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.headers.Get("X-Request-Cost").value_or(""), "100.00");
    EXPECT_EQ(r.headers.Get("X-Rate-Limit-Remaining").value_or(""), remaining);
  }
  // Full: Canvas's 403, text/plain, no Retry-After, no X-Request-Cost.
  auto throttled = w.Call("GET", w.LineItemsUrl(), token);
  EXPECT_EQ(throttled.status, 403);
  EXPECT_EQ(throttled.body, "403 Forbidden (Rate Limit Exceeded)\n");
  EXPECT_EQ(throttled.headers.Get("Content-Type").value_or(""), "text/plain; charset=utf-8");
  EXPECT_EQ(throttled.headers.Get("X-Rate-Limit-Remaining").value_or(""), "0.0");
  EXPECT_FALSE(throttled.headers.Has("Retry-After"));
  EXPECT_FALSE(throttled.headers.Has("X-Request-Cost"));
  // Throttled requests cost nothing; the bucket leaks 10/s: 5 s later it is at 650, below the
  // mark, so one more request gets in (and overfills it, as Canvas's up-front cost does).
  w.clock.Advance(std::chrono::seconds(5));
  auto again = w.Call("GET", w.LineItemsUrl(), token);
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(again.headers.Get("X-Rate-Limit-Remaining").value_or(""), "0.0");
  EXPECT_EQ(w.Call("GET", w.LineItemsUrl(), token).status, 403);
  json f = Faults(w);
  EXPECT_EQ(f["counters"]["rate_limited"], 2);
  EXPECT_DOUBLE_EQ(f["buckets"][w.client_id()]["level"].get<double>(), 750);
  EXPECT_DOUBLE_EQ(f["buckets"][w.client_id()]["remaining"].get<double>(), 0);
}

TEST(Faults, LeakyBucketRecoversAsItLeaks) {
  ServiceWorld w(Profile::kCanvas);
  std::string token = w.token();  // before the limit is on
  ASSERT_EQ(SetFaults(w, {{"rate_limit",
                           {{"enabled", true}, {"capacity", 300}, {"leak_per_second", 50}, {"cost_min", 100},
                            {"cost_max", 100}, {"token_surcharge", 0}}}})
                .status,
            200);
  for (int i = 0; i < 3; ++i) ASSERT_EQ(w.Call("GET", w.LineItemsUrl(), token).status, 200);
  EXPECT_EQ(w.Call("GET", w.LineItemsUrl(), token).status, 403);
  w.clock.Advance(std::chrono::seconds(1));  // 300 - 50 = 250 < 300: admitted
  auto r = w.Call("GET", w.LineItemsUrl(), token);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers.Get("X-Rate-Limit-Remaining").value_or(""), "0.0");
  EXPECT_EQ(w.Call("GET", w.LineItemsUrl(), token).status, 403);
  w.clock.Advance(std::chrono::seconds(10));  // empty again
  for (int i = 0; i < 3; ++i) EXPECT_EQ(w.Call("GET", w.LineItemsUrl(), token).status, 200);

  // Another developer key has its own bucket.
  auto other = w.platform().RegisterTool(w.world.tool.Spec(Profile::kCanvas));
  ASSERT_TRUE(other.ok());
  auto tr = w.TokenRequest(w.Sign(w.Claims({}, other->client_id)), lti::kScopeLineItem);
  ASSERT_EQ(tr.status, 200) << tr.body;
  auto r2 = w.Call("GET", w.platform().LineItemsUrl(*other), Body(tr)["access_token"]);
  EXPECT_EQ(r2.status, 200) << r2.body << Faults(w).dump();
}

}  // namespace
}  // namespace gb::sim
