#include "app/lti11_keys.h"

#include "base/clock.h"
#include "base/random.h"
#include "base/url.h"
#include "jose/jose.h"
#include "lti/claims.h"
#include "lti11/launch11.h"

#include <nlohmann/json.hpp>

namespace gb::app {
namespace {

std::string Aad(std::string_view consumer_key) { return "lti11:" + std::string(consumer_key); }

}  // namespace

Result<std::string> SealLti11Secret(const std::string& data_key, const std::string& consumer_key,
                                    const std::string& secret) {
  return jose::Seal(data_key, secret, Aad(consumer_key), SecureRandom::Instance());
}

Result<std::string> OpenLti11Secret(const std::string& data_key, const lti::Lti11Consumer& consumer) {
  return jose::Open(data_key, consumer.sealed_secret, Aad(consumer.consumer_key));
}

Result<NewLti11Key> AddLti11Key(SqliteStore& store, const std::string& data_key, const Lti11KeyInput& in,
                                bool dev_mode) {
  GB_ASSIGN_OR_RETURN(lti::Tenant tenant, store.FindTenantByName(in.tenant));
  Random& random = SecureRandom::Instance();
  const int64_t now = SystemClock::Instance().NowSeconds();
  NewLti11Key out;
  std::string key = in.consumer_key.empty() ? "gb11_" + random.Hex(12) : in.consumer_key;
  if (key.size() > 128) {
    return Error(Code::kInvalidArgument, "lti11_key.bad_key", "Consumer keys are at most 128 characters.");
  }
  for (char c : key) {
    if (c <= ' ' || c > '~') {
      return Error(Code::kInvalidArgument, "lti11_key.bad_key",
                   "Consumer keys are printable ASCII without spaces.");
    }
  }
  if (!in.registration_id.empty()) {
    GB_ASSIGN_OR_RETURN(out.registration, store.GetRegistration(lti::RegistrationId(in.registration_id)));
    if (out.registration.tenant_id != tenant.id) {
      return Error(Code::kInvalidArgument, "lti11_key.bad_owner",
                   "Registration " + in.registration_id + " belongs to another tenant.");
    }
  } else {
    if (in.outcome_hosts.empty()) {
      return Error(Code::kInvalidArgument, "lti11_key.no_outcome_host",
                   "Name the platform's host with --outcome-host (e.g. school.instructure.com): grades are sent "
                   "only to lis_outcome_service_url hosts the registration allows.");
    }
    // AddRegistration insists on 1.3 endpoints, which a 1.1 consumer has none of: build it here
    // with the same checks for what it has.
    for (const auto& h : in.outcome_hosts) GB_RETURN_IF_ERROR(lti::ValidateServiceHost(h));
    auto family = lti::ParseFamily(in.family);
    if (!family) return Error(Code::kInvalidArgument, "registration.bad_family", "Unknown platform family " + in.family + ".");
    if (!in.target_url.empty()) {
      auto url = Url::Parse(in.target_url);
      if (!url.ok() || (url->scheme != "https" && !dev_mode)) {
        return Error(Code::kInvalidArgument, "registration.bad_target-url",
                     "--target-url must be an https:// URL (dev_mode allows http).");
      }
    }
    lti::Registration& r = out.registration;
    r.id = lti::RegistrationId("r_" + random.Hex(8));
    r.tenant_id = tenant.id;
    r.issuer = "lti11:" + key;
    r.client_id = key;
    r.family = *family;
    r.target_url = in.target_url;
    r.service_hosts = in.outcome_hosts;
    r.send_comments = in.send_comments;
    r.created_at = now;
    GB_RETURN_IF_ERROR(store.AddRegistration(r));
    out.created_registration = true;
  }
  if (in.secret.size() > 256) {
    return Error(Code::kInvalidArgument, "lti11_key.bad_secret", "Consumer secrets are at most 256 bytes.");
  }
  out.secret = in.secret.empty() ? random.Token(32) : in.secret;
  out.consumer.consumer_key = key;
  out.consumer.tenant_id = tenant.id;
  out.consumer.registration_id = out.registration.id;
  out.consumer.created_at = now;
  GB_ASSIGN_OR_RETURN(out.consumer.sealed_secret, SealLti11Secret(data_key, key, out.secret));
  Status added = store.AddLti11Consumer(out.consumer);
  if (!added.ok()) {
    if (out.created_registration) (void)store.RemoveRegistration(out.registration.id);
    return added;
  }
  return out;
}

Result<std::string> Lti11SecretFor(lti::Lti11ConsumerStore& store, const std::string& data_key,
                                   std::string_view consumer_key) {
  GB_ASSIGN_OR_RETURN(lti::Lti11Consumer consumer, store.FindLti11Consumer(consumer_key));
  return OpenLti11Secret(data_key, consumer);
}

Result<lti11::ConsumerCredentials> Lti11CredentialsFor(lti::Lti11ConsumerStore& store, const std::string& data_key,
                                                       const lti::Registration& registration) {
  GB_ASSIGN_OR_RETURN(std::vector<lti::Lti11Consumer> all, store.ListLti11Consumers(registration.tenant_id));
  const lti::Lti11Consumer* newest = nullptr;
  for (const auto& c : all) {
    if (c.registration_id == registration.id) newest = &c;  // oldest first: the last one wins
  }
  if (!newest) {
    return Error(Code::kNotFound, "lti11_key.none", "registration " + registration.id.str() + " has no LTI 1.1 key");
  }
  GB_ASSIGN_OR_RETURN(std::string secret, OpenLti11Secret(data_key, *newest));
  return lti11::ConsumerCredentials{newest->consumer_key, std::move(secret)};
}

std::string VerifiedLti1p1UserId(const nlohmann::json& claims, const lti::Registration& registration,
                                 lti::Lti11ConsumerStore& store, const std::string& data_key, std::string* why) {
  auto fail = [&](std::string reason) {
    if (why) *why = std::move(reason);
    return std::string();
  };
  auto str = [](const nlohmann::json& obj, const char* key) {
    auto it = obj.find(key);
    return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  auto claim = claims.find(lti::kClaimLti1p1);
  if (claim == claims.end() || !claim->is_object()) return fail("");
  const std::string user_id = str(*claim, "user_id");
  if (user_id.empty()) return fail("");
  const std::string key = str(*claim, "oauth_consumer_key");
  const std::string sign = str(*claim, "oauth_consumer_key_sign");
  if (key.empty() || sign.empty()) return fail("lti11.migration_unsigned");
  auto consumer = store.FindLti11Consumer(key);
  if (!consumer.ok() || consumer->tenant_id != registration.tenant_id) return fail("lti11.migration_unknown_key");
  auto secret = OpenLti11Secret(data_key, *consumer);
  if (!secret.ok()) return fail("lti11.migration_unknown_key");
  auto exp = claims.find("exp");
  if (exp == claims.end() || !exp->is_number()) return fail("lti11.migration_bad_sign");
  const int64_t exp_value = exp->is_number_integer() ? exp->get<int64_t>() : static_cast<int64_t>(exp->get<double>());
  if (!lti11::VerifyConsumerKeySign(sign, *secret, key, str(claims, lti::kClaimDeploymentId), str(claims, "iss"),
                                    registration.client_id, exp_value, str(claims, "nonce"))) {
    return fail("lti11.migration_bad_sign");
  }
  if (why) why->clear();
  return user_id;
}

}  // namespace gb::app
