// Launch mutations: the simulator as a negative-test generator. A launch may carry a list of
// mutations (`/sim/launch?...&mutate=no_kid,expired`); they are applied, in order, when the
// id_token is built. Each is documented in docs/simulator.md and in kMutations below, with whether
// a correct tool must accept (`valid`) or reject the resulting launch.
#pragma once

#include <span>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace gb::sim {

enum class Mutation {
  // JOSE header and signature
  kNoKid,
  kUnknownKid,
  kWrongKidKey,
  kBadSignature,
  kAlgNone,
  kAlgHs256,
  kAlgRs512,
  // iss / aud / azp
  kWrongIss,
  kWrongAud,
  kAudArrayWithAzp,
  kAudArrayNoAzp,
  kAzpMismatch,
  // time
  kExpired,
  kNoExp,
  kNoIat,
  kIatFuture,
  kExpString,
  kClockSkewSmall,
  // nonce
  kNoNonce,
  kWrongNonce,
  // LTI claims
  kNoVersion,
  kWrongVersion,
  kNoMessageType,
  kUnknownMessageType,
  kNoDeploymentId,
  kUnknownDeploymentId,
  kNoRoles,
  kEmptyRoles,
  kShortRoles,
  kUnknownRole,
  kNoResourceLink,
  kNoResourceLinkId,
  kNoSub,
  kNoTargetLinkUri,
  kNoContext,
  kNoPii,
  kEmailOnly,
  kNamesOnly,
  kUnknownClaims,
};

struct MutationInfo {
  Mutation mutation;
  std::string_view name;
  // True when a correct tool must still accept the launch (certification "valid" payloads).
  bool valid;
  std::string_view description;
};

// Every mutation, in declaration order.
std::span<const MutationInfo> AllMutations();
const MutationInfo& InfoFor(Mutation m);

// Parses a comma-separated list ("no_kid, expired"); empty items are ignored. An unknown name is
// kInvalidArgument with reason "sim.unknown_mutation" naming it.
Result<std::vector<Mutation>> ParseMutations(std::string_view csv);

// "no_kid,expired"
std::string JoinMutations(const std::vector<Mutation>& mutations);

}  // namespace gb::sim
