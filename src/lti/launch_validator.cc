#include "lti/launch_validator.h"

#include <cmath>

#include "base/strings.h"
#include "jose/jose.h"
#include "lti/claims.h"

namespace gb::lti {
namespace {

using nlohmann::json;

Status Reject(Code code, const char* reason, std::string message) {
  return Error(code, reason, std::move(message));
}
Status Unauth(const char* reason, std::string message) {
  return Reject(Code::kUnauthenticated, reason, std::move(message));
}
Status Bad(const char* reason, std::string message) {
  return Reject(Code::kInvalidArgument, reason, std::move(message));
}

// A JSON NumericDate: an integer, or a finite double with no fractional surprise beyond rounding.
std::optional<int64_t> NumericDate(const json& claims, const char* key) {
  auto it = claims.find(key);
  if (it == claims.end()) return std::nullopt;
  if (it->is_number_integer()) return it->get<int64_t>();
  if (it->is_number_float()) {
    double d = it->get<double>();
    if (!std::isfinite(d) || std::fabs(d) > 1e15) return std::nullopt;
    return static_cast<int64_t>(std::floor(d));
  }
  return std::nullopt;
}

const std::string* StringClaim(const json& claims, const char* key) {
  auto it = claims.find(key);
  if (it == claims.end() || !it->is_string()) return nullptr;
  return it->get_ptr<const std::string*>();
}

Status CheckState(const LaunchInput& in) {
  if (in.state.empty()) return Bad("launch.missing_state", "The launch carries no state parameter.");
  if (!in.state_cookie) {
    if (!in.any_state_cookie) {
      return Unauth("launch.no_session",
                    "The browser did not send this launch's session cookie. The launch may have been "
                    "opened in another browser, or third-party cookies are blocked in the LMS frame.");
    }
    return Unauth("launch.state_mismatch", "The state does not match this browser's login.");
  }
  return Status::Ok();
}

Status CheckAudience(const json& c, const std::string& client_id) {
  auto aud = c.find("aud");
  std::vector<std::string> auds;
  if (aud != c.end() && aud->is_string()) {
    auds.push_back(aud->get<std::string>());
  } else if (aud != c.end() && aud->is_array()) {
    for (const auto& a : *aud) {
      if (!a.is_string()) return Unauth("launch.wrong_audience", "The aud claim contains a non-string value.");
      auds.push_back(a.get<std::string>());
    }
  }
  bool has_client = std::find(auds.begin(), auds.end(), client_id) != auds.end();
  if (!has_client) {
    return Unauth("launch.wrong_audience", "The id_token's audience (aud) does not include this tool's client_id.");
  }
  const std::string* azp = StringClaim(c, "azp");
  if (auds.size() > 1 && !azp) {
    return Unauth("launch.missing_azp", "The id_token has several audiences but no authorized party (azp).");
  }
  if (c.contains("azp") && (!azp || *azp != client_id)) {
    return Unauth("launch.azp_mismatch", "The id_token's authorized party (azp) is not this tool's client_id.");
  }
  return Status::Ok();
}

Status CheckTimes(const json& c, int64_t now, int64_t leeway) {
  auto exp = NumericDate(c, "exp");
  if (!exp) return Unauth("launch.missing_exp", "The id_token has no numeric expiry (exp).");
  if (now >= *exp + leeway) return Unauth("launch.expired", "The id_token has expired.");
  auto iat = NumericDate(c, "iat");
  if (!iat) return Unauth("launch.missing_iat", "The id_token has no numeric issue time (iat).");
  if (*iat > now + leeway) {
    return Unauth("launch.iat_in_future",
                  "The id_token was issued in the future; the platform's or this server's clock is wrong.");
  }
  if (*exp <= *iat) return Unauth("launch.bad_timestamps", "The id_token expires before it was issued.");
  return Status::Ok();
}

}  // namespace

LaunchValidator::LaunchValidator(RegistrationStore& registrations, NonceStore& nonces, JwksProvider& keys,
                                 const LoginStateCodec& codec, Clock& clock, ValidatorSettings settings)
    : registrations_(registrations), nonces_(nonces), keys_(keys), codec_(codec), clock_(clock), settings_(settings) {}

Result<VerifiedIdToken> LaunchValidator::Validate(const LaunchInput& in) {
  const int64_t now = clock_.NowSeconds();
  const int64_t leeway = settings_.leeway.count();

  // 1. State bound to this browser.
  GB_RETURN_IF_ERROR(CheckState(in));
  GB_ASSIGN_OR_RETURN(LoginState login, codec_.Open(*in.state_cookie, now));
  if (!ConstantTimeEquals(login.state, in.state)) {
    return Unauth("launch.state_mismatch", "The state does not match this browser's login.");
  }
  auto reg = registrations_.GetRegistration(RegistrationId(login.registration_id));
  if (!reg.ok()) {
    return Unauth("launch.state_mismatch", "The registration this login started for no longer exists.");
  }

  // 2. Token size and shape.
  if (in.id_token.empty()) return Bad("launch.missing_id_token", "The launch carries no id_token.");
  if (in.id_token.size() > settings_.max_token_bytes) {
    return Reject(Code::kPayloadTooLarge, "launch.token_too_large",
                  "The id_token is larger than " + std::to_string(settings_.max_token_bytes) + " bytes.");
  }
  auto jws = jose::ParseCompact(in.id_token, settings_.max_token_bytes);
  if (!jws.ok()) {
    return Bad("launch.malformed_jwt", "The id_token is not a well-formed compact JWT: " + jws.status().message());
  }
  const json& header = *jws->header;
  const json& c = *jws->payload;

  // 3. Algorithm: pinned, never chosen by the token.
  auto alg = header.find("alg");
  if (alg == header.end() || !alg->is_string() || *alg != "RS256") {
    return Unauth("launch.bad_alg", "The id_token must be signed with RS256.");
  }
  // 4–5. Key id and key lookup.
  auto kid_it = header.find("kid");
  if (kid_it == header.end() || !kid_it->is_string() || kid_it->get<std::string>().empty()) {
    return Unauth("launch.missing_kid", "The id_token header has no key id (kid).");
  }
  std::string kid = kid_it->get<std::string>();
  auto key = keys_.FindKey(*reg, kid);
  if (!key.ok()) {
    if (key.status().code() == Code::kNotFound) {
      return Unauth("launch.unknown_kid", "The platform's key set has no key with the id_token's kid.");
    }
    return Reject(Code::kUnavailable, "launch.jwks_unavailable", key.status().message());
  }
  // 6. Signature.
  if (!key->VerifyRs256(jws->SigningInput(), jws->signature)) {
    return Unauth("launch.bad_signature", "The id_token's signature does not verify with the platform's key.");
  }
  // 7. Issuer: byte-exact.
  const std::string* iss = StringClaim(c, "iss");
  if (!iss || *iss != reg->issuer) {
    return Unauth("launch.wrong_issuer", "The id_token's issuer does not match the registered platform.");
  }
  // 8–9. Audience and authorized party.
  GB_RETURN_IF_ERROR(CheckAudience(c, reg->client_id));
  // 10. Timestamps.
  GB_RETURN_IF_ERROR(CheckTimes(c, now, leeway));
  // 11. Nonce: equal to the one issued at login, then consumed atomically (replay protection).
  const std::string* nonce = StringClaim(c, "nonce");
  if (!nonce || nonce->empty()) return Unauth("launch.missing_nonce", "The id_token has no nonce.");
  if (!ConstantTimeEquals(*nonce, login.nonce)) {
    return Unauth("launch.nonce_mismatch", "The id_token's nonce is not the one issued at login.");
  }
  int64_t nonce_expiry = std::max(login.expires_at, NumericDate(c, "exp").value_or(now)) + leeway;
  Status consumed = nonces_.ConsumeNonce("id_token:" + reg->id.str(), *nonce, nonce_expiry);
  if (!consumed.ok()) {
    if (consumed.code() == Code::kConflict) {
      return Unauth("launch.nonce_replayed", "This launch was already used; launches cannot be replayed.");
    }
    return consumed;
  }
  // 12. Deployment.
  const std::string* deployment = StringClaim(c, kClaimDeploymentId);
  if (!deployment || deployment->empty()) {
    return Bad("launch.missing_deployment_id", "The id_token has no deployment_id claim.");
  }
  if (!reg->HasDeployment(*deployment)) {
    return Reject(Code::kPermissionDenied, "launch.unknown_deployment",
                  "Deployment \"" + *deployment + "\" is not registered for this platform.");
  }
  if (!login.login_deployment_id.empty() && login.login_deployment_id != *deployment) {
    return Reject(Code::kPermissionDenied, "launch.deployment_mismatch",
                  "The deployment_id differs from the one sent at login.");
  }
  // 13. Message type.
  const std::string* type = StringClaim(c, kClaimMessageType);
  if (!type || type->empty()) return Bad("launch.missing_message_type", "The id_token has no message_type claim.");
  if (*type != kMsgResourceLink && *type != kMsgDeepLinkingRequest && *type != kMsgSubmissionReview) {
    return Reject(Code::kUnsupported, "launch.unsupported_message_type",
                  "Message type \"" + *type + "\" is not supported by this tool.");
  }
  // 14. Version.
  const std::string* version = StringClaim(c, kClaimVersion);
  if (!version) return Bad("launch.missing_version", "The id_token has no LTI version claim.");
  if (*version != kLtiVersion) {
    return Bad("launch.wrong_version", "The LTI version is \"" + *version + "\"; this tool speaks 1.3.0.");
  }
  // 15. User.
  const std::string* sub = StringClaim(c, "sub");
  if ((!sub || sub->empty()) && !settings_.allow_anonymous) {
    return Bad("launch.missing_sub", "The id_token identifies no user (sub); anonymous launches are not enabled.");
  }
  // 16. Target link URI: present, and the one the login asked for.
  const std::string* target = StringClaim(c, kClaimTargetLinkUri);
  if (!target || target->empty()) {
    return Bad("launch.missing_target_link_uri", "The id_token has no target_link_uri claim.");
  }
  if (*target != login.target_link_uri) {
    return Bad("launch.target_link_uri_mismatch", "The signed target_link_uri differs from the login request's.");
  }
  // 17. Message-specific claims.
  auto roles = c.find(kClaimRoles);
  if (roles == c.end() || !roles->is_array()) {
    return Bad("launch.missing_roles", "The id_token has no roles claim (an empty list is allowed, a missing one is not).");
  }
  if (*type == kMsgResourceLink || *type == kMsgSubmissionReview) {
    auto rl = c.find(kClaimResourceLink);
    if (rl == c.end() || !rl->is_object()) {
      return Bad("launch.missing_resource_link", "The resource-link launch has no resource_link claim.");
    }
    auto id = rl->find("id");
    if (id == rl->end() || !id->is_string() || id->get<std::string>().empty()) {
      return Bad("launch.missing_resource_link_id", "The resource_link claim has no id.");
    }
  }
  if (*type == kMsgSubmissionReview) {
    // The learner whose work is reviewed (lti-digest §9.1); without it the tool cannot tell
    // whose submission to open.
    auto for_user = c.find(kClaimForUser);
    const bool has_user = for_user != c.end() && for_user->is_object() && for_user->contains("user_id") &&
                          (*for_user)["user_id"].is_string() && !(*for_user)["user_id"].get<std::string>().empty();
    if (!has_user) {
      return Bad("launch.missing_for_user", "The submission review launch does not say whose submission (for_user).");
    }
  }
  if (*type == kMsgDeepLinkingRequest) {
    auto dl = c.find(kClaimDlSettings);
    if (dl == c.end() || !dl->is_object() || !dl->contains("deep_link_return_url")) {
      return Bad("launch.missing_deep_linking_settings", "The deep-linking request has no deep_linking_settings.");
    }
  }
  return VerifiedIdToken(jws->payload, std::move(*reg), std::move(kid));
}

}  // namespace gb::lti
