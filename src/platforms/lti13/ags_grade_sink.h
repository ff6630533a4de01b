// AgsGradeSink: passback::GradeSink over LTI Advantage Assignment and Grade Services.
//
// Deliver():
//   1. The line item: the score's own URL, or — when the launch carried only the line items
//      container — the item for its resource link, found with a resource_link_id filter or
//      created (label = resource link id, scoreMaximum = the score's maximum). Resolution is
//      single-flight per (registration, container, resource link) and remembered, so a burst of
//      scores for a new assignment creates one column, not one per learner. (Across several
//      nodes two could still race to create it; see docs/passback.md.)
//   2. POST {lineitem}/scores through AgsClient (token, 401 refresh, host allow-list, media type).
//   3. On success, a maximum mismatch warning when the line item's scoreMaximum (fetched once per
//      line item and cached; skipped quietly when the registration may not read line items)
//      differs from the score's: "a 27/40 test in a 10-point column shows 6.75".
//
// The rate key is "<line item host> <client_id>": Canvas meters per developer key per cluster.
// Thread-safe.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <variant>

#include "base/clock.h"
#include "lti/ags_client.h"
#include "passback/grade_sink.h"

namespace gb::platforms {

struct AgsGradeSinkOptions {
  std::chrono::seconds lineitem_cache_ttl{600};
};

class AgsGradeSink final : public passback::GradeSink {
 public:
  AgsGradeSink(lti::AgsClient& ags, Clock& clock, AgsGradeSinkOptions options = {});

  std::string RateKey(const lti::Registration& registration, const passback::ScoreRecord& score) const override;
  passback::DeliveryResult Deliver(const lti::Registration& registration, const passback::ScoreRecord& score,
                                   const passback::DeliveryOptions& options) override;

 private:
  struct Resolution {
    std::mutex mu;  // held while one caller finds or creates the item
    std::string lineitem_url;
    std::optional<double> score_maximum;
  };
  struct Maximum {
    TimePoint fetched_at{};
    std::optional<double> value;  // nullopt: unknown (not readable)
  };

  // The line item URL for `score`, or a DeliveryResult saying why there is none.
  std::variant<std::string, passback::DeliveryResult> LineItemFor(const lti::Registration& registration,
                                                                    const passback::ScoreRecord& score);
  std::optional<double> LineItemMaximum(const lti::Registration& registration, const std::string& lineitem_url);
  void RememberMaximum(const std::string& lineitem_url, double maximum);

  lti::AgsClient& ags_;
  Clock& clock_;
  AgsGradeSinkOptions options_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<Resolution>> resolutions_;
  std::map<std::string, Maximum> maximums_;
};

// Maps an AgsClient outcome onto the dispatcher's vocabulary (exposed for tests).
passback::DeliveryResult ToDeliveryResult(const lti::ServiceOutcome& outcome);

}  // namespace gb::platforms
