// The tool-facing roster API:
//   GET /api/v1/contexts/{context_id}/members[?registration=ID][&role=R][&status=S][&limit=N]
// The cached members of a context (docs/roster.md), as `gradebridge roster sync` or the
// late-enrolment check last read them from the platform. Authenticated by the tenant API key; a
// tenant sees only rosters of its own registrations (another tenant's registration or context is
// "not found", never "forbidden").
//   registration  needed only when several of the tenant's registrations synced a context with
//                 this id (400 "roster.ambiguous_context" otherwise names the problem)
//   role          a role URI or short name ("Learner"); matched after normalisation
//   status        Active | Inactive | Deleted | all; default: Active and Inactive (current members)
//   limit         1..10000, default 1000
// Personal fields (name, email, ...) appear only when the platform sent them.
#pragma once

#include <functional>

#include "http/message.h"
#include "lti/ports.h"
#include "lti/roster.h"

namespace gb::app {

class MembersApi {
 public:
  using Authenticator = std::function<Result<lti::Tenant>(const http::Request&)>;

  MembersApi(lti::RegistrationStore& registrations, lti::MemberStore& members, Authenticator authenticate);

  http::Response List(const http::Request& request);

 private:
  lti::RegistrationStore& registrations_;
  lti::MemberStore& members_;
  Authenticator authenticate_;
};

}  // namespace gb::app
