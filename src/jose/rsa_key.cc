// RSA keys: construction from JWK members, PEM and generation; RS256 sign and verify; RFC 7638
// thumbprints.
//
// Every public key, whatever its source, is rebuilt from its (n, e) through BuildPublicParts(), so
// the size policy (2048..8192-bit odd modulus, odd exponent 3..2^64-1) is enforced in one place and
// the EVP_PKEY inside an RsaPublicKey never carries private material. The EVP_PKEY is built once
// per key and is never mutated afterwards; OpenSSL documents concurrent read-only use of an
// EVP_PKEY as safe, so a verify or sign only creates its own EVP_MD_CTX and both are thread-safe.

#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <nlohmann/json.hpp>
#include <utility>

#include "base/strings.h"
#include "jose/jose.h"
#include "jose/ossl.h"

namespace gb::jose {
namespace {

using internal::BioPtr;
using internal::BioToString;
using internal::BnPtr;
using internal::BnToBytes;
using internal::Bytes;
using internal::DecoderCtxPtr;
using internal::ErrorQueueScope;
using internal::MdCtxPtr;
using internal::ParamBldPtr;
using internal::ParamsPtr;
using internal::PkeyCtxPtr;
using internal::PkeyPtr;

constexpr int kMinModulusBits = 2048;
// Bounds the CPU an attacker-supplied JWKS can make us spend per verification; no platform uses
// more than 4096.
constexpr int kMaxModulusBits = 8192;
// OpenSSL refuses exponents over 64 bits for moduli above 3072 bits; apply that to all sizes.
constexpr size_t kMaxExponentBytes = 8;
// Base64url of an 8192-bit modulus is 1366 characters; anything far longer is refused before
// decoding.
constexpr size_t kMaxB64MemberChars = 4096;
constexpr size_t kMaxPemBytes = 64 * 1024;

std::string_view StripLeadingZeros(std::string_view s) {
  while (!s.empty() && s.front() == '\0') s.remove_prefix(1);
  return s;
}

int BitLength(std::string_view be) {
  if (be.empty()) return 0;
  unsigned top = static_cast<unsigned char>(be.front());
  int bits = 0;
  while (top != 0) {
    ++bits;
    top >>= 1;
  }
  return static_cast<int>((be.size() - 1) * 8) + bits;
}

// What an RsaPublicKey holds: a public-only EVP_PKEY plus the minimal big-endian n and e (kept for
// ToJwk and thumbprints) and the signature length in bytes.
struct PublicParts {
  PkeyPtr pkey;
  std::string n;
  std::string e;
  size_t modulus_bytes = 0;
};

Status KeyError(std::string_view reason, std::string message) {
  return Error(Code::kInvalidArgument, std::string(reason), std::move(message));
}

// Validates (n, e) against the policy and builds the EVP_PKEY. Leading zero octets are tolerated
// (some producers emit them despite RFC 7518 §6.3.1.1) and stripped.
Result<PublicParts> BuildPublicParts(std::string_view n_raw, std::string_view e_raw,
                                     std::string_view reason) {
  std::string_view n = StripLeadingZeros(n_raw);
  std::string_view e = StripLeadingZeros(e_raw);
  const int bits = BitLength(n);
  if (bits < kMinModulusBits) {
    return KeyError(reason, "The RSA modulus has " + std::to_string(bits) + " bits; at least " +
                                std::to_string(kMinModulusBits) + " are required.");
  }
  if (bits > kMaxModulusBits) {
    return KeyError(reason,
                    "The RSA modulus has more than " + std::to_string(kMaxModulusBits) + " bits.");
  }
  if ((static_cast<unsigned char>(n.back()) & 1) == 0) {
    return KeyError(reason, "The RSA modulus is even.");
  }
  if (e.empty() || e.size() > kMaxExponentBytes ||
      (static_cast<unsigned char>(e.back()) & 1) == 0 ||
      (e.size() == 1 && static_cast<unsigned char>(e.front()) < 3)) {
    return KeyError(reason, "The RSA public exponent is out of range.");
  }

  ErrorQueueScope errors;
  BnPtr bn_n(BN_bin2bn(Bytes(n), static_cast<int>(n.size()), nullptr));
  BnPtr bn_e(BN_bin2bn(Bytes(e), static_cast<int>(e.size()), nullptr));
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bn_n || !bn_e || !bld ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()) != 1) {
    return Error(Code::kInternal, "crypto.failure", "Could not build RSA key parameters.");
  }
  ParamsPtr params(OSSL_PARAM_BLD_to_param(bld.get()));
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    EVP_PKEY_free(raw);
    return KeyError(reason, "OpenSSL refused the RSA public key.");
  }
  PublicParts parts;
  parts.pkey.reset(raw);
  parts.n.assign(n);
  parts.e.assign(e);
  parts.modulus_bytes = n.size();
  return parts;
}

