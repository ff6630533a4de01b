// Crash safety (issue 3's second proof): `serve` is killed with SIGKILL at random moments while a
// tool submits two thousand scores and deliveries are in flight, and restarted each time. Every
// score that was accepted (answered 202) must end delivered — or superseded by a newer score for
// the same learner — and the gradebook must hold each learner's newest value, never rolled back.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <random>
#include <thread>

#include "base/time_util.h"
#include "e2e_fixture.h"

namespace gb::testing {
namespace {

using nlohmann::json;

struct Accepted {
  std::string id, user;
  int round = 0;
  double value = 0;
};

TEST(CrashE2eTest, KillNineDuringARunLosesNoAcceptedScore) {
  E2eEnvironment& env = E2eEnvironment::Get();
  constexpr int kRounds = 50;
  const int learners = E2eEnvironment::kLearners;
  const std::string lineitem = env.sim_url + "/sim/api/lti/courses/1001/line_items/1";
  auto post = [&](const std::string& method, const std::string& url, const std::string& body,
                  const std::string& bearer, const std::string& idempotency) {
    http::Request req;
    req.method = method;
    req.url = url;
    req.headers.Set("Content-Type", "application/json");
    if (!bearer.empty()) req.headers.Set("Authorization", "Bearer " + bearer);
    if (!idempotency.empty()) req.headers.Set("Idempotency-Key", idempotency);
    req.body = body;
    return env.client->Send(req);
  };
  // Slow the platform down so deliveries are in flight whenever the server dies.
  auto faults = post("POST", env.sim_url + "/sim/api/faults", json{{"latency_ms", 10}, {"latency_jitter_ms", 30}}.dump(), "", "");
  ASSERT_TRUE(faults.ok() && faults->status == 200);

  std::vector<Accepted> accepted;
  std::atomic<bool> submitting{true};
  std::thread submitter([&] {
    auto base = std::chrono::system_clock::now() - std::chrono::hours(2);
    std::mt19937 rng(7);
    for (int round = 0; round < kRounds; ++round) {
      for (int u = 1; u <= learners; ++u) {
        std::string user = "learner" + std::to_string(u);
        double value = static_cast<double>(rng() % 101) / 10.0;  // 0.0 … 10.0
        json body = {{"registration_id", env.canvas.registration_id}, {"lineitem_url", lineitem},
                     {"user_id", user}, {"score_given", value}, {"score_maximum", 10},
                     {"timestamp", FormatIso8601Millis(base + std::chrono::seconds(round))}};
        std::string key = "crash-" + user + "-" + std::to_string(round);
        // A tool retries until it gets its 202 (the server may be down, or die before answering).
        for (int tries = 0; tries < 400; ++tries) {
          auto r = post("POST", env.gb_url + "/api/v1/scores", body.dump(), env.api_key, key);
          if (r.ok() && r->status == 202) {
            accepted.push_back({json::parse(r->body)["id"], user, round, value});
            break;
          }
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
      }
    }
    submitting = false;
  });

  std::mt19937 rng(11);
  int kills = 0;
  while (submitting && kills < 6) {
    std::this_thread::sleep_for(std::chrono::milliseconds(400 + rng() % 800));
    if (!submitting) break;
    ASSERT_TRUE(env.CrashAndRestartServer());
    ++kills;
  }
  submitter.join();
  ASSERT_EQ(accepted.size(), static_cast<size_t>(kRounds * learners)) << "some scores were never accepted";
  // One more crash after the last submission, with the queue still draining.
  ASSERT_TRUE(env.CrashAndRestartServer());
  ++kills;

  // Wait for the queue to drain.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(180);
  int64_t pending = -1;
  while (std::chrono::steady_clock::now() < deadline) {
    auto status = env.Cli({"queue", "status", "--json"});
    ASSERT_EQ(status.exit_code, 0) << status.err;
    auto by_state = json::parse(status.out)["by_state"];
    pending = by_state.value("queued", 0) + by_state.value("delivering", 0);
    if (pending == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ASSERT_EQ(pending, 0) << "the queue did not drain";

  // Every accepted score ended delivered or superseded.
  auto list = env.Cli({"queue", "list", "--json", "--limit", "100000"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  std::map<std::string, std::string> state_of;
  std::map<std::string, json> record_of;
  for (const auto& s : json::parse(list.out)) {
    state_of[s["id"]] = s["status"];
    record_of[s["id"]] = s;
  }
  std::map<std::string, Accepted> newest;
  int delivered = 0;
  for (const auto& a : accepted) {
    const std::string& state = state_of[a.id];
    EXPECT_TRUE(state == "delivered" || state == "superseded") << record_of[a.id].dump(2);
    delivered += state == "delivered";
    if (!newest.count(a.user) || newest[a.user].round < a.round) newest[a.user] = a;
  }
  EXPECT_GE(delivered, learners);

  // The gradebook holds each learner's newest value and never went backwards.
  auto book_resp = env.Get(env.sim_url + "/sim/api/gradebook");
  json book = json::parse(book_resp.body);
  json results;
  for (const auto& item : book["line_items"]) {
    if (item["id"] == "1") results = item["results"];
  }
  ASSERT_TRUE(results.is_object());
  for (const auto& [user, a] : newest) {
    const json& cell = results[user];
    EXPECT_DOUBLE_EQ(cell["resultScore"].get<double>(), a.value) << user;
    std::string last;
    for (const auto& h : cell["history"]) {
      EXPECT_GE(h["timestamp"].get<std::string>(), last) << "rolled back for " << user;
      last = h["timestamp"];
    }
  }
  RecordProperty("kills", kills);
  RecordProperty("delivered", delivered);
}

}  // namespace
}  // namespace gb::testing
