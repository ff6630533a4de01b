#include "lti/nrps_client.h"

#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "base/log.h"
#include "base/url.h"
#include "lti/claims.h"
#include "lti/roles.h"

namespace gb::lti {
namespace {

using json = nlohmann::json;

constexpr size_t kMaxUserIdChars = 1024;
constexpr size_t kMaxFieldChars = 4096;
constexpr size_t kMaxRolesPerMember = 64;

Status Invalid(std::string why) {
  return Error(Code::kInvalidArgument, "nrps.invalid_response",
               "The platform's membership container is not valid: " + std::move(why));
}

std::string Where(size_t index) { return "members[" + std::to_string(index) + "]"; }

// An optional personal field: absent or null -> nullopt; a bounded string -> its value.
Result<std::optional<std::string>> OptionalString(const json& member, const char* key, size_t index) {
  auto it = member.find(key);
  if (it == member.end() || it->is_null()) return std::optional<std::string>();
  if (!it->is_string()) return Invalid(Where(index) + "." + key + " must be a string.");
  const std::string& v = it->get_ref<const std::string&>();
  if (v.size() > kMaxFieldChars) return Invalid(Where(index) + "." + key + " is too long.");
  return std::optional<std::string>(v);
}

Result<Member> ParseMember(const json& j, size_t index) {
  if (!j.is_object()) return Invalid(Where(index) + " must be a JSON object.");
  Member m;
  auto id = j.find("user_id");
  if (id == j.end() || id->is_null()) return Invalid(Where(index) + ".user_id is required.");
  if (id->is_string()) {
    m.user_id = id->get<std::string>();
  } else if (id->is_number_integer() || id->is_number_unsigned()) {
    m.user_id = id->dump();  // numeric ids (older Moodle builds): the same text a launch's sub has
  } else {
    return Invalid(Where(index) + ".user_id must be a string.");
  }
  if (m.user_id.empty()) return Invalid(Where(index) + ".user_id must not be empty.");
  if (m.user_id.size() > kMaxUserIdChars) return Invalid(Where(index) + ".user_id is too long.");

  auto roles = j.find("roles");
  if (roles == j.end() || !roles->is_array()) {
    return Invalid(Where(index) + ".roles must be an array (it is required; [] is allowed).");
  }
  if (roles->size() > kMaxRolesPerMember) return Invalid(Where(index) + ".roles has too many entries.");
  std::vector<std::string> raw;
  for (const auto& r : *roles) {
    if (!r.is_string()) return Invalid(Where(index) + ".roles must hold strings.");
    const std::string& v = r.get_ref<const std::string&>();
    if (v.empty() || v.size() > kMaxFieldChars) return Invalid(Where(index) + ".roles holds an empty or over-long role.");
    raw.push_back(v);
  }
  m.roles = CanonicalRoleUris(raw);

  if (auto st = j.find("status"); st != j.end() && !st->is_null()) {
    if (!st->is_string()) return Invalid(Where(index) + ".status must be a string.");
    auto parsed = ParseMemberStatus(st->get_ref<const std::string&>());
    if (!parsed) {
      return Invalid(Where(index) + ".status \"" + st->get<std::string>().substr(0, 40) +
                     "\" is not Active, Inactive or Deleted.");
    }
    m.status = *parsed;
  }
  GB_ASSIGN_OR_RETURN(m.name, OptionalString(j, "name", index));
  GB_ASSIGN_OR_RETURN(m.given_name, OptionalString(j, "given_name", index));
  GB_ASSIGN_OR_RETURN(m.family_name, OptionalString(j, "family_name", index));
  GB_ASSIGN_OR_RETURN(m.middle_name, OptionalString(j, "middle_name", index));
  GB_ASSIGN_OR_RETURN(m.email, OptionalString(j, "email", index));
  GB_ASSIGN_OR_RETURN(m.picture, OptionalString(j, "picture", index));
  GB_ASSIGN_OR_RETURN(m.lis_person_sourcedid, OptionalString(j, "lis_person_sourcedid", index));
  GB_ASSIGN_OR_RETURN(m.lti11_legacy_user_id, OptionalString(j, "lti11_legacy_user_id", index));
  return m;
}

std::string HostList(const Registration& registration) {
  std::string out;
  for (const auto& h : registration.AllowedHosts()) out += (out.empty() ? "" : ", ") + h;
  return out.empty() ? "none" : out;
}

Status NotAllowed(const Registration& registration, const Url& url) {
  const std::string host = url.explicit_port ? url.Authority() : url.host;
  return Error(Code::kPermissionDenied, "service.host_not_allowed",
               "The roster URL's host " + host + " is not one of this registration's hosts (" +
                   HostList(registration) + "); nothing was sent.");
}

Result<Url> CheckUrl(const Registration& registration, std::string_view url) {
  auto parsed = Url::Parse(url);
  if (!parsed.ok()) {
    return Error(Code::kInvalidArgument, "nrps.invalid_url",
                 "The context memberships URL is not a valid http(s) URL: " + parsed.status().message());
  }
  if (!registration.AllowsUrl(*parsed)) return NotAllowed(registration, *parsed);
  return parsed;
}

std::string ResolveLink(const std::string& current, const std::string& link) {
  if (!link.empty() && link.front() == '/' && (link.size() < 2 || link[1] != '/')) {
    auto base = Url::Parse(current);
    if (base.ok()) return base->Origin() + link;
  }
  return link;
}

// "ags.not_found" -> "nrps.not_found": the shared classifier speaks AGS.
ServiceOutcome Renamed(ServiceOutcome o) {
  if (o.reason.rfind("ags.", 0) == 0) o.reason = "nrps." + o.reason.substr(4);
  return o;
}

ServiceOutcome Permanent(ServiceOutcome o, std::string reason, std::string diagnosis) {
  o.classification = Classification::kPermanent;
  o.reason = std::move(reason);
  o.diagnosis = std::move(diagnosis);
  return o;
}

}  // namespace

Result<MembershipContainer> ParseMembershipContainer(std::string_view body, size_t max_members) {
  if (body.find('\0') != std::string_view::npos) return Invalid("the body holds a NUL byte.");
  json j = json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Invalid("the body is not JSON.");
  if (!j.is_object()) return Invalid("the body must be a JSON object with a members array.");
  MembershipContainer out;
  if (auto ctx = j.find("context"); ctx != j.end() && !ctx->is_null()) {
    if (!ctx->is_object()) return Invalid("context must be an object.");
    if (auto id = ctx->find("id"); id != ctx->end() && !id->is_null()) {
      if (id->is_string()) {
        out.context_id = id->get<std::string>();
      } else if (id->is_number_integer() || id->is_number_unsigned()) {
        out.context_id = id->dump();
      } else {
        return Invalid("context.id must be a string.");
      }
    }
  }
  auto members = j.find("members");
  if (members == j.end() || !members->is_array()) return Invalid("members must be an array.");
  if (members->size() > max_members) {
    return Invalid("more than " + std::to_string(max_members) + " members.");
  }
  out.members.reserve(members->size());
  for (size_t i = 0; i < members->size(); ++i) {
    GB_ASSIGN_OR_RETURN(Member m, ParseMember((*members)[i], i));
    out.members.push_back(std::move(m));
  }
  return out;
}

NrpsClient::NrpsClient(http::HttpClient& http, ServiceTokenClient& tokens, NrpsClientOptions options)
    : http_(http), tokens_(tokens), options_(options) {}

ServiceOutcome NrpsClient::Send(const Registration& registration, http::Request request, bool& refresh_available) {
  const std::vector<std::string> scopes = {kScopeNrps};
  ServiceResponse token_failure;
  auto token = tokens_.Get(registration, scopes, &token_failure);
  if (!token.ok()) {
    return Renamed(ClassifyFailure(AgsOperation::kGetMemberships, token.status(), std::move(token_failure)));
  }
  bool token_refreshed = true;
  for (int attempt = 0;; ++attempt) {
    request.headers.Set("Authorization", "Bearer " + token->token);
    auto sent = http_.Send(request, options_.request);
    if (!sent.ok()) {
      ServiceResponse none;
      none.url = request.url;
      LogWarn("nrps.transport", {{"registration", registration.id.str()}, {"reason", sent.status().reason()}});
      return Renamed(ClassifyFailure(AgsOperation::kGetMemberships, sent.status(), std::move(none)));
    }
    ServiceResponse response = MakeServiceResponse(request.url, *sent, tokens_.clock().Now());
    if (response.status == 401 && attempt == 0 && refresh_available) {
      refresh_available = false;
      if (tokens_.InvalidateRejected(registration, token->token)) {
        LogInfo("nrps.token_refresh", {{"registration", registration.id.str()}});
        token = tokens_.Get(registration, scopes, &token_failure);
        if (!token.ok()) {
          return Renamed(ClassifyFailure(AgsOperation::kGetMemberships, token.status(), std::move(token_failure)));
        }
        continue;
      }
      token_refreshed = false;
    }
    ServiceOutcome outcome =
        Renamed(ClassifyResponse(AgsOperation::kGetMemberships, registration.family, std::move(response), token_refreshed));
    if (!outcome.ok()) {
      LogWarn("nrps.failed", {{"registration", registration.id.str()}, {"status", outcome.response.status},
                              {"reason", outcome.reason}});
    }
    return outcome;
  }
}

Result<MembershipReply> NrpsClient::Collect(const Registration& registration, std::string url,
                                            const MembershipProgress& progress) {
  MembershipReply reply;
  std::vector<Member> members;
  std::set<std::string> seen;
  bool refresh_available = true;
  for (int page = 0;; ++page) {
    seen.insert(url);
    http::Request request;
    request.method = "GET";
    request.url = url;
    request.headers.Set("Accept", kMediaTypeMembershipContainer);
    ServiceOutcome outcome = Send(registration, std::move(request), refresh_available);
    reply.pages = page + 1;
    if (!outcome.ok()) {
      static_cast<ServiceOutcome&>(reply) = std::move(outcome);
      return reply;
    }
    size_t room = options_.max_members > members.size() ? options_.max_members - members.size() : 0;
    auto parsed = ParseMembershipContainer(outcome.response.body, room);
    if (!parsed.ok()) {
      std::string status = std::to_string(outcome.response.status);
      static_cast<ServiceOutcome&>(reply) =
          Permanent(std::move(outcome), "nrps.invalid_response",
                    parsed.status().message() + " (HTTP " + status + ", page " + std::to_string(page + 1) + ")");
      return reply;
    }
    if (reply.context_id.empty()) reply.context_id = parsed->context_id;
    for (auto& m : parsed->members) members.push_back(std::move(m));
    if (progress) progress(page + 1, members.size());
    if (auto diff = http::FindLink(outcome.response.headers, "differences"); diff && !diff->empty()) {
      reply.differences_url = ResolveLink(url, *diff);
    }
    auto next = http::FindLink(outcome.response.headers, "next");
    if (!next || next->empty()) {
      static_cast<ServiceOutcome&>(reply) = std::move(outcome);
      reply.members = std::move(members);
      return reply;
    }
    std::string next_url = ResolveLink(url, *next);
    if (seen.count(next_url)) {
      static_cast<ServiceOutcome&>(reply) =
          Permanent(std::move(outcome), "nrps.paging_loop",
                    "The platform's Link rel=\"next\" points back to a page already read; the roster is incomplete.");
      return reply;
    }
    if (page + 1 >= options_.max_pages) {
      static_cast<ServiceOutcome&>(reply) =
          Permanent(std::move(outcome), "nrps.too_many_pages",
                    "The platform returned more than " + std::to_string(options_.max_pages) +
                        " pages; the roster is incomplete.");
      return reply;
    }
    auto parsed_next = Url::Parse(next_url);
    if (!parsed_next.ok()) {
      static_cast<ServiceOutcome&>(reply) =
          Permanent(std::move(outcome), "nrps.invalid_next_link",
                    "The platform's Link rel=\"next\" is not a valid URL; the roster is incomplete.");
      return reply;
    }
    if (!registration.AllowsUrl(*parsed_next)) {
      static_cast<ServiceOutcome&>(reply) = Permanent(std::move(outcome), "service.host_not_allowed",
                                                      NotAllowed(registration, *parsed_next).message());
      return reply;
    }
    url = std::move(next_url);
  }
}

Result<MembershipReply> NrpsClient::GetMembers(const Registration& registration, std::string_view memberships_url,
                                               const MembershipFilter& filter, const MembershipProgress& progress) {
  GB_ASSIGN_OR_RETURN(Url base, CheckUrl(registration, memberships_url));
  if (filter.limit && *filter.limit <= 0) {
    return Error(Code::kInvalidArgument, "nrps.invalid_filter", "limit must be greater than 0.");
  }
  std::string url(memberships_url);
  if (!filter.role.empty()) url = base.WithQueryParam("role", filter.role);
  if (!filter.rlid.empty()) {
    GB_ASSIGN_OR_RETURN(Url with_role, Url::Parse(url));
    url = with_role.WithQueryParam("rlid", filter.rlid);
  }
  if (filter.limit) {
    GB_ASSIGN_OR_RETURN(Url with_rest, Url::Parse(url));
    url = with_rest.WithQueryParam("limit", std::to_string(*filter.limit));
  }
  return Collect(registration, std::move(url), progress);
}

Result<MembershipReply> NrpsClient::GetDifferences(const Registration& registration, std::string_view differences_url,
                                                   const MembershipProgress& progress) {
  GB_RETURN_IF_ERROR(CheckUrl(registration, differences_url).status());
  return Collect(registration, std::string(differences_url), progress);
}

}  // namespace gb::lti
