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
// Key policy, whatever the source: modulus 2048..8192 bits and odd, exponent odd in 3..2^64-1.
// A default-constructed key is !valid(): it verifies nothing, ToJwk() is null, ToPem() is "".
class RsaPublicKey {
 public:
  RsaPublicKey();
  ~RsaPublicKey();
  RsaPublicKey(const RsaPublicKey&);
  RsaPublicKey& operator=(const RsaPublicKey&);

  // From a JWK object with kty=RSA, n, e (base64url big-endian). Rejects moduli under 2048 bits
  // and malformed members with reason "jwk.invalid". Other members are ignored; one redundant
  // leading zero octet in n is tolerated.
  static Result<RsaPublicKey> FromJwk(const nlohmann::json& jwk);
  // "PUBLIC KEY" (SubjectPublicKeyInfo) or "RSA PUBLIC KEY" (PKCS#1) PEM; else "key.invalid".
  static Result<RsaPublicKey> FromPem(std::string_view pem);

  // RSASSA-PKCS1-v1_5 with SHA-256. Thread-safe. False unless the signature is exactly the
  // modulus length and valid.
  bool VerifyRs256(std::string_view signing_input, std::string_view signature) const;

  // {"kty":"RSA","n":…,"e":…,"kid":kid,"alg":"RS256","use":"sig"}
  nlohmann::json ToJwk(std::string_view kid) const;
  std::string ToPem() const;  // "PUBLIC KEY" (SubjectPublicKeyInfo)
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

  // bits in 2048..8192, else "key.invalid".
  static Result<RsaPrivateKey> Generate(int bits = 2048);
  // Unencrypted "PRIVATE KEY" (PKCS#8) or "RSA PRIVATE KEY" (PKCS#1) PEM, same policy as public
  // keys; encrypted PEMs are refused (never prompts). Errors: "key.invalid".
  static Result<RsaPrivateKey> FromPem(std::string_view pkcs8_pem);
  std::string ToPem() const;  // PKCS#8 PEM, unencrypted: seal it before storing
  RsaPublicKey PublicKey() const;

  // Signature bytes (not encoded). Thread-safe. "key.invalid" on a default-constructed key.
  Result<std::string> SignRs256(std::string_view signing_input) const;
  bool valid() const;

 private:
  struct Impl;
  std::shared_ptr<const Impl> impl_;
};

// RFC 7638 JWK thumbprint (base64url SHA-256) of an RSA public key: a stable, content-derived kid.
// "" for an invalid key.
std::string Thumbprint(const RsaPublicKey& key);

struct Jwk {
  std::string kid;
  std::string alg;  // may be empty
  std::string use;  // may be empty
  RsaPublicKey key;
};

// A JSON Web Key Set. Parsing keeps only RSA keys usable for signatures (use absent or "sig",
// alg absent or "RS256"); other keys are skipped, not errors. Malformed JSON -> "jwks.invalid".
// Also skipped: key_ops present without "verify", a non-string kid, keys FromJwk rejects. Parse
// never throws or crashes, whatever the input.
class Jwks {
 public:
  static Result<Jwks> Parse(std::string_view json);
  // First key whose kid equals `kid` exactly; nullptr for an empty kid (callers require one).
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
// The signature segment may be empty (unsecured tokens parse; VerifyRs256 refuses them).
Result<CompactJws> ParseCompact(std::string_view token, size_t max_bytes = 16 * 1024);

// Verifies an RS256 signature: header "alg" must be exactly "RS256" ("jwt.bad_alg" otherwise)
// and the signature must verify with `key` ("jwt.bad_signature", kUnauthenticated). A header with
// "crit" is refused ("jwt.unsupported_crit", RFC 7515 §4.1.11). All three are kUnauthenticated.
Status VerifyRs256(const CompactJws& jws, const RsaPublicKey& key);

// Signs `claims` as a compact JWS with header {"alg":"RS256","typ":"JWT","kid":kid}.
Result<std::string> SignJwt(const nlohmann::json& claims, const RsaPrivateKey& key,
                            std::string_view kid);
// Same with extra header members merged in (alg and kid always ours; typ may be overridden).
// Errors: "jwt.invalid_claims" (claims not an object, or invalid UTF-8), "jwt.invalid_header"
// (extra_header neither object nor null, or has jku/jwk/x5u/x5c/crit), "key.invalid".
Result<std::string> SignJwt(const nlohmann::json& claims, const RsaPrivateKey& key,
                            std::string_view kid, const nlohmann::json& extra_header);

// AES-256-GCM. A sealed blob is: version byte 0x01 | 12-byte nonce | ciphertext | 16-byte tag.
// `aad` is authenticated but not stored (bind a blob to its purpose, e.g. the key's kid).
// Open fails with "crypto.bad_data_key" (kUnauthenticated) on a wrong key or tampered blob.
// The GCM additional data is the version byte followed by `aad`. Both fail with
// "crypto.bad_key_size" (kInvalidArgument) unless key32 is 32 bytes.
Result<std::string> Seal(std::string_view key32, std::string_view plaintext, std::string_view aad,
                         Random& random);
Result<std::string> Open(std::string_view key32, std::string_view sealed, std::string_view aad);

// Digests return raw bytes. They have no error channel: if OpenSSL fails (out of memory only), the
// process aborts rather than return a short MAC.
// HMAC-SHA256 and SHA-256 (state cookies, API key hashes).
std::string HmacSha256(std::string_view key, std::string_view data);
std::string Sha256(std::string_view data);
// HMAC-SHA1 and SHA-1 (OAuth 1.0a only).
std::string HmacSha1(std::string_view key, std::string_view data);
std::string Sha1(std::string_view data);

}  // namespace gb::jose
