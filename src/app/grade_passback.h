// The Learnosity-compatible grade passback endpoint:
//   POST /lti/grade_passback
// Learnosity's Items API (LTI 1.3 mode) POSTs a learner's raw score plus the lis_data it was
// initialised with, authenticated with HTTP Basic using a passback-only key pair
// (`gradebridge passback-key add`). The endpoint only enqueues: it resolves the registration,
// checks every URL against it, and hands the score to the same intake as POST /api/v1/scores.
// It never makes an outbound request. See docs/passback.md for the body and every error.
//
// Contract:
//   - Credentials are a passback key (never the tenant API key); anything else is 401 with
//     `WWW-Authenticate: Basic realm="gradebridge"`.
//   - The registration is the key's tenant's with the body's client_id AND token_url; another
//     tenant's registration is "not found". lineitems/lineitem URLs must be on its hosts.
//   - 200 {"id", "status"} is sent only after the score is committed (Learnosity retries on any
//     other status). An Idempotency-Key header makes a retry return the same id.
#pragma once

#include <string>

#include "app/score_api.h"
#include "base/clock.h"
#include "base/status.h"
#include "http/message.h"
#include "lti/ports.h"
#include "passback/score.h"

namespace gb::app {

class GradePassbackApi {
 public:
  // `scores` provides the shared intake (ScoreApi::Accept); all references must outlive this.
  GradePassbackApi(lti::PassbackKeyStore& keys, lti::RegistrationStore& registrations, ScoreApi& scores,
                   Clock& clock);

  http::Response Handle(const http::Request& request);

  // The prefix of idempotency keys taken from this endpoint's Idempotency-Key header, so they
  // never collide with keys the tenant uses on /api/v1/scores.
  static constexpr std::string_view kIdempotencyPrefix = "grade_passback:";

 private:
  // kUnauthenticated "grade_passback.missing_credentials" / "grade_passback.bad_credentials".
  Result<lti::PassbackKey> Authenticate(const http::Request& request);
  Result<passback::ScoreRecord> Parse(const http::Request& request, const lti::PassbackKey& key);

  lti::PassbackKeyStore& keys_;
  lti::RegistrationStore& registrations_;
  ScoreApi& scores_;
  Clock& clock_;
};

}  // namespace gb::app
