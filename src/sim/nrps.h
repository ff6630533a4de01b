// Names and Role Provisioning 2.0 as the simulator serves it (Platform::HandleAgs routes here
// after authentication): GET <base>/sim/api/lti/courses/1001/names_and_roles, the
// context_memberships_url every launch carries.
//
//   Accept     must name application/vnd.ims.lti-nrps.v2.membershipcontainer+json (or */*);
//              anything else is 406 (Moodle: 400 "No handler found"); Canvas also takes
//              application/json, as its format negotiation does.
//   scope      contextmembership.readonly (checked by the caller).
//   role       a role URI or context short name (Learner, Instructor, TeachingAssistant, or
//              Instructor#TeachingAssistant): members holding it.
//   rlid       a resource link of the course: its membership (everyone enrolled can reach the
//              sim's links) with a `message` array per member; an unknown link is 400 "Tool does
//              not have access to rlid or rlid does not exist" (Canvas's words).
//   limit      page size, default 10 (smaller than Canvas's 50, so tools exercise paging), at most
//              50; pages are `page=N`, chained with Link rel="next" in the profile's style
//              (Moodle's curly quotes included).
//   since      (in differences links only) members changed after that roster sequence number,
//              Deleted ones included. Every page carries Link rel="differences" for the roster as
//              it was when the first page was served (`snap`, carried in next links), so nothing
//              that changes while a tool is paging is lost.
// Full rosters leave out Deleted members; Inactive ones are listed with status Inactive.
// Roles are full URIs, except on the Moodle profile, which sends short names like Moodle.
// Members enrolled at run time without names are sent without name fields (privacy settings).
#pragma once

#include "base/strings.h"
#include "http/message.h"
#include "sim/platform.h"

namespace gb::sim {

inline constexpr char kMediaMembershipContainer[] = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json";

http::Response ServeMemberships(const Platform& platform, const http::Request& request, const Tool& tool,
                                const FormFields& query);

}  // namespace gb::sim
