#include "lti11/launch11.h"

#include "base/strings.h"
#include "jose/jose.h"
#include "lti/roles.h"

namespace gb::lti11 {
namespace {

constexpr size_t kMaxField = 4096;
constexpr std::string_view kMembership = "http://purl.imsglobal.org/vocab/lis/v2/membership";
constexpr std::string_view kInstitution = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#";
constexpr std::string_view kSystem = "http://purl.imsglobal.org/vocab/lis/v2/system/person#";

}  // namespace

std::string VerifiedLaunch::Param(std::string_view name) const {
  for (const auto& [n, v] : oauth_.params) {
    if (n == name) return v;
  }
  return {};
}

Result<VerifiedLaunch> VerifyLaunch(const SignedRequest& request, const VerifyOptions& options,
                                    const SecretLookup& secrets, const NonceConsumer& nonces) {
  GB_ASSIGN_OR_RETURN(Verified oauth, Verify(request, options, secrets, nonces));
  VerifiedLaunch launch(std::move(oauth));
  for (const auto& [name, value] : launch.params()) {
    if (name.size() > 256 || value.size() > kMaxField) {
      return Error(Code::kInvalidArgument, "lti11.bad_field", "The launch parameter " + name.substr(0, 64) +
                                                                  " is over its size bound.");
    }
  }
  if (launch.Param("lti_message_type") != "basic-lti-launch-request") {
    return Error(Code::kInvalidArgument, "lti11.bad_message_type",
                 "lti_message_type must be basic-lti-launch-request for an LTI 1.1 launch.");
  }
  if (launch.Param("lti_version") != "LTI-1p0") {
    return Error(Code::kInvalidArgument, "lti11.bad_version", "lti_version must be LTI-1p0.");
  }
  if (launch.Param("resource_link_id").empty()) {
    return Error(Code::kInvalidArgument, "lti11.missing_resource_link", "The launch has no resource_link_id.");
  }
  return launch;
}

std::string ToLti13Role(std::string_view value) {
  lti::Role r = lti::ParseRole(value);
  switch (r.kind) {
    case lti::RoleKind::kContext:
      if (r.sub_role.empty()) return std::string(kMembership) + "#" + r.principal;
      return std::string(kMembership) + "/" + r.principal + "#" + r.sub_role;
    case lti::RoleKind::kInstitution:
      return StartsWith(value, "http") ? std::string(value) : std::string(kInstitution) + r.principal;
    case lti::RoleKind::kSystem:
      return StartsWith(value, "http") ? std::string(value) : std::string(kSystem) + r.principal;
    default:
      return std::string(value);
  }
}

lti::Launch ToLaunch(const VerifiedLaunch& v, const lti::Registration& reg, std::string id, int64_t now) {
  lti::Launch l;
  l.id = std::move(id);
  l.tenant_id = reg.tenant_id;
  l.registration_id = reg.id;
  l.issuer = reg.issuer;
  l.client_id = reg.client_id;
  l.message_type = "basic-lti-launch-request";
  l.lti_version = "1.1";
  l.user.id = v.Param("user_id");
  l.lti11_user_id = l.user.id;
  l.user.name = v.Param("lis_person_name_full");
  l.user.given_name = v.Param("lis_person_name_given");
  l.user.family_name = v.Param("lis_person_name_family");
  l.user.email = v.Param("lis_person_contact_email_primary");
  l.user.picture = v.Param("user_image");
  l.user.locale = v.Param("launch_presentation_locale");
  const std::string roles = v.Param("roles");
  for (std::string_view role : Split(roles, ',')) {
    role = Trim(role);
    if (!role.empty()) l.roles.push_back(ToLti13Role(role));
  }
  auto parsed = lti::ParseRoles(l.roles);
  l.role_names = lti::ContextRoleNames(parsed);
  l.is_instructor = lti::IsInstructor(parsed);
  l.is_learner = lti::IsLearner(parsed);
  l.is_test_user = lti::IsTestUser(parsed);
  if (std::string ctx = v.Param("context_id"); !ctx.empty()) {
    lti::LaunchContext c{ctx, v.Param("context_label"), v.Param("context_title"), {}};
    const std::string types = v.Param("context_type");
    for (std::string_view t : Split(types, ',')) {
      if (!Trim(t).empty()) c.types.emplace_back(Trim(t));
    }
    l.context = std::move(c);
  }
  l.resource_link = lti::LaunchResourceLink{v.Param("resource_link_id"), v.Param("resource_link_title"),
                                            v.Param("resource_link_description")};
  for (const auto& [name, value] : v.params()) {
    if (StartsWith(name, "custom_")) l.custom[name.substr(7)] = value;
    else if (StartsWith(name, "ext_")) l.custom[name] = value;  // Canvas extensions, kept by full name
  }
  l.return_url = v.Param("launch_presentation_return_url");
  l.platform_guid = v.Param("tool_consumer_instance_guid");
  l.platform_name = v.Param("tool_consumer_instance_name");
  l.product_family_code = v.Param("tool_consumer_info_product_family_code");
  std::string outcome_url = v.Param("lis_outcome_service_url");
  // Canvas's pre-standard extension carries the same service.
  if (outcome_url.empty()) outcome_url = v.Param("ext_ims_lis_basic_outcome_url");
  std::string sourcedid = v.Param("lis_result_sourcedid");
  if (!outcome_url.empty() && !sourcedid.empty()) l.basic_outcome = lti::BasicOutcome{outcome_url, sourcedid};
  l.created_at = now;
  return l;
}

std::string ConsumerKeySign(std::string_view secret, std::string_view consumer_key, std::string_view deployment_id,
                            std::string_view issuer, std::string_view client_id, int64_t exp, std::string_view nonce) {
  std::string msg;
  msg.append(consumer_key).append("&").append(deployment_id).append("&").append(issuer).append("&");
  msg.append(client_id).append("&").append(std::to_string(exp)).append("&").append(nonce);
  return Base64Encode(jose::HmacSha256(secret, msg));
}

bool VerifyConsumerKeySign(std::string_view signature, std::string_view secret, std::string_view consumer_key,
                           std::string_view deployment_id, std::string_view issuer, std::string_view client_id,
                           int64_t exp, std::string_view nonce) {
  if (signature.empty() || secret.empty()) return false;
  return ConstantTimeEquals(ConsumerKeySign(secret, consumer_key, deployment_id, issuer, client_id, exp, nonce),
                            signature);
}

}  // namespace gb::lti11
