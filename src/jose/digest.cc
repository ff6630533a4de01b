// SHA-256, SHA-1 and their HMACs, one-shot through the OpenSSL 3 EVP interfaces.
//
// These return raw digest bytes and have no error channel: OpenSSL fails here only when memory is
// exhausted or the library is broken, and an empty or short MAC would compare equal to an
// attacker's empty MAC, so the process aborts instead (internal::CryptoFailure).

#include <openssl/evp.h>

#include "jose/jose.h"
#include "jose/ossl.h"

namespace gb::jose {
namespace {

using internal::Bytes;
using internal::CryptoFailure;
using internal::ErrorQueueScope;

std::string Digest(const EVP_MD* md, std::string_view data) {
  ErrorQueueScope errors;
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (md == nullptr || EVP_Digest(data.data(), data.size(), out, &len, md, nullptr) != 1) {
    CryptoFailure();
  }
  return std::string(reinterpret_cast<const char*>(out), len);
}

std::string Hmac(const char* digest_name, std::string_view key, std::string_view data) {
  ErrorQueueScope errors;
  // HMAC with an empty key is well defined (the key is zero-padded), but OpenSSL reads a null key
  // pointer as "no key"; always pass a valid pointer.
  static const unsigned char kEmpty = 0;
  const unsigned char* key_bytes = key.empty() ? &kEmpty : Bytes(key);
  static const unsigned char kNoData = 0;
  const unsigned char* data_bytes = data.empty() ? &kNoData : Bytes(data);
  unsigned char out[EVP_MAX_MD_SIZE];
  size_t len = 0;
  if (EVP_Q_mac(nullptr, "HMAC", nullptr, digest_name, nullptr, key_bytes, key.size(), data_bytes,
                data.size(), out, sizeof out, &len) == nullptr) {
    CryptoFailure();
  }
  return std::string(reinterpret_cast<const char*>(out), len);
}

}  // namespace

std::string Sha256(std::string_view data) { return Digest(EVP_sha256(), data); }
std::string Sha1(std::string_view data) { return Digest(EVP_sha1(), data); }
std::string HmacSha256(std::string_view key, std::string_view data) {
  return Hmac("SHA256", key, data);
}
std::string HmacSha1(std::string_view key, std::string_view data) {
  return Hmac("SHA1", key, data);
}

}  // namespace gb::jose
