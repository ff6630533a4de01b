// JOSE for LTI: RSA keys, JWK/JWKS, compact JWS (RS256 only) and AES-256-GCM sealing for keys at
// rest. OpenSSL and cjose are used only inside the .cc files; nothing here exposes them.
//
// Algorithm policy: RS256 is the only signature algorithm. The verifier is pinned in code and
// never chosen from a token header, so "none", HS256 (key confusion) and others are refused.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "base/random.h"
#include "base/status.h"

namespace gb::jose {

// An RSA public key usable for RS256 verification. Cheap to copy (shared, immutable).
class RsaPublicKey {
 public:
  RsaPublicKey();
  ~RsaPublicKey();
  RsaPublicKey(const RsaPublicKey&);
  RsaPublicKey& operator=(const RsaPublicKey&);

  // From a JWK object with kty=RSA, n, e (base64url big-endian). Rejects moduli under 2048 bits
  // and malformed members with reason "jwk.invalid".
  static Result<RsaPublicKey> FromJwk(const nlohmann::json& jwk);
  static Result<RsaPublicKey> FromPem(std::string_view pem);

  // RSASSA-PKCS1-v1_5 with SHA-256. Thread-safe.
  bool VerifyRs256(std::string_view signing_input, std::string_view signature) const;

  // {"kty":"RSA","n":…,"e":…,"kid":kid,"alg":"RS256","use":"sig"}
  nlohmann::json ToJwk(std::string_view kid) const;
  std::string ToPem() const;
  bool valid() const;

 private:
  struct Impl;
  std::shared_ptr<const Impl> impl_;
  friend class RsaPrivateKey;
};

// An RSA private key for RS256 signing. Cheap to copy (shared, immutable).
class RsaPrivateKey {
 public:
  RsaPrivateKey();
  ~RsaPrivateKey();
  RsaPrivateKey(const RsaPrivateKey&);
  RsaPrivateKey& operator=(const RsaPrivateKey&);

  static Result<RsaPrivateKey> Generate(int bits = 2048);
  static Result<RsaPrivateKey> FromPem(std::string_view pkcs8_pem);
  std::string ToPem() const;  // PKCS#8 PEM, unencrypted: seal it before storing
  RsaPublicKey PublicKey() const;

  // Signature bytes (not encoded). Thread-safe.
  Result<std::string> SignRs256(std::string_view signing_input) const;
  bool valid() const;

 private:
  struct Impl;
  std::shared_ptr<const Impl> impl_;
};

// RFC 7638 JWK thumbprint (base64url SHA-256) of an RSA public key: a stable, content-derived kid.
std::string Thumbprint(const RsaPublicKey& key);

struct Jwk {
  std::string kid;
  std::string alg;  // may be empty
  std::string use;  // may be empty
  RsaPublicKey key;
};

// A JSON Web Key Set. Parsing keeps only RSA keys usable for signatures (use absent or "sig",
// alg absent or "RS256"); other keys are skipped, not errors. Malformed JSON -> "jwks.invalid".
class Jwks {
 public:
  static Result<Jwks> Parse(std::string_view json);
  const Jwk* Find(std::string_view kid) const;
  const std::vector<Jwk>& keys() const { return keys_; }
  void Add(Jwk jwk) { keys_.push_back(std::move(jwk)); }
  std::string ToJson() const;  // {"keys":[...]}

 private:
  std::vector<Jwk> keys_;
};

// A compact JWS split into its parts, with header and payload decoded and parsed as JSON objects.
// Nothing here is verified yet.
struct CompactJws {
  std::string header_b64;
  std::string payload_b64;
  std::string signature;  // decoded bytes
  std::shared_ptr<const nlohmann::json> header;   // always an object
  std::shared_ptr<const nlohmann::json> payload;  // always an object
  std::string SigningInput() const { return header_b64 + "." + payload_b64; }
};

// Splits and decodes. Errors (all kInvalidArgument unless noted):
//   "jwt.too_large" (kPayloadTooLarge) when token.size() > max_bytes,
//   "jwt.malformed" when not exactly three base64url segments or header/payload not JSON objects.
Result<CompactJws> ParseCompact(std::string_view token, size_t max_bytes = 16 * 1024);

// Verifies an RS256 signature: header "alg" must be exactly "RS256" ("jwt.bad_alg" otherwise)
// and the signature must verify with `key` ("jwt.bad_signature", kUnauthenticated).
Status VerifyRs256(const CompactJws& jws, const RsaPublicKey& key);

// Signs `claims` as a compact JWS with header {"alg":"RS256","typ":"JWT","kid":kid}.
Result<std::string> SignJwt(const nlohmann::json& claims, const RsaPrivateKey& key,
                            std::string_view kid);
// Same with extra header members merged in (alg and kid always ours).
Result<std::string> SignJwt(const nlohmann::json& claims, const RsaPrivateKey& key,
                            std::string_view kid, const nlohmann::json& extra_header);

// AES-256-GCM. A sealed blob is: version byte 0x01 | 12-byte nonce | ciphertext | 16-byte tag.
// `aad` is authenticated but not stored (bind a blob to its purpose, e.g. the key's kid).
// Open fails with "crypto.bad_data_key" (kUnauthenticated) on a wrong key or tampered blob.
Result<std::string> Seal(std::string_view key32, std::string_view plaintext, std::string_view aad,
                         Random& random);
Result<std::string> Open(std::string_view key32, std::string_view sealed, std::string_view aad);

// HMAC-SHA256 and SHA-256 (state cookies, API key hashes).
std::string HmacSha256(std::string_view key, std::string_view data);
std::string Sha256(std::string_view data);
// HMAC-SHA1 and SHA-1 (OAuth 1.0a only).
std::string HmacSha1(std::string_view key, std::string_view data);
std::string Sha1(std::string_view data);

}  // namespace gb::jose