// Reads n and e out of any RSA EVP_PKEY (public or private) and rebuilds a public-only key.
Result<PublicParts> PublicPartsFromPkey(const EVP_PKEY* pkey, std::string_view reason) {
  ErrorQueueScope errors;
  if (EVP_PKEY_is_a(pkey, "RSA") != 1) {
    return KeyError(reason,
                    "The key is not an RSA key (RSA-PSS and other types are not supported).");
  }
  BIGNUM* n = nullptr;
  BIGNUM* e = nullptr;
  const bool ok = EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, &n) == 1 &&
                  EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &e) == 1;
  BnPtr own_n(n), own_e(e);
  if (!ok) return KeyError(reason, "The RSA key has no modulus or exponent.");
  return BuildPublicParts(BnToBytes(n), BnToBytes(e), reason);
}

// PEM pass-phrase callback that refuses: an encrypted PEM fails instead of prompting on a tty.
int NoPassphrase(char*, int, int, void*) { return 0; }

bool HasPemLabel(std::string_view pem, std::string_view label) {
  std::string begin = "-----BEGIN " + std::string(label) + "-----";
  return Trim(pem).substr(0, begin.size()) == begin;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// RsaPublicKey

struct RsaPublicKey::Impl {
  PublicParts parts;
};

RsaPublicKey::RsaPublicKey() = default;
RsaPublicKey::~RsaPublicKey() = default;
RsaPublicKey::RsaPublicKey(const RsaPublicKey&) = default;
RsaPublicKey& RsaPublicKey::operator=(const RsaPublicKey&) = default;

bool RsaPublicKey::valid() const { return impl_ != nullptr; }

Result<RsaPublicKey> RsaPublicKey::FromJwk(const nlohmann::json& jwk) {
  auto bad = [](std::string message) { return KeyError("jwk.invalid", std::move(message)); };
  if (!jwk.is_object()) return bad("The JWK is not a JSON object.");
  auto kty = jwk.find("kty");
  if (kty == jwk.end() || !kty->is_string() || kty->get_ref<const std::string&>() != "RSA") {
    return bad("The JWK's kty is not \"RSA\".");
  }
  std::string members[2];
  const char* names[2] = {"n", "e"};
  for (int i = 0; i < 2; ++i) {
    auto it = jwk.find(names[i]);
    if (it == jwk.end() || !it->is_string()) {
      return bad(std::string("The JWK's \"") + names[i] + "\" is missing or not a string.");
    }
    const std::string& text = it->get_ref<const std::string&>();
    if (text.size() > kMaxB64MemberChars) {
      return bad(std::string("The JWK's \"") + names[i] + "\" is too long.");
    }
    auto decoded = Base64UrlDecode(text);
    if (!decoded) {
      return bad(std::string("The JWK's \"") + names[i] + "\" is not unpadded base64url.");
    }
    members[i] = std::move(*decoded);
  }
  GB_ASSIGN_OR_RETURN(PublicParts parts, BuildPublicParts(members[0], members[1], "jwk.invalid"));
  RsaPublicKey key;
  key.impl_ = std::make_shared<const Impl>(Impl{std::move(parts)});
  return key;
}

Result<RsaPublicKey> RsaPublicKey::FromPem(std::string_view pem) {
  auto bad = [] {
    return KeyError("key.invalid",
                    "Not a PEM RSA public key (\"PUBLIC KEY\" or \"RSA PUBLIC KEY\").");
  };
  if (pem.size() > kMaxPemBytes) return bad();
  const bool spki = HasPemLabel(pem, "PUBLIC KEY");
  const bool pkcs1 = HasPemLabel(pem, "RSA PUBLIC KEY");
  if (!spki && !pkcs1) return bad();
  pem = Trim(pem);  // the PEM reader wants "-----BEGIN" at the start of a line
  ErrorQueueScope errors;
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return bad();
  // The decoder reads both SubjectPublicKeyInfo and PKCS#1 without the deprecated RSA* readers.
  EVP_PKEY* raw = nullptr;
  DecoderCtxPtr dctx(OSSL_DECODER_CTX_new_for_pkey(&raw, "PEM", nullptr, "RSA", EVP_PKEY_PUBLIC_KEY,
                                                   nullptr, nullptr));
  if (!dctx || OSSL_DECODER_from_bio(dctx.get(), bio.get()) != 1) {
    EVP_PKEY_free(raw);
    return bad();
  }
  PkeyPtr pkey(raw);
  if (!pkey) return bad();
  GB_ASSIGN_OR_RETURN(PublicParts parts, PublicPartsFromPkey(pkey.get(), "key.invalid"));
  RsaPublicKey key;
  key.impl_ = std::make_shared<const Impl>(Impl{std::move(parts)});
  return key;
}

bool RsaPublicKey::VerifyRs256(std::string_view signing_input, std::string_view signature) const {
  // RFC 8017 §8.2.2 step 1: the signature is exactly as long as the modulus.
  if (!impl_ || signature.size() != impl_->parts.modulus_bytes) return false;
  ErrorQueueScope errors;
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx) return false;
  // The default padding of an RSA key is PKCS#1 v1.5, which is what RS256 is.
  if (EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, impl_->parts.pkey.get()) !=
      1) {
    return false;
  }
  return EVP_DigestVerify(ctx.get(), Bytes(signature), signature.size(), Bytes(signing_input),
                          signing_input.size()) == 1;
}

