#include "app/admin.h"

#include "base/clock.h"
#include "base/random.h"
#include "base/strings.h"
#include "base/url.h"
#include "jose/jose.h"

namespace gb::app {
namespace {

Status Invalid(const std::string& reason, const std::string& message) {
  return Error(Code::kInvalidArgument, reason, message);
}

Status CheckUrl(const std::string& name, const std::string& value, bool dev_mode, bool allow_query) {
  if (value.empty()) return Invalid("registration.missing_" + name, "--" + name + " is required.");
  auto url = Url::Parse(value);
  if (!url.ok()) return Invalid("registration.bad_" + name, "--" + name + ": " + url.status().message());
  if (url->scheme != "https" && !dev_mode) {
    return Invalid("registration.insecure_" + name, "--" + name + " must be https:// (dev_mode allows http).");
  }
  if (!allow_query && (!url->query.empty() || !url->fragment.empty())) {
    return Invalid("registration.bad_" + name, "--" + name + " must not have a query or fragment.");
  }
  return Status::Ok();
}

}  // namespace

Result<NewTenant> AddTenant(SqliteStore& store, const std::string& name) {
  if (name.empty() || name.size() > 64 || name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789._-") != std::string::npos) {
    return Invalid("tenant.bad_name", "Tenant names are 1-64 characters of a-z, 0-9, '.', '_' and '-'.");
  }
  Random& random = SecureRandom::Instance();
  NewTenant out;
  out.api_key = "gbk_" + random.Token(32);
  out.tenant.id = lti::TenantId("t_" + random.Hex(8));
  out.tenant.name = name;
  out.tenant.api_key_hash = HashSecret(out.api_key);
  out.tenant.created_at = SystemClock::Instance().NowSeconds();
  GB_RETURN_IF_ERROR(store.AddTenant(out.tenant));
  return out;
}

std::string HashSecret(std::string_view secret) { return HexEncode(jose::Sha256(secret)); }

Result<NewPassbackKey> AddPassbackKey(SqliteStore& store, const std::string& tenant_name) {
  GB_ASSIGN_OR_RETURN(lti::Tenant tenant, store.FindTenantByName(tenant_name));
  Random& random = SecureRandom::Instance();
  NewPassbackKey out;
  // Hex for the id: it is the HTTP Basic user name and must never contain ':'.
  out.key.id = "gbpk_" + random.Hex(12);
  out.secret = "gbps_" + random.Token(32);
  out.key.tenant_id = tenant.id;
  out.key.secret_hash = HashSecret(out.secret);
  out.key.created_at = SystemClock::Instance().NowSeconds();
  GB_RETURN_IF_ERROR(store.AddPassbackKey(out.key));
  return out;
}

Result<lti::Registration> AddRegistration(SqliteStore& store, const RegistrationInput& in, bool dev_mode) {
  GB_ASSIGN_OR_RETURN(lti::Tenant tenant, store.FindTenantByName(in.tenant));
  GB_RETURN_IF_ERROR(CheckUrl("issuer", in.issuer, dev_mode, false));
  if (in.client_id.empty()) return Invalid("registration.missing_client_id", "--client-id is required.");
  if (in.deployment_ids.empty()) {
    return Invalid("registration.missing_deployment_id", "At least one --deployment-id is required.");
  }
  for (const auto& d : in.deployment_ids) {
    if (d.empty() || d.size() > 255) return Invalid("registration.bad_deployment_id", "Deployment ids are 1-255 characters.");
  }
  GB_RETURN_IF_ERROR(CheckUrl("auth-url", in.auth_url, dev_mode, true));
  GB_RETURN_IF_ERROR(CheckUrl("token-url", in.token_url, dev_mode, true));
  GB_RETURN_IF_ERROR(CheckUrl("jwks-url", in.jwks_url, dev_mode, true));
  if (!in.target_url.empty()) GB_RETURN_IF_ERROR(CheckUrl("target-url", in.target_url, dev_mode, true));
  auto family = lti::ParseFamily(in.family);
  if (!family) {
    return Invalid("registration.bad_family",
                   "--family must be one of canvas, moodle, brightspace, blackboard, sakai, generic.");
  }
  lti::Registration reg;
  reg.id = lti::RegistrationId("r_" + SecureRandom::Instance().Hex(8));
  reg.tenant_id = tenant.id;
  reg.issuer = in.issuer;
  reg.client_id = in.client_id;
  reg.deployment_ids = in.deployment_ids;
  reg.auth_url = in.auth_url;
  reg.token_url = in.token_url;
  reg.jwks_url = in.jwks_url;
  reg.token_audience = in.token_audience;
  reg.family = *family;
  reg.target_url = in.target_url;
  reg.created_at = SystemClock::Instance().NowSeconds();
  GB_RETURN_IF_ERROR(store.AddRegistration(reg));
  return reg;
}

}  // namespace gb::app
