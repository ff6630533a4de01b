#include "platforms/lti13/ags_grade_sink.h"

#include <cmath>
#include <variant>

#include "base/strings.h"
#include "base/url.h"

namespace gb::platforms {
namespace {

using passback::DeliveryResult;
using Kind = DeliveryResult::Kind;

DeliveryResult LocalRefusal(const Status& status) {
  DeliveryResult r;
  r.kind = Kind::kPermanent;
  r.reason = status.reason();
  r.diagnosis = "Not sent: " + status.message();
  return r;
}

lti::ActivityProgress ParseActivity(const std::string& v) {
  if (v == "Initialized") return lti::ActivityProgress::kInitialized;
  if (v == "Started") return lti::ActivityProgress::kStarted;
  if (v == "InProgress") return lti::ActivityProgress::kInProgress;
  if (v == "Submitted") return lti::ActivityProgress::kSubmitted;
  return lti::ActivityProgress::kCompleted;
}

lti::GradingProgress ParseGrading(const std::string& v) {
  if (v == "Pending") return lti::GradingProgress::kPending;
  if (v == "PendingManual") return lti::GradingProgress::kPendingManual;
  if (v == "Failed") return lti::GradingProgress::kFailed;
  if (v == "NotReady") return lti::GradingProgress::kNotReady;
  return lti::GradingProgress::kFullyGraded;
}

}  // namespace

DeliveryResult ToDeliveryResult(const lti::ServiceOutcome& outcome) {
  DeliveryResult r;
  switch (outcome.classification) {
    case lti::Classification::kDelivered: r.kind = Kind::kDelivered; break;
    case lti::Classification::kAlreadyApplied: r.kind = Kind::kAlreadyApplied; break;
    case lti::Classification::kRetryable: r.kind = Kind::kRetry; break;
    case lti::Classification::kRateLimited: r.kind = Kind::kThrottled; break;
    case lti::Classification::kPermanent: r.kind = Kind::kPermanent; break;
  }
  r.reason = outcome.reason;
  r.diagnosis = outcome.diagnosis;
  r.http_status = outcome.response.status;
  r.response_body = outcome.response.body;
  r.retry_after_seconds = outcome.response.retry_after_seconds;
  r.rate_limit_remaining = outcome.response.rate_limit_remaining;
  r.request_cost = outcome.response.request_cost;
  return r;
}

AgsGradeSink::AgsGradeSink(lti::AgsClient& ags, Clock& clock, AgsGradeSinkOptions options)
    : ags_(ags), clock_(clock), options_(options) {}

std::string AgsGradeSink::RateKey(const lti::Registration& registration, const passback::ScoreRecord& score) const {
  const std::string& url = score.lineitem_url.empty() ? score.lineitems_url : score.lineitem_url;
  Result<Url> parsed = Url::Parse(url);
  return (parsed.ok() ? parsed->Authority() : std::string("?")) + " " + registration.client_id;
}

std::variant<std::string, DeliveryResult> AgsGradeSink::LineItemFor(const lti::Registration& registration,
                                                                     const passback::ScoreRecord& score) {
  if (!score.lineitem_url.empty()) return score.lineitem_url;
  if (score.lineitems_url.empty() || score.resource_link_id.empty()) {
    DeliveryResult r;
    r.kind = Kind::kPermanent;
    r.reason = "ags.no_line_item";
    r.diagnosis = "Not sent: the score names no line item, and no line items URL with a resource link to find or "
                  "create one (the launch carried no AGS endpoint claim).";
    return r;
  }
  std::string key = registration.id.str() + "\n" + score.lineitems_url + "\n" + score.resource_link_id;
  std::shared_ptr<Resolution> resolution;
  {
    std::lock_guard lock(mu_);
    auto& slot = resolutions_[key];
    if (!slot) slot = std::make_shared<Resolution>();
    resolution = slot;
  }
  std::lock_guard lock(resolution->mu);
  if (!resolution->lineitem_url.empty()) return resolution->lineitem_url;

  lti::LineItemFilter filter;
  filter.resource_link_id = score.resource_link_id;
  auto listed = ags_.ListLineItems(registration, score.lineitems_url, filter);
  if (!listed.ok()) return LocalRefusal(listed.status());
  if (!listed->ok()) return ToDeliveryResult(*listed);
  for (const auto& item : *listed->value) {
    // The filter is a platform feature; check the answer instead of trusting it.
    if (item.resource_link_id == score.resource_link_id && !item.id.empty()) {
      resolution->lineitem_url = item.id;
      RememberMaximum(item.id, item.score_maximum);
      return item.id;
    }
  }
  lti::LineItem item;
  item.label = score.resource_link_id;
  item.resource_link_id = score.resource_link_id;
  item.score_maximum = score.score_maximum.value_or(100);
  auto created = ags_.CreateLineItem(registration, score.lineitems_url, item);
  if (!created.ok()) return LocalRefusal(created.status());
  if (!created->ok()) return ToDeliveryResult(*created);
  if (created->value->id.empty()) {
    DeliveryResult r;
    r.kind = Kind::kRetry;
    r.reason = "ags.invalid_line_item";
    r.diagnosis = "The platform created a line item but its answer had no id.";
    return r;
  }
  resolution->lineitem_url = created->value->id;
  RememberMaximum(created->value->id, created->value->score_maximum);
  return created->value->id;
}

void AgsGradeSink::RememberMaximum(const std::string& lineitem_url, double maximum) {
  std::lock_guard lock(mu_);
  maximums_[lineitem_url] = Maximum{clock_.Now(), maximum > 0 ? std::optional<double>(maximum) : std::nullopt};
}

std::optional<double> AgsGradeSink::LineItemMaximum(const lti::Registration& registration,
                                                    const std::string& lineitem_url) {
  TimePoint now = clock_.Now();
  {
    std::lock_guard lock(mu_);
    auto it = maximums_.find(lineitem_url);
    if (it != maximums_.end() && now - it->second.fetched_at < options_.lineitem_cache_ttl) return it->second.value;
  }
  auto got = ags_.GetLineItem(registration, lineitem_url);
  std::optional<double> value;
  if (got.ok() && got->ok() && got->value->score_maximum > 0) value = got->value->score_maximum;
  std::lock_guard lock(mu_);
  maximums_[lineitem_url] = Maximum{now, value};
  return value;
}

DeliveryResult AgsGradeSink::Deliver(const lti::Registration& registration, const passback::ScoreRecord& score,
                                     const passback::DeliveryOptions& options) {
  auto target = LineItemFor(registration, score);
  if (auto* failure = std::get_if<DeliveryResult>(&target)) return std::move(*failure);
  const std::string& lineitem_url = std::get<std::string>(target);

  lti::Score s;
  s.user_id = score.user_id;
  s.score_given = score.score_given;
  s.score_maximum = score.score_maximum;
  if (options.include_comment && !score.comment.empty()) s.comment = score.comment;
  s.activity_progress = ParseActivity(score.activity_progress);
  s.grading_progress = ParseGrading(score.grading_progress);
  s.timestamp = TimePoint(std::chrono::milliseconds(score.timestamp_ms));

  auto posted = ags_.PostScore(registration, lineitem_url, s);
  DeliveryResult result = posted.ok() ? ToDeliveryResult(*posted) : LocalRefusal(posted.status());
  result.lineitem_url = lineitem_url;
  if (result.kind == Kind::kDelivered && score.score_maximum) {
    std::optional<double> column = LineItemMaximum(registration, lineitem_url);
    if (column && std::fabs(*column - *score.score_maximum) > 1e-9) {
      std::string shown = score.score_given ? FormatDecimal(*score.score_given * *column / *score.score_maximum) : "";
      result.warning = "the tool's maximum (" + FormatDecimal(*score.score_maximum) +
                       ") differs from the line item's scoreMaximum (" + FormatDecimal(*column) +
                       "); the platform scales the score" +
                       (shown.empty() ? "" : ", so the gradebook shows " + shown + " of " + FormatDecimal(*column)) +
                       ".";
    }
  }
  return result;
}

}  // namespace gb::platforms
