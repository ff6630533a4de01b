#include "lti/launch.h"

#include "lti/claims.h"

namespace gb::lti {
namespace {

using nlohmann::json;

std::string Str(const json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_string()) return {};
  return it->get<std::string>();
}

std::vector<std::string> StrList(const json& obj, const char* key) {
  std::vector<std::string> out;
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_array()) return out;
  for (const auto& v : *it) {
    if (v.is_string()) out.push_back(v.get<std::string>());
  }
  return out;
}

const json* Obj(const json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_object()) return nullptr;
  return &*it;
}

}  // namespace

Launch Launch::FromVerified(const VerifiedIdToken& token, std::string id, int64_t now) {
  const json& c = token.claims();
  const Registration& reg = token.registration();
  Launch l;
  l.id = std::move(id);
  l.tenant_id = reg.tenant_id;
  l.registration_id = reg.id;
  l.issuer = reg.issuer;
  l.client_id = reg.client_id;
  l.deployment_id = Str(c, kClaimDeploymentId);
  l.message_type = Str(c, kClaimMessageType);
  l.target_link_uri = Str(c, kClaimTargetLinkUri);
  l.user.id = Str(c, "sub");
  l.user.name = Str(c, "name");
  l.user.given_name = Str(c, "given_name");
  l.user.family_name = Str(c, "family_name");
  l.user.email = Str(c, "email");
  l.user.picture = Str(c, "picture");
  l.user.locale = Str(c, "locale");
  l.roles = StrList(c, kClaimRoles);
  auto parsed = ParseRoles(l.roles);
  l.role_names = ContextRoleNames(parsed);
  l.is_instructor = IsInstructor(parsed);
  l.is_learner = IsLearner(parsed);
  l.is_test_user = IsTestUser(parsed);
  if (const json* ctx = Obj(c, kClaimContext)) {
    LaunchContext lc{Str(*ctx, "id"), Str(*ctx, "label"), Str(*ctx, "title"), StrList(*ctx, "type")};
    if (!lc.id.empty()) l.context = std::move(lc);
  }
  if (const json* rl = Obj(c, kClaimResourceLink)) {
    l.resource_link = LaunchResourceLink{Str(*rl, "id"), Str(*rl, "title"), Str(*rl, "description")};
  }
  if (const json* ags = Obj(c, kClaimAgsEndpoint)) {
    l.ags = AgsEndpoint{StrList(*ags, "scope"), Str(*ags, "lineitems"), Str(*ags, "lineitem")};
  }
  if (const json* nrps = Obj(c, kClaimNrps)) {
    l.nrps = NrpsEndpoint{Str(*nrps, "context_memberships_url"), StrList(*nrps, "service_versions")};
  }
  if (const json* custom = Obj(c, kClaimCustom)) {
    for (const auto& [k, v] : custom->items()) {
      if (v.is_string()) l.custom[k] = v.get<std::string>();
      else if (!v.is_null()) l.custom[k] = v.dump();  // platforms occasionally send numbers
    }
  }
  if (const json* lp = Obj(c, kClaimLaunchPresentation)) l.return_url = Str(*lp, "return_url");
  if (const json* tp = Obj(c, kClaimToolPlatform)) {
    l.platform_guid = Str(*tp, "guid");
    l.platform_name = Str(*tp, "name");
    l.product_family_code = Str(*tp, "product_family_code");
  }
  if (const json* dl = Obj(c, kClaimDlSettings)) l.deep_linking_settings = *dl;
  if (const json* fu = Obj(c, kClaimForUser)) l.for_user_id = Str(*fu, "user_id");
  l.created_at = now;
  return l;
}

