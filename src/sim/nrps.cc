#include "sim/nrps.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "sim/ags.h"
#include "sim/lti_names.h"
#include "sim/roster.h"

namespace gb::sim {
namespace {

using nlohmann::json;

constexpr int64_t kDefaultPage = 10;
constexpr int64_t kMaxPage = 50;

http::Response NrpsError(Profile profile, int status, std::string_view message) {
  switch (profile) {
    case Profile::kCanvas:
      return http::Response::Json(status, json{{"errors", {{"type", status == 400 ? "bad_request" : "error"},
                                                           {"message", message}}}}.dump());
    case Profile::kMoodle: return http::Response::Text(status, std::string(message));
    case Profile::kGeneric:
    case Profile::kBrightspace: break;
  }
  return http::Response::Json(status, json{{"error", status == 400 ? "bad_request" : "not_acceptable"},
                                           {"message", message}}.dump());
}

std::string RoleUri(CourseRole role) {
  switch (role) {
    case CourseRole::kInstructor: return std::string(lti::kRoleMembership) + "Instructor";
    case CourseRole::kLearner: return std::string(lti::kRoleMembership) + "Learner";
    case CourseRole::kTeachingAssistant: return lti::kRoleTeachingAssistant;
  }
  return "";
}

// What a role filter value means, as a CourseRole; nullopt when it names no role the sim has
// (then nobody matches). Instructor matches teaching assistants too (a sub-role of Instructor).
bool MatchesRole(std::string_view filter, CourseRole role) {
  const std::string membership = lti::kRoleMembership;
  auto is = [&](std::string_view short_name) {
    return filter == short_name || filter == membership + std::string(short_name);
  };
  switch (role) {
    case CourseRole::kLearner: return is("Learner");
    case CourseRole::kInstructor: return is("Instructor");
    case CourseRole::kTeachingAssistant:
      return is("Instructor") || filter == lti::kRoleTeachingAssistant || filter == "TeachingAssistant" ||
             filter == "Instructor#TeachingAssistant";
  }
  return false;
}

std::optional<int64_t> Number(const std::optional<std::string>& text) {
  if (!text || text->empty() || text->size() > 12) return std::nullopt;
  int64_t v = 0;
  for (char c : *text) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

}  // namespace

http::Response ServeMemberships(const Platform& platform, const http::Request& request, const Tool& tool,
                                const FormFields& query) {
  const Profile profile = tool.spec.profile;
  const std::string accept = ToLower(request.headers.Get("Accept").value_or(""));
  bool acceptable = accept.find(kMediaMembershipContainer) != std::string::npos ||
                    accept.find("*/*") != std::string::npos ||
                    (profile == Profile::kCanvas && accept.find("application/json") != std::string::npos);
  if (profile == Profile::kMoodle && accept.empty()) acceptable = true;  // Moodle: empty Accept matches
  if (!acceptable) {
    if (profile == Profile::kMoodle) {
      return NrpsError(profile, 400, "No handler found for " + request.Path() + " " + accept);
    }
    return NrpsError(profile, 406, std::string("Accept must include ") + kMediaMembershipContainer);
  }

  auto param = [&](std::string_view k) { return FormValue(query, k); };
  const std::string role_filter = param("role").value_or("");
  const std::string rlid = param("rlid").value_or("");
  const SimResourceLink* link = nullptr;
  if (!rlid.empty()) {
    link = platform.seed().FindResourceLink(rlid);
    if (!link) return NrpsError(profile, 400, "Tool does not have access to rlid or rlid does not exist");
  }
  int64_t per = kDefaultPage;
  if (auto limit = param("limit")) {
    auto v = Number(limit);
    if (!v || *v == 0) return NrpsError(profile, 400, "limit must be a positive integer");
    per = std::min(*v, kMaxPage);
  }
  int64_t page = 1;
  if (auto p = param("page")) {
    auto v = Number(p);
    if (!v || *v == 0) return NrpsError(profile, 400, "page must be a positive integer");
    page = *v;
  }
  uint64_t now_seq = 0;
  std::vector<RosterEntry> entries = platform.roster().Snapshot(&now_seq);
  std::optional<uint64_t> since;
  if (auto s = param("since")) {
    auto v = Number(s);
    if (!v || static_cast<uint64_t>(*v) > now_seq) return NrpsError(profile, 400, "Invalid differences token");
    since = static_cast<uint64_t>(*v);
  }
  uint64_t snap = now_seq;
  if (auto s = param("snap")) {
    auto v = Number(s);
    if (!v || static_cast<uint64_t>(*v) > now_seq) return NrpsError(profile, 400, "Invalid page token");
    snap = static_cast<uint64_t>(*v);
  }

  std::vector<const RosterEntry*> selected;
  for (const auto& e : entries) {
    if (since ? e.changed_seq <= *since : e.status == EnrolmentStatus::kDeleted) continue;
    if (!role_filter.empty() && !MatchesRole(role_filter, e.user.role)) continue;
    selected.push_back(&e);
  }
  const size_t total = selected.size();
  const size_t begin = std::min(total, static_cast<size_t>((page - 1) * per));
  const size_t end = std::min(total, begin + static_cast<size_t>(per));

  json members = json::array();
  for (size_t i = begin; i < end; ++i) {
    const RosterEntry& e = *selected[i];
    json m = {{"user_id", e.user.id}, {"status", EnrolmentStatusName(e.status)}};
    std::string role_name(RoleName(e.user.role));
    m["roles"] = json::array({profile == Profile::kMoodle
                                  ? (e.user.role == CourseRole::kTeachingAssistant ? "Instructor" : role_name)
                                  : RoleUri(e.user.role)});
    if (!e.user.given_name.empty() || !e.user.family_name.empty()) {
      m["name"] = e.user.name();
      m["given_name"] = e.user.given_name;
      m["family_name"] = e.user.family_name;
    }
    if (!e.user.email.empty()) m["email"] = e.user.email;
    if (link) {
      m["message"] = json::array({{{lti::kClaimMessageType, "LtiResourceLinkRequest"},
                                   {lti::kClaimCustom, json::object()}}});
    }
    members.push_back(std::move(m));
  }
  const std::string base = platform.MembershipsUrl(tool);
  json body = {{"id", base},
               {"context", {{"id", platform.seed().course.id},
                            {"label", platform.seed().course.label},
                            {"title", platform.seed().course.title}}},
               {"members", std::move(members)}};

  auto url = [&](FormFields params) {
    FormFields q;
    if (!role_filter.empty()) q.emplace_back("role", role_filter);
    if (!rlid.empty()) q.emplace_back("rlid", rlid);
    q.insert(q.end(), params.begin(), params.end());
    return base + (base.find('?') == std::string::npos ? "?" : "&") + EncodeForm(q);
  };
  std::vector<std::pair<std::string, std::string>> links;
  if (end < total) {
    FormFields next = {{"limit", std::to_string(per)}, {"page", std::to_string(page + 1)}, {"snap", std::to_string(snap)}};
    if (since) next.emplace_back("since", std::to_string(*since));
    links.emplace_back("next", url(next));
  }
  links.emplace_back("differences", url({{"since", std::to_string(snap)}}));
  http::Response r = http::Response::Json(200, body.dump());
  std::string type = kMediaMembershipContainer;
  if (profile == Profile::kCanvas) type += "; charset=utf-8";
  r.headers.Set("Content-Type", type);
  r.headers.Set("Link", FormatLinkHeader(profile, links));
  return r;
}

}  // namespace gb::sim