nlohmann::json RsaPublicKey::ToJwk(std::string_view kid) const {
  if (!impl_) return nlohmann::json();
  return nlohmann::json{{"kty", "RSA"},
                        {"n", Base64UrlEncode(impl_->parts.n)},
                        {"e", Base64UrlEncode(impl_->parts.e)},
                        {"kid", std::string(kid)},
                        {"alg", "RS256"},
                        {"use", "sig"}};
}

std::string RsaPublicKey::ToPem() const {
  if (!impl_) return {};
  ErrorQueueScope errors;
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), impl_->parts.pkey.get()) != 1) return {};
  return BioToString(bio.get());
}

std::string Thumbprint(const RsaPublicKey& key) {
  if (!key.valid()) return {};
  nlohmann::json jwk = key.ToJwk("");
  // RFC 7638 §3.2: required members only, lexicographic order, no whitespace. n and e are base64url
  // and need no JSON escaping.
  std::string canonical = "{\"e\":\"" + jwk["e"].get<std::string>() +
                          "\",\"kty\":\"RSA\",\"n\":\"" + jwk["n"].get<std::string>() + "\"}";
  return Base64UrlEncode(Sha256(canonical));
}

// ---------------------------------------------------------------------------------------------
// RsaPrivateKey

struct RsaPrivateKey::Impl {
  PkeyPtr pkey;
  RsaPublicKey public_key;
};

RsaPrivateKey::RsaPrivateKey() = default;
RsaPrivateKey::~RsaPrivateKey() = default;
RsaPrivateKey::RsaPrivateKey(const RsaPrivateKey&) = default;
RsaPrivateKey& RsaPrivateKey::operator=(const RsaPrivateKey&) = default;

bool RsaPrivateKey::valid() const { return impl_ != nullptr; }

