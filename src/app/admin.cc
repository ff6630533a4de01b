#include "app/admin.h"

#include <algorithm>

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

// Validates each host and drops repeats, keeping the first occurrence's position.
Result<std::vector<std::string>> CheckServiceHosts(const std::vector<std::string>& hosts) {
  std::vector<std::string> out;
  for (const std::string& h : hosts) {
    GB_RETURN_IF_ERROR(lti::ValidateServiceHost(h));
    if (std::find(out.begin(), out.end(), h) == out.end()) out.push_back(h);
  }
  return out;
}

}  // namespace

bool RegistrationChanges::Empty() const {
  return !target_url && !token_audience && !service_hosts && add_service_hosts.empty() &&
         remove_service_hosts.empty() && add_deployment_ids.empty() && remove_deployment_ids.empty() &&
         !final_grades_only && !send_comments && !allow_extra_credit;
}

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
  GB_ASSIGN_OR_RETURN(reg.service_hosts, CheckServiceHosts(in.service_hosts));
  reg.final_grades_only = in.final_grades_only;
  reg.send_comments = in.send_comments;
  reg.allow_extra_credit = in.allow_extra_credit;
  GB_RETURN_IF_ERROR(store.AddRegistration(reg));
  return reg;
}

Result<lti::Registration> UpdateRegistration(SqliteStore& store, const lti::RegistrationId& id,
                                             const RegistrationChanges& changes, bool dev_mode) {
  if (changes.Empty()) {
    return Invalid("registration.nothing_to_update", "Nothing to change: give at least one option (see --help).");
  }
  if (changes.service_hosts && (!changes.add_service_hosts.empty() || !changes.remove_service_hosts.empty())) {
    return Invalid("registration.bad_service_host",
                   "--service-host replaces the list; use it without --add-service-host/--remove-service-host.");
  }
  GB_ASSIGN_OR_RETURN(lti::Registration reg, store.GetRegistration(id));
  if (changes.target_url) {
    if (!changes.target_url->empty()) GB_RETURN_IF_ERROR(CheckUrl("target-url", *changes.target_url, dev_mode, true));
    reg.target_url = *changes.target_url;
  }
  if (changes.token_audience) reg.token_audience = *changes.token_audience;
  if (changes.service_hosts) reg.service_hosts = *changes.service_hosts;
  for (const std::string& h : changes.add_service_hosts) reg.service_hosts.push_back(h);
  for (const std::string& h : changes.remove_service_hosts) {
    auto it = std::find(reg.service_hosts.begin(), reg.service_hosts.end(), h);
    if (it == reg.service_hosts.end()) {
      return Invalid("registration.unknown_service_host",
                     "--remove-service-host: \"" + h + "\" is not a service host of registration " + id.str() + ".");
    }
    reg.service_hosts.erase(it);
  }
  GB_ASSIGN_OR_RETURN(reg.service_hosts, CheckServiceHosts(reg.service_hosts));
  for (const std::string& d : changes.add_deployment_ids) {
    if (d.empty()) return Invalid("registration.bad_deployment", "--add-deployment-id must not be empty.");
    if (!reg.HasDeployment(d)) reg.deployment_ids.push_back(d);
  }
  for (const std::string& d : changes.remove_deployment_ids) {
    auto it = std::find(reg.deployment_ids.begin(), reg.deployment_ids.end(), d);
    if (it == reg.deployment_ids.end()) {
      return Invalid("registration.unknown_deployment",
                     "--remove-deployment-id: \"" + d + "\" is not a deployment of registration " + id.str() + ".");
    }
    reg.deployment_ids.erase(it);
  }
  if (reg.deployment_ids.empty()) {
    return Invalid("registration.no_deployment", "A registration needs at least one deployment id.");
  }
  if (changes.final_grades_only) reg.final_grades_only = *changes.final_grades_only;
  if (changes.send_comments) reg.send_comments = *changes.send_comments;
  if (changes.allow_extra_credit) reg.allow_extra_credit = *changes.allow_extra_credit;
  GB_RETURN_IF_ERROR(store.UpdateRegistration(reg));
  return reg;
}

}  // namespace gb::app
