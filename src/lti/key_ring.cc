#include "lti/key_ring.h"

#include <nlohmann/json.hpp>

#include "base/log.h"

namespace gb::lti {

KeyRing::KeyRing(KeyStore& store, std::string data_key, Clock& clock, Random& random)
    : store_(store), data_key_(std::move(data_key)), clock_(clock), random_(random) {}

Result<SigningKey> KeyRing::Generate() {
  GB_ASSIGN_OR_RETURN(auto key, jose::RsaPrivateKey::Generate(2048));
  StoredKey stored;
  stored.kid = jose::Thumbprint(key.PublicKey());
  GB_ASSIGN_OR_RETURN(stored.sealed_private_key, jose::Seal(data_key_, key.ToPem(), stored.kid, random_));
  stored.public_jwk_json = key.PublicKey().ToJwk(stored.kid).dump();
  stored.created_at = clock_.NowSeconds();
  GB_RETURN_IF_ERROR(store_.AddKey(stored));
  LogInfo("keys.generated", {{"kid", stored.kid}});
  return SigningKey{stored.kid, key};
}

Status KeyRing::Load() {
  GB_ASSIGN_OR_RETURN(auto keys, store_.ListKeys());
  const StoredKey* active = nullptr;
  for (const auto& k : keys) {
    if (k.retired_at == 0) {
      active = &k;
      break;
    }
  }
  SigningKey signing;
  if (!active) {
    GB_ASSIGN_OR_RETURN(signing, Generate());
    GB_ASSIGN_OR_RETURN(keys, store_.ListKeys());
  } else {
    auto pem = jose::Open(data_key_, active->sealed_private_key, active->kid);
    if (!pem.ok()) {
      return Error(Code::kFailedPrecondition, "keys.undecryptable",
                   "The tool's signing key cannot be decrypted with this data key file; "
                   "is data_key_file the one this database was created with?");
    }
    GB_ASSIGN_OR_RETURN(auto key, jose::RsaPrivateKey::FromPem(*pem));
    signing = SigningKey{active->kid, key};
  }
  const int64_t now = clock_.NowSeconds();
  nlohmann::json jwks = {{"keys", nlohmann::json::array()}};
  for (const auto& k : keys) {
    if (k.retired_at != 0 && k.publish_until <= now) continue;
    auto jwk = nlohmann::json::parse(k.public_jwk_json, nullptr, false);
    if (jwk.is_object()) jwks["keys"].push_back(jwk);
  }
  std::lock_guard lock(mu_);
  active_ = std::move(signing);
  jwks_json_ = jwks.dump();
  return Status::Ok();
}

Result<SigningKey> KeyRing::Active() const {
  std::lock_guard lock(mu_);
  if (!active_.key.valid()) return Error(Code::kFailedPrecondition, "keys.not_loaded", "Signing keys are not loaded.");
  return active_;
}

std::string KeyRing::PublishedJwksJson() const {
  std::lock_guard lock(mu_);
  return jwks_json_;
}

Result<std::string> KeyRing::Rotate(std::chrono::seconds overlap) {
  GB_ASSIGN_OR_RETURN(auto keys, store_.ListKeys());
  const int64_t now = clock_.NowSeconds();
  GB_ASSIGN_OR_RETURN(SigningKey fresh, Generate());
  for (const auto& k : keys) {
    if (k.retired_at == 0) GB_RETURN_IF_ERROR(store_.RetireKey(k.kid, now, now + overlap.count()));
  }
  GB_RETURN_IF_ERROR(Load());
  return fresh.kid;
}

}  // namespace gb::lti
