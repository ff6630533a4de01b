// The tool-facing score API:
//   POST /api/v1/scores       accept a score (202 only once it is durably queued)
//   GET  /api/v1/scores/{id}  its status, attempts, last platform answer and a diagnosis
// Authenticated by the tenant API key; a tenant sees and targets only its own launches and
// registrations (another tenant's ids are "not found", never "forbidden").
#pragma once

#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "base/random.h"
#include "http/message.h"
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

 private:
  // The score as requested, and in `registration` the registration it targets (whose policy
  // Submit applies).
  Result<passback::ScoreRecord> Parse(const http::Request& request, const lti::Tenant& tenant,
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

}  // namespace gb::app
