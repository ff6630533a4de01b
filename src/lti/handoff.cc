#include "lti/handoff.h"

#include "base/strings.h"
#include "base/url.h"
#include "jose/jose.h"

namespace gb::lti {

std::string HashToken(std::string_view token) { return HexEncode(jose::Sha256(token)); }

LaunchHandOff::LaunchHandOff(LaunchStore& launches, Clock& clock, Random& random, std::chrono::seconds token_ttl)
    : launches_(launches), clock_(clock), random_(random), token_ttl_(token_ttl) {}

Result<HandOff> LaunchHandOff::Complete(const VerifiedIdToken& verified) {
  const int64_t now = clock_.NowSeconds();
  return Store(Launch::FromVerified(verified, "L" + random_.Hex(12), now), verified.registration(), now);
}

Result<HandOff> LaunchHandOff::CompleteLaunch(const std::function<Launch(std::string id, int64_t now)>& make,
                                              const Registration& registration) {
  const int64_t now = clock_.NowSeconds();
  return Store(make("L" + random_.Hex(12), now), registration, now);
}

Result<HandOff> LaunchHandOff::Store(Launch launch, const Registration& registration, int64_t now) {
  HandOff out;
  out.launch = std::move(launch);
  // "<launch id>.<secret>": the id lets Redeem check ownership before the token is consumed.
  out.token = out.launch.id + "." + random_.Token(32);
  StoredLaunch stored;
  stored.id = out.launch.id;
  stored.tenant_id = out.launch.tenant_id;
  stored.registration_id = out.launch.registration_id;
  stored.launch_json = out.launch.ToJson().dump();
  stored.token_hash = HashToken(out.token);
  stored.created_at = now;
  stored.token_expires_at = now + token_ttl_.count();
  GB_RETURN_IF_ERROR(launches_.SaveLaunch(stored));
  const std::string& target = registration.target_url;
  if (!target.empty()) {
    auto url = Url::Parse(target);
    if (!url.ok()) return url.status().WithContext("registration target_url");
    out.redirect_url = url->WithQueryParam("launch_token", out.token);
  }
  return out;
}

Result<Launch> LaunchHandOff::Redeem(std::string_view token, const TenantId& caller) {
  if (token.empty() || token.size() > 128) {
    return Error(Code::kNotFound, "launch_token.unknown", "No launch for this token.");
  }
  // Check ownership before consuming the token, so another tenant cannot burn it.
  auto unknown = [] { return Error(Code::kNotFound, "launch_token.unknown", "No launch for this token."); };
  size_t dot = token.find('.');
  if (dot == std::string_view::npos) return unknown();
  auto owner = launches_.GetLaunch(token.substr(0, dot));
  if (!owner.ok() || owner->tenant_id != caller) return unknown();
  GB_ASSIGN_OR_RETURN(StoredLaunch stored, launches_.RedeemLaunchToken(HashToken(token), clock_.NowSeconds()));
  auto json = nlohmann::json::parse(stored.launch_json, nullptr, false);
  return Launch::FromJson(json);
}

}  // namespace gb::lti
