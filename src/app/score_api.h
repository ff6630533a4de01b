// The tool-facing score API:
//   POST /api/v1/scores       accept a score (202 only once it is durably queued)
//   GET  /api/v1/scores/{id}  its status, attempts, last platform answer and a diagnosis
// Authenticated by the tenant API key; a tenant sees and targets only its own launches and
// registrations (another tenant's ids are "not found", never "forbidden").
#pragma once

#include <functional>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "base/random.h"
#include "http/message.h"
#include "lti/launch.h"
#include "lti/ports.h"
#include "lti/registration.h"
#include "passback/queue_store.h"

namespace gb::app {

class ScoreApi {
 public:
  using Authenticator = std::function<Result<lti::Tenant>(const http::Request&)>;

  ScoreApi(lti::RegistrationStore& registrations, lti::LaunchStore& launches, passback::QueueStore& queue,
           Clock& clock, Random& random, Authenticator authenticate);

  // Called after every committed enqueue (the dispatcher's Wake), so delivery starts at once.
  void SetOnEnqueued(std::function<void()> on_enqueued) { on_enqueued_ = std::move(on_enqueued); }

  http::Response Submit(const http::Request& request);
  http::Response GetStatus(const http::Request& request);

  struct Accepted {
    std::string id;
    nlohmann::json body;  // {"id", "status"}, plus "duplicate": true and "supersedes": [ids]
  };
  // The intake step every score endpoint shares: validates `score` (passback::ValidateScore),
  // gives it an id, state queued and acceptance times (and a fresh idempotency key when it has
  // none, so such a request is accepted once per call), and enqueues it. Returns only after the
  // transaction holding the score has committed; a known idempotency key returns the earlier
  // score's id and current status instead. `policy`: the target registration's
  // (passback::ScorePolicy::For), e.g. whether extra credit is allowed.
  Result<Accepted> Accept(passback::ScoreRecord score, const passback::ScorePolicy& policy);

 private:
  // The score as requested, and in `registration` the registration it targets (whose policy
  // Submit applies).
  Result<passback::ScoreRecord> Parse(const http::Request& request, const lti::Tenant& tenant,
                                      lti::Registration& registration);
  // The target of a score for an LTI 1.1 launch (its Basic Outcomes cell), into `s`.
  Result<passback::ScoreRecord> ParseLti11Target(const lti::Launch& launch, const lti::Tenant& tenant,
                                                 const std::string& user_id, passback::ScoreRecord& s,
                                                 lti::Registration& registration);

  lti::RegistrationStore& registrations_;
  lti::LaunchStore& launches_;
  passback::QueueStore& queue_;
  Clock& clock_;
  Random& random_;
  Authenticator authenticate_;
  std::function<void()> on_enqueued_;
};

nlohmann::json ScoreToJson(const passback::ScoreRecord& score);

// JSON field readers shared by the intake endpoints. Absent or null gives the fallback; a value
// of the wrong type is kInvalidArgument ("score.not_a_number", "score.bad_field").
Result<std::optional<double>> OptionalNumber(const nlohmann::json& object, const char* key);
Result<std::string> OptionalString(const nlohmann::json& object, const char* key, const std::string& fallback = "");
// body["graded_by"] as {kind, id, model} (kind defaults to "system"); `fallback` when absent.
Result<passback::GradedBy> ParseGradedBy(const nlohmann::json& body, const passback::GradedBy& fallback);
// Whether `url` parses and reg.AllowsUrl() it (hosts, service hosts, ports): outbound URLs a caller names
// must belong to the registration.
bool HostAllowed(const lti::Registration& reg, const std::string& url);

}  // namespace gb::app
