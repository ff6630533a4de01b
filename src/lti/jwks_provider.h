// JwksProvider: finds a platform's verification key by kid. The production implementation
// (JwksCache) fetches the registration's JWKS URL over HttpClient and caches it.
#pragma once

#include <string_view>

#include "base/status.h"
#include "jose/jose.h"
#include "lti/registration.h"

namespace gb::lti {

class JwksProvider {
 public:
  virtual ~JwksProvider() = default;
  // kNotFound "jwks.unknown_kid" when the platform's key set has no usable key with that kid (after
  // the refetch the implementation allows), kUnavailable "jwks.fetch_failed" when the key set could
  // not be fetched at all.
  virtual Result<jose::RsaPublicKey> FindKey(const Registration& registration, std::string_view kid) = 0;
};

}  // namespace gb::lti