Result<RsaPrivateKey> RsaPrivateKey::Generate(int bits) {
  if (bits < kMinModulusBits || bits > kMaxModulusBits) {
    return KeyError("key.invalid", "RSA keys must have " + std::to_string(kMinModulusBits) +
                                       " to " + std::to_string(kMaxModulusBits) + " bits.");
  }
  ErrorQueueScope errors;
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr));
  EVP_PKEY* raw = nullptr;
  if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_rsa_keygen_bits(ctx.get(), bits) != 1 ||
      EVP_PKEY_generate(ctx.get(), &raw) != 1) {
    EVP_PKEY_free(raw);
    return Error(Code::kInternal, "crypto.failure", "RSA key generation failed.");
  }
  PkeyPtr pkey(raw);
  GB_ASSIGN_OR_RETURN(PublicParts parts, PublicPartsFromPkey(pkey.get(), "key.invalid"));
  RsaPrivateKey key;
  RsaPublicKey pub;
  pub.impl_ = std::make_shared<const RsaPublicKey::Impl>(RsaPublicKey::Impl{std::move(parts)});
  key.impl_ = std::make_shared<const Impl>(Impl{std::move(pkey), std::move(pub)});
  return key;
}

Result<RsaPrivateKey> RsaPrivateKey::FromPem(std::string_view pkcs8_pem) {
  auto bad = [] {
    return KeyError("key.invalid",
                    "Not an unencrypted PEM RSA private key (PKCS#8 \"PRIVATE KEY\").");
  };
  if (pkcs8_pem.size() > kMaxPemBytes) return bad();
  if (!HasPemLabel(pkcs8_pem, "PRIVATE KEY") && !HasPemLabel(pkcs8_pem, "RSA PRIVATE KEY")) {
    return bad();
  }
  pkcs8_pem = Trim(pkcs8_pem);
  ErrorQueueScope errors;
  BioPtr bio(BIO_new_mem_buf(pkcs8_pem.data(), static_cast<int>(pkcs8_pem.size())));
  if (!bio) return bad();
  PkeyPtr pkey(PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassphrase, nullptr));
  if (!pkey) return bad();
  GB_ASSIGN_OR_RETURN(PublicParts parts, PublicPartsFromPkey(pkey.get(), "key.invalid"));
  RsaPrivateKey key;
  RsaPublicKey pub;
  pub.impl_ = std::make_shared<const RsaPublicKey::Impl>(RsaPublicKey::Impl{std::move(parts)});
  key.impl_ = std::make_shared<const Impl>(Impl{std::move(pkey), std::move(pub)});
  return key;
}

std::string RsaPrivateKey::ToPem() const {
  if (!impl_) return {};
  ErrorQueueScope errors;
  BioPtr bio(BIO_new(BIO_s_mem()));
  // OpenSSL 3 writes PKCS#8 PrivateKeyInfo ("BEGIN PRIVATE KEY"). Freeing a memory BIO wipes it.
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), impl_->pkey.get(), nullptr, nullptr, 0, nullptr,
                                       nullptr) != 1) {
    return {};
  }
  return BioToString(bio.get());
}

RsaPublicKey RsaPrivateKey::PublicKey() const { return impl_ ? impl_->public_key : RsaPublicKey(); }

Result<std::string> RsaPrivateKey::SignRs256(std::string_view signing_input) const {
  if (!impl_) return Error(Code::kFailedPrecondition, "key.invalid", "No signing key is loaded.");
  ErrorQueueScope errors;
  MdCtxPtr ctx(EVP_MD_CTX_new());
  std::string sig(static_cast<size_t>(EVP_PKEY_get_size(impl_->pkey.get())), '\0');
  size_t len = sig.size();
  if (!ctx ||
      EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, impl_->pkey.get()) != 1 ||
      EVP_DigestSign(ctx.get(), internal::MutableBytes(sig), &len, Bytes(signing_input),
                     signing_input.size()) != 1) {
    return Error(Code::kInternal, "crypto.failure", "RS256 signing failed.");
  }
  sig.resize(len);
  return sig;
}

}  // namespace gb::jose
