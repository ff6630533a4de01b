// NrpsClient: Names and Role Provisioning Services 2.0 (lti-digest §4) — a context's roster.
//
// Every call, like AgsClient:
//   - checks the URL's host against Registration::AllowedHosts() before anything is sent, also
//     for each `Link: rel="next"` page (a bearer token must never leave for another host);
//   - gets a token for contextmembership.readonly from ServiceTokenClient;
//   - sends Accept: application/vnd.ims.lti-nrps.v2.membershipcontainer+json;
//   - on a 401, drops the token, gets a new one and retries once;
//   - classifies the answer with ags_outcome.h (reasons are renamed "nrps.*" where AGS says "ags.*").
//
// Paging: follows rel="next" verbatim (relative links resolved against the page's origin) up to
// max_pages; a loop or too many pages fail the call (the roster would be incomplete). The last
// rel="differences" link seen on any page is returned untouched for the next incremental sync.
//
// The platform's JSON is untrusted and parsed strictly (ParseMembershipContainer): the body must
// be an object with a `members` array; each member an object with a non-empty string `user_id`
// and a `roles` array of strings (missing `roles` is an error, `[]` is fine); `status`, when
// present, one of Active / Inactive / Deleted (absent = Active); personal fields strings or null
// when present. Any other type fails the page with "nrps.invalid_response" naming the member and
// field. Sizes are bounded (the HttpClient's body limit, max_members, string lengths, roles per
// member). Roles are normalised to full URIs (roles.h CanonicalRoleUri), so Moodle's "Learner" and
// Canvas's membership#Learner compare equal.
//
// Return convention as AgsClient: a non-OK Result means nothing was sent ("nrps.invalid_url",
// "nrps.invalid_filter" kInvalidArgument; "service.host_not_allowed" kPermissionDenied);
// otherwise the reply's classification says what happened and `members` is set exactly when ok().
// Thread-safe.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "http/client.h"
#include "lti/ags_outcome.h"
#include "lti/registration.h"
#include "lti/roster.h"
#include "lti/service_token.h"

namespace gb::lti {

inline constexpr char kMediaTypeMembershipContainer[] = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json";

struct MembershipFilter {
  std::string role;          // a role URI or a context-role short name; "" = every role
  std::string rlid;          // resource link id: the resource-link membership; "" = the context's
  std::optional<int> limit;  // page-size hint (> 0)
};

struct MembershipContainer {
  std::string context_id;  // the container's context.id ("" when absent)
  std::vector<Member> members;
};

struct MembershipReply : ServiceOutcome {
  std::optional<std::vector<Member>> members;  // set iff ok(); every page, in order
  std::string context_id;                      // from the first page that named it
  std::string differences_url;                 // the last rel="differences" seen; "" when none
  int pages = 0;                               // pages fetched
};

// Called after each page: pages fetched so far, members so far.
using MembershipProgress = std::function<void(int pages, size_t members)>;

struct NrpsClientOptions {
  int max_pages = 2000;          // paging bound (Canvas pages hold at most 50 members)
  size_t max_members = 200'000;  // over all pages
  http::RequestOptions request{std::chrono::milliseconds(5'000), std::chrono::milliseconds(30'000),
                               8 * 1024 * 1024};
};

// Parses one page (strict, see above). kInvalidArgument "nrps.invalid_response".
Result<MembershipContainer> ParseMembershipContainer(std::string_view body, size_t max_members = 200'000);

class NrpsClient {
 public:
  NrpsClient(http::HttpClient& http, ServiceTokenClient& tokens, NrpsClientOptions options = {});

  // GET {context_memberships_url}[?role=…&rlid=…&limit=…], following rel="next".
  Result<MembershipReply> GetMembers(const Registration& registration, std::string_view memberships_url,
                                     const MembershipFilter& filter = {}, const MembershipProgress& progress = {});
  // GET a stored rel="differences" URL exactly as the platform gave it, following rel="next".
  // Members added or changed since that link was issued; removed ones have status Deleted.
  Result<MembershipReply> GetDifferences(const Registration& registration, std::string_view differences_url,
                                         const MembershipProgress& progress = {});

 private:
  Result<MembershipReply> Collect(const Registration& registration, std::string url,
                                  const MembershipProgress& progress);
  ServiceOutcome Send(const Registration& registration, http::Request request, bool& refresh_available);

  http::HttpClient& http_;
  ServiceTokenClient& tokens_;
  NrpsClientOptions options_;
};

}  // namespace gb::lti
