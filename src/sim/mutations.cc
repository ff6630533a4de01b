#include "sim/mutations.h"

#include <array>
#include <string>

#include "base/strings.h"

namespace gb::sim {
namespace {

constexpr std::array kTable = {
    MutationInfo{Mutation::kNoKid, "no_kid", false, "JWS header without kid"},
    MutationInfo{Mutation::kUnknownKid, "unknown_kid", false, "kid not in the platform JWKS"},
    MutationInfo{Mutation::kWrongKidKey, "wrong_kid_key", false,
                 "kid of the second (published, unused) key, signature by the first"},
    MutationInfo{Mutation::kBadSignature, "bad_signature", false, "one signature byte flipped"},
    MutationInfo{Mutation::kAlgNone, "alg_none", false, "header alg \"none\", empty signature"},
    MutationInfo{Mutation::kAlgHs256, "alg_hs256", false,
                 "HS256 with the platform public key PEM as HMAC secret (key confusion)"},
    MutationInfo{Mutation::kAlgRs512, "alg_rs512", false,
                 "header alg RS512 (signature bytes are RS256, so only an alg check catches it)"},
    MutationInfo{Mutation::kWrongIss, "wrong_iss", false, "iss of another platform"},
    MutationInfo{Mutation::kWrongAud, "wrong_aud", false, "aud is another client_id"},
    MutationInfo{Mutation::kAudArrayWithAzp, "aud_array_with_azp", true,
                 "aud [client_id, \"other-audience\"] with azp = client_id"},
    MutationInfo{Mutation::kAudArrayNoAzp, "aud_array_no_azp", false,
                 "aud [client_id, \"other-audience\"] without azp"},
    MutationInfo{Mutation::kAzpMismatch, "azp_mismatch", false, "azp names another client"},
    MutationInfo{Mutation::kExpired, "expired", false, "exp 5 minutes in the past"},
    MutationInfo{Mutation::kNoExp, "no_exp", false, "exp claim removed"},
    MutationInfo{Mutation::kNoIat, "no_iat", false, "iat claim removed"},
    MutationInfo{Mutation::kIatFuture, "iat_future", false, "iat 10 minutes in the future"},
    MutationInfo{Mutation::kExpString, "exp_string", false, "exp as a JSON string"},
    MutationInfo{Mutation::kClockSkewSmall, "clock_skew_small", true,
                 "iat 20 s in the future (a platform clock slightly ahead)"},
    MutationInfo{Mutation::kNoNonce, "no_nonce", false, "nonce claim removed"},
    MutationInfo{Mutation::kWrongNonce, "wrong_nonce", false, "nonce differs from the request's"},
    MutationInfo{Mutation::kNoVersion, "no_version", false, "version claim removed"},
    MutationInfo{Mutation::kWrongVersion, "wrong_version", false, "version \"1.1.0\""},
    MutationInfo{Mutation::kNoMessageType, "no_message_type", false, "message_type claim removed"},
    MutationInfo{Mutation::kUnknownMessageType, "unknown_message_type", false,
                 "message_type \"LtiUnknownMessageRequest\""},
    MutationInfo{Mutation::kNoDeploymentId, "no_deployment_id", false, "deployment_id claim removed"},
    MutationInfo{Mutation::kUnknownDeploymentId, "unknown_deployment_id", false,
                 "deployment_id the tool was never given"},
    MutationInfo{Mutation::kNoRoles, "no_roles", false, "roles claim removed"},
    MutationInfo{Mutation::kEmptyRoles, "empty_roles", true, "roles []"},
    MutationInfo{Mutation::kShortRoles, "short_roles", true,
                 "roles as short names (\"Instructor\" / \"Learner\")"},
    MutationInfo{Mutation::kUnknownRole, "unknown_role", true,
                 "an unknown role URI added to the real ones"},
    MutationInfo{Mutation::kNoResourceLink, "no_resource_link", false, "resource_link claim removed"},
    MutationInfo{Mutation::kNoResourceLinkId, "no_resource_link_id", false,
                 "resource_link without id"},
    MutationInfo{Mutation::kNoSub, "no_sub", false, "sub claim removed"},
    MutationInfo{Mutation::kNoTargetLinkUri, "no_target_link_uri", false,
                 "target_link_uri claim removed"},
    MutationInfo{Mutation::kNoContext, "no_context", true,
                 "context claim (and the context-bound AGS/NRPS claims) removed"},
    MutationInfo{Mutation::kNoPii, "no_pii", true, "no name, given/family name, email or picture"},
    MutationInfo{Mutation::kEmailOnly, "email_only", true, "email but no names"},
    MutationInfo{Mutation::kNamesOnly, "names_only", true, "names but no email"},
    MutationInfo{Mutation::kUnknownClaims, "unknown_claims", true,
                 "extra unknown claims (top level and inside context)"},
};

}  // namespace

std::span<const MutationInfo> AllMutations() { return kTable; }

const MutationInfo& InfoFor(Mutation m) {
  for (const auto& info : kTable) {
    if (info.mutation == m) return info;
  }
  return kTable[0];  // unreachable: the table covers the enum
}

Result<std::vector<Mutation>> ParseMutations(std::string_view csv) {
  std::vector<Mutation> out;
  for (std::string_view item : Split(csv, ',')) {
    item = Trim(item);
    if (item.empty()) continue;
    bool found = false;
    for (const auto& info : kTable) {
      if (info.name == item) {
        out.push_back(info.mutation);
        found = true;
        break;
      }
    }
    if (!found) {
      return Error(Code::kInvalidArgument, "sim.unknown_mutation",
                   "Unknown mutation \"" + std::string(item) + "\"");
    }
  }
  return out;
}

std::string JoinMutations(const std::vector<Mutation>& mutations) {
  std::string out;
  for (Mutation m : mutations) {
    if (!out.empty()) out += ',';
    out += InfoFor(m).name;
  }
  return out;
}

}  // namespace gb::sim
