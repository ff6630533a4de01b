// KeyRing: the tool's own RS256 signing keys (client assertions, deep-linking responses).
//   - the first start generates a 2048-bit key; private keys are stored sealed with AES-256-GCM
//     under the data key (aad = kid), never in clear;
//   - the newest active key signs; kid is the RFC 7638 thumbprint;
//   - Rotate() makes a new key and retires the old one, which stays published in the JWKS for
//     `overlap` so platforms that cached it can still verify recent signatures.
// Thread-safe; reloads from the store on Load() (the CLI may rotate while a server runs).
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/random.h"
#include "base/status.h"
#include "jose/jose.h"
#include "lti/ports.h"

namespace gb::lti {

struct SigningKey {
  std::string kid;
  jose::RsaPrivateKey key;
};

class KeyRing {
 public:
  KeyRing(KeyStore& store, std::string data_key, Clock& clock, Random& random);

  // Loads keys from the store, generating the first one if there is none.
  Status Load();
  Result<SigningKey> Active() const;
  // {"keys": [...]} with the active key and retired keys still inside their overlap.
  std::string PublishedJwksJson() const;
  // Returns the new key's kid.
  Result<std::string> Rotate(std::chrono::seconds overlap);
  Result<std::vector<StoredKey>> List() { return store_.ListKeys(); }

 private:
  Result<SigningKey> Generate();

  KeyStore& store_;
  std::string data_key_;
  Clock& clock_;
  Random& random_;
  mutable std::mutex mu_;
  SigningKey active_;
  std::string jwks_json_;
};

}  // namespace gb::lti
