#include "app/members_api.h"

#include <nlohmann/json.hpp>

#include "base/strings.h"
#include "base/time_util.h"
#include "lti/roles.h"
#include "server/errors.h"

namespace gb::app {
namespace {

using nlohmann::json;

constexpr std::string_view kPrefix = "/api/v1/contexts/";

std::string When(int64_t seconds) {
  return seconds > 0 ? FormatIso8601Millis(TimePoint(std::chrono::seconds(seconds))) : std::string();
}

json MemberJson(const lti::StoredMember& s) {
  const lti::Member& m = s.member;
  json j = {{"user_id", m.user_id},
            {"status", std::string(lti::MemberStatusName(m.status))},
            {"roles", m.roles},
            {"role_names", lti::ContextRoleNames(lti::ParseRoles(m.roles))},
            {"updated_at", When(s.updated_at)}};
  auto put = [&](const char* key, const std::optional<std::string>& v) {
    if (v) j[key] = *v;
  };
  put("name", m.name);
  put("given_name", m.given_name);
  put("family_name", m.family_name);
  put("middle_name", m.middle_name);
  put("email", m.email);
  put("picture", m.picture);
  put("lis_person_sourcedid", m.lis_person_sourcedid);
  put("lti11_legacy_user_id", m.lti11_legacy_user_id);
  return j;
}

Status BadRequest(std::string reason, std::string message) {
  return Error(Code::kInvalidArgument, std::move(reason), std::move(message));
}

}  // namespace

MembersApi::MembersApi(lti::RegistrationStore& registrations, lti::MemberStore& members, Authenticator authenticate)
    : registrations_(registrations), members_(members), authenticate_(std::move(authenticate)) {}

http::Response MembersApi::List(const http::Request& req) {
  auto tenant = authenticate_(req);
  if (!tenant.ok()) return server::JsonError(tenant.status());

  // /api/v1/contexts/{id}/members, the id percent-encoded (context ids may hold '/').
  std::string path = req.Path();
  std::string_view rest = std::string_view(path).substr(kPrefix.size());
  constexpr std::string_view kSuffix = "/members";
  if (rest.size() <= kSuffix.size() || rest.substr(rest.size() - kSuffix.size()) != kSuffix) {
    return server::JsonError(Error(Code::kNotFound, "api.not_found", "Use /api/v1/contexts/{context_id}/members."));
  }
  std::string_view raw_id = rest.substr(0, rest.size() - kSuffix.size());
  auto context_id = PercentDecode(raw_id, false);
  if (raw_id.find('/') != std::string_view::npos || !context_id || context_id->empty() || context_id->size() > 1024) {
    return server::JsonError(BadRequest("roster.bad_context", "The context id in the path is not valid."));
  }
  auto query = ParseForm(req.Query());
  if (!query) return server::JsonError(BadRequest("request.bad_query", "The query string is not valid url-encoding."));
  auto param = [&](std::string_view k) { return FormValue(*query, k).value_or(""); };

  lti::MemberQuery q;
  q.limit = 1000;
  if (std::string limit = param("limit"); !limit.empty()) {
    int n = 0;
    bool digits = limit.size() <= 5 && limit.find_first_not_of("0123456789") == std::string::npos;
    if (digits) n = std::stoi(limit);
    if (!digits || n < 1 || n > 10'000) return server::JsonError(BadRequest("roster.bad_limit", "limit must be 1 to 10000."));
    q.limit = n;
  }
  std::string status = param("status");
  q.current_only = status.empty();
  if (!status.empty() && status != "all") {
    q.status = lti::ParseMemberStatus(status);
    if (!q.status) {
      return server::JsonError(BadRequest("roster.bad_status", "status must be Active, Inactive, Deleted or all."));
    }
  }
  if (std::string role = param("role"); !role.empty()) {
    if (role.size() > 1024) return server::JsonError(BadRequest("roster.bad_role", "role is too long."));
    q.role = lti::CanonicalRoleUri(lti::ParseRole(role));
  }

  // Which of this tenant's registrations holds the context's roster.
  auto regs = registrations_.ListRegistrations(tenant->id);
  if (!regs.ok()) return server::JsonError(regs.status());
  const std::string wanted = param("registration");
  std::vector<std::pair<lti::RegistrationId, lti::RosterState>> found;
  bool registration_known = wanted.empty();
  for (const auto& r : *regs) {
    if (!wanted.empty() && r.id.str() != wanted) continue;
    registration_known = true;
    auto st = members_.GetRosterState(r.id, *context_id);
    if (!st.ok()) return server::JsonError(st.status());
    if (st->has_value()) found.emplace_back(r.id, **st);
  }
  if (!registration_known) {
    return server::JsonError(Error(Code::kNotFound, "registration.unknown", "No registration " + wanted + "."));
  }
  if (found.empty()) {
    return server::JsonError(Error(Code::kNotFound, "roster.unknown_context",
                                   "No roster has been synced for context " + *context_id +
                                       " (run `gradebridge roster sync --registration ID --context " + *context_id +
                                       "`)."));
  }
  if (found.size() > 1) {
    return server::JsonError(BadRequest("roster.ambiguous_context",
                                        "Several of your registrations have a context " + *context_id +
                                            "; pass ?registration=ID."));
  }
  const auto& [registration_id, state] = found.front();
  auto rows = members_.ListMembers(registration_id, *context_id, q);
  if (!rows.ok()) return server::JsonError(rows.status());
  json members = json::array();
  for (const auto& m : *rows) members.push_back(MemberJson(m));
  json out = {{"registration_id", registration_id.str()},
              {"context_id", *context_id},
              {"last_sync_at", When(state.last_sync_at)},
              {"last_full_sync_at", When(state.last_full_sync_at)},
              {"members", std::move(members)}};
  return http::Response::Json(200, out.dump());
}

}  // namespace gb::app
