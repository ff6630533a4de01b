// Compact JWS (RFC 7515 §7.1) parsing, RS256 verification and signing.
//
// Parsing is strict and total: exactly three segments, each unpadded base64url (the third may be
// empty so that "alg":"none" tokens parse and are then refused by VerifyRs256 with a precise
// reason), header and payload JSON objects. No input throws or crashes.
//
// Verification never lets the token choose anything: the algorithm is pinned to RS256 and the key
// comes from the caller. A header carrying "crit" is refused (RFC 7515 §4.1.11: a recipient MUST
// reject extensions it does not understand, and we understand none).

#include <nlohmann/json.hpp>
#include <utility>

#include "base/strings.h"
#include "jose/jose.h"
#include "jose/strict_json.h"

namespace gb::jose {
namespace {

using json = nlohmann::json;

Status Malformed(std::string message) {
  return Error(Code::kInvalidArgument, "jwt.malformed", std::move(message));
}

// Decodes one base64url segment and parses it as a JSON object.
Result<std::shared_ptr<const json>> DecodeObject(std::string_view segment, const char* what) {
  auto bytes = Base64UrlDecode(segment);
  if (!bytes) return Malformed(std::string("The JWT ") + what + " is not unpadded base64url.");
  json value = internal::ParseStrictJson(*bytes);
  if (value.is_discarded() || !value.is_object()) {
    return Malformed(std::string("The JWT ") + what + " is not a JSON object.");
  }
  return std::make_shared<const json>(std::move(value));
}

// Header members SignJwt refuses: jku/jwk/x5u/x5c let a token point at its own verification key
// (LTI SEC §5.4 says not to send them), and crit would make our own verifier refuse the token.
constexpr const char* kRefusedHeaderMembers[] = {"jku", "jwk", "x5u", "x5c", "crit"};

}  // namespace

Result<CompactJws> ParseCompact(std::string_view token, size_t max_bytes) {
  if (token.size() > max_bytes) {
    return Error(Code::kPayloadTooLarge, "jwt.too_large",
                 "The JWT is larger than " + std::to_string(max_bytes) + " bytes.");
  }
  const size_t dot1 = token.find('.');
  const size_t dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    return Malformed("The JWT does not have exactly three dot-separated segments.");
  }
  std::string_view header_b64 = token.substr(0, dot1);
  std::string_view payload_b64 = token.substr(dot1 + 1, dot2 - dot1 - 1);
  std::string_view signature_b64 = token.substr(dot2 + 1);

  CompactJws out;
  GB_ASSIGN_OR_RETURN(out.header, DecodeObject(header_b64, "header"));
  GB_ASSIGN_OR_RETURN(out.payload, DecodeObject(payload_b64, "payload"));
  auto signature = Base64UrlDecode(signature_b64);
  if (!signature) return Malformed("The JWT signature is not unpadded base64url.");
  out.header_b64.assign(header_b64);
  out.payload_b64.assign(payload_b64);
  out.signature = std::move(*signature);
  return out;
}

Status VerifyRs256(const CompactJws& jws, const RsaPublicKey& key) {
  const json* header = jws.header.get();
  const json* alg = nullptr;
  if (header != nullptr && header->is_object()) {
    auto it = header->find("alg");
    if (it != header->end()) alg = &*it;
  }
  if (alg == nullptr || !alg->is_string() || alg->get_ref<const std::string&>() != "RS256") {
    return Error(Code::kUnauthenticated, "jwt.bad_alg", "The JWT is not signed with RS256.");
  }
  if (header->contains("crit")) {
    return Error(Code::kUnauthenticated, "jwt.unsupported_crit",
                 "The JWT header lists critical extensions (\"crit\"), which are not supported.");
  }
  if (!key.VerifyRs256(jws.SigningInput(), jws.signature)) {
    return Error(Code::kUnauthenticated, "jwt.bad_signature", "The JWT signature does not verify.");
  }
  return Status::Ok();
}

Result<std::string> SignJwt(const json& claims, const RsaPrivateKey& key, std::string_view kid) {
  return SignJwt(claims, key, kid, json::object());
}

Result<std::string> SignJwt(const json& claims, const RsaPrivateKey& key, std::string_view kid,
                            const json& extra_header) {
  if (!claims.is_object()) {
    return Error(Code::kInvalidArgument, "jwt.invalid_claims", "JWT claims must be a JSON object.");
  }
  if (!extra_header.is_object() && !extra_header.is_null()) {
    return Error(Code::kInvalidArgument, "jwt.invalid_header",
                 "Extra JWT header members must be a JSON object.");
  }
  if (!key.valid()) {
    return Error(Code::kFailedPrecondition, "key.invalid", "No signing key is loaded.");
  }
  json header = {{"typ", "JWT"}};
  if (extra_header.is_object()) {
    for (const char* name : kRefusedHeaderMembers) {
      if (extra_header.contains(name)) {
        return Error(Code::kInvalidArgument, "jwt.invalid_header",
                     std::string("The JWT header member \"") + name + "\" is not allowed.");
      }
    }
    header.update(extra_header);
  }
  header["alg"] = "RS256";
  header["kid"] = std::string(kid);

  std::string header_text, claims_text;
  try {
    // Strict UTF-8: a claim with invalid UTF-8 is the caller's bug and must not be signed silently
    // altered.
    header_text = header.dump();
    claims_text = claims.dump();
  } catch (const json::exception&) {
    return Error(Code::kInvalidArgument, "jwt.invalid_claims",
                 "The JWT header or claims contain invalid UTF-8.");
  }
  std::string signing_input = Base64UrlEncode(header_text) + "." + Base64UrlEncode(claims_text);
  GB_ASSIGN_OR_RETURN(std::string signature, key.SignRs256(signing_input));
  return signing_input + "." + Base64UrlEncode(signature);
}

}  // namespace gb::jose
