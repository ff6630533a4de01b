// JSON Web Key Sets (RFC 7517 §5) as LTI platforms publish them.
//
// Parsing is total: any byte string yields either a Jwks or "jwks.invalid", never a crash or an
// exception. Only the top level is strict (a JSON object with a "keys" array); inside the array,
// every key that is not usable for RS256 verification is skipped, because one exotic or broken key
// must not make the platform's other keys unusable (RFC 7517 §5: "implementations SHOULD ignore
// JWKs within a JWK Set that use 'kty' values that are not understood by them").

#include <nlohmann/json.hpp>
#include <utility>

#include "base/log.h"
#include "jose/jose.h"
#include "jose/strict_json.h"

namespace gb::jose {
namespace {

using json = nlohmann::json;

// A member that must be absent or a string equal to `wanted`.
bool AbsentOrEquals(const json& key, const char* name, std::string_view wanted, std::string* out) {
  auto it = key.find(name);
  if (it == key.end()) return true;
  if (!it->is_string()) return false;
  const std::string& value = it->get_ref<const std::string&>();
  if (value != wanted) return false;
  *out = value;
  return true;
}

// RFC 7517 §4.3: when key_ops is present it must allow "verify".
bool KeyOpsAllowVerify(const json& key) {
  auto it = key.find("key_ops");
  if (it == key.end()) return true;
  if (!it->is_array()) return false;
  for (const json& op : *it) {
    if (op.is_string() && op.get_ref<const std::string&>() == "verify") return true;
  }
  return false;
}

}  // namespace

Result<Jwks> Jwks::Parse(std::string_view text) {
  json doc = internal::ParseStrictJson(text);
  if (doc.is_discarded() || !doc.is_object()) {
    return Error(Code::kInvalidArgument, "jwks.invalid", "The key set is not a JSON object.");
  }
  auto keys = doc.find("keys");
  if (keys == doc.end() || !keys->is_array()) {
    return Error(Code::kInvalidArgument, "jwks.invalid", "The key set has no \"keys\" array.");
  }
  Jwks out;
  for (const json& key : *keys) {
    if (!key.is_object()) continue;
    auto kty = key.find("kty");
    if (kty == key.end() || !kty->is_string() || kty->get_ref<const std::string&>() != "RSA") {
      continue;
    }
    Jwk jwk;
    if (!AbsentOrEquals(key, "use", "sig", &jwk.use)) continue;
    if (!AbsentOrEquals(key, "alg", "RS256", &jwk.alg)) continue;
    if (!KeyOpsAllowVerify(key)) continue;
    auto kid = key.find("kid");
    if (kid != key.end()) {
      if (!kid->is_string()) continue;
      jwk.kid = kid->get<std::string>();
    }
    auto parsed = RsaPublicKey::FromJwk(key);
    if (!parsed.ok()) {
      // Skipped like any unusable key, but this one was meant for RS256 (too small, malformed n/e):
      // say so, or the only symptom would be an "unknown kid" at launch.
      LogWarn("jwks.key_rejected", {{"kid", std::string_view(jwk.kid).substr(0, 80)},
                                    {"detail", parsed.status().message()}});
      continue;
    }
    jwk.key = std::move(parsed).value();
    out.keys_.push_back(std::move(jwk));
  }
  return out;
}

const Jwk* Jwks::Find(std::string_view kid) const {
  // An empty kid never selects a key: callers require one (LTI SEC §6.3), and a key set entry
  // without "kid" must not match a token header that lacks it either.
  if (kid.empty()) return nullptr;
  for (const Jwk& jwk : keys_) {
    if (jwk.kid == kid && jwk.key.valid()) return &jwk;
  }
  return nullptr;
}

std::string Jwks::ToJson() const {
  json keys = json::array();
  for (const Jwk& jwk : keys_) {
    if (jwk.key.valid()) keys.push_back(jwk.key.ToJwk(jwk.kid));
  }
  // `replace` never throws: a kid added by a caller with invalid UTF-8 is rendered with U+FFFD.
  return json{{"keys", std::move(keys)}}.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace gb::jose