json Launch::ToJson() const {
  json j = {
      {"id", id},
      {"tenant_id", tenant_id.str()},
      {"registration_id", registration_id.str()},
      {"issuer", issuer},
      {"client_id", client_id},
      {"deployment_id", deployment_id},
      {"message_type", message_type},
      {"target_link_uri", target_link_uri},
      {"user",
       {{"id", user.id}, {"name", user.name}, {"given_name", user.given_name},
        {"family_name", user.family_name}, {"email", user.email}, {"picture", user.picture},
        {"locale", user.locale}}},
      {"roles", roles},
      {"role_names", role_names},
      {"is_instructor", is_instructor},
      {"is_learner", is_learner},
      {"is_test_user", is_test_user},
      {"custom", custom},
      {"return_url", return_url},
      {"platform", {{"guid", platform_guid}, {"name", platform_name}, {"product_family_code", product_family_code}}},
      {"created_at", created_at},
  };
  j["context"] = context ? json{{"id", context->id}, {"label", context->label}, {"title", context->title},
                                {"types", context->types}}
                         : json(nullptr);
  j["resource_link"] = resource_link ? json{{"id", resource_link->id}, {"title", resource_link->title},
                                            {"description", resource_link->description}}
                                     : json(nullptr);
  j["ags"] = ags ? json{{"scopes", ags->scopes}, {"lineitems", ags->lineitems}, {"lineitem", ags->lineitem}}
                 : json(nullptr);
  j["nrps"] = nrps ? json{{"context_memberships_url", nrps->context_memberships_url},
                          {"service_versions", nrps->service_versions}}
                   : json(nullptr);
  j["deep_linking_settings"] = deep_linking_settings;
  if (!for_user_id.empty()) j["for_user_id"] = for_user_id;
  j["lti_version"] = lti_version;
  if (!lti11_user_id.empty()) j["lti11_user_id"] = lti11_user_id;
  if (basic_outcome) {
    j["basic_outcome"] = {{"service_url", basic_outcome->service_url}, {"sourcedid", basic_outcome->sourcedid}};
  }
  return j;
}

Result<Launch> Launch::FromJson(const json& j) {
  if (!j.is_object()) return Error(Code::kInternal, "launch.corrupt", "Stored launch is not a JSON object.");
  Launch l;
  l.id = Str(j, "id");
  l.tenant_id = TenantId(Str(j, "tenant_id"));
  l.registration_id = RegistrationId(Str(j, "registration_id"));
  l.issuer = Str(j, "issuer");
  l.client_id = Str(j, "client_id");
  l.deployment_id = Str(j, "deployment_id");
  l.message_type = Str(j, "message_type");
  l.target_link_uri = Str(j, "target_link_uri");
  if (const json* u = Obj(j, "user")) {
    l.user = LaunchUser{Str(*u, "id"), Str(*u, "name"), Str(*u, "given_name"), Str(*u, "family_name"),
                        Str(*u, "email"), Str(*u, "picture"), Str(*u, "locale")};
  }
  l.roles = StrList(j, "roles");
  l.role_names = StrList(j, "role_names");
  l.is_instructor = j.value("is_instructor", false);
  l.is_learner = j.value("is_learner", false);
  l.is_test_user = j.value("is_test_user", false);
  if (const json* ctx = Obj(j, "context")) {
    l.context = LaunchContext{Str(*ctx, "id"), Str(*ctx, "label"), Str(*ctx, "title"), StrList(*ctx, "types")};
  }
  if (const json* rl = Obj(j, "resource_link")) {
    l.resource_link = LaunchResourceLink{Str(*rl, "id"), Str(*rl, "title"), Str(*rl, "description")};
  }
  if (const json* a = Obj(j, "ags")) l.ags = AgsEndpoint{StrList(*a, "scopes"), Str(*a, "lineitems"), Str(*a, "lineitem")};
  if (const json* n = Obj(j, "nrps")) {
    l.nrps = NrpsEndpoint{Str(*n, "context_memberships_url"), StrList(*n, "service_versions")};
  }
  if (const json* c = Obj(j, "custom")) {
    for (const auto& [k, v] : c->items()) {
      if (v.is_string()) l.custom[k] = v.get<std::string>();
    }
  }
  l.return_url = Str(j, "return_url");
  if (const json* p = Obj(j, "platform")) {
    l.platform_guid = Str(*p, "guid");
    l.platform_name = Str(*p, "name");
    l.product_family_code = Str(*p, "product_family_code");
  }
  if (auto it = j.find("deep_linking_settings"); it != j.end()) l.deep_linking_settings = *it;
  l.for_user_id = Str(j, "for_user_id");
  if (std::string v = Str(j, "lti_version"); !v.empty()) l.lti_version = v;
  l.lti11_user_id = Str(j, "lti11_user_id");
  if (const json* bo = Obj(j, "basic_outcome")) l.basic_outcome = BasicOutcome{Str(*bo, "service_url"), Str(*bo, "sourcedid")};
  l.created_at = j.value("created_at", int64_t{0});
  return l;
}

}  // namespace gb::lti
