// SHA-256, SHA-1 and their HMACs, one-shot through the OpenSSL 3 EVP interfaces.
//
// These return raw digest bytes and have no error channel: OpenSSL fails here only when memory is
// exhausted or the library is broken, and an empty or short MAC would compare equal to an
// attacker's empty MAC, so the process aborts instead (internal::CryptoFailure).

#include <openssl/evp.h>
#include <openssl/params.h>

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

// One HMAC context per thread and digest, set up once and re-keyed per call: EVP_Q_mac fetches
// the algorithm and the digest (provider lookups under a lock) and builds a context every time,
// 2.5x the cost of the MAC itself on a login-state cookie.
class ThreadHmac {
 public:
  explicit ThreadHmac(const char* digest_name) {
    EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    if (mac == nullptr) CryptoFailure();
    ctx_ = EVP_MAC_CTX_new(mac);
    EVP_MAC_free(mac);  // the context holds its own reference
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string("digest", const_cast<char*>(digest_name), 0),
        OSSL_PARAM_construct_end(),
    };
    static const unsigned char kPlaceholderKey = 0;
    if (ctx_ == nullptr || EVP_MAC_init(ctx_, &kPlaceholderKey, 1, params) != 1) CryptoFailure();
  }
  ~ThreadHmac() { EVP_MAC_CTX_free(ctx_); }
  ThreadHmac(const ThreadHmac&) = delete;
  ThreadHmac& operator=(const ThreadHmac&) = delete;

  std::string Mac(std::string_view key, std::string_view data) {
    ErrorQueueScope errors;
    // HMAC with an empty key is well defined (the key is zero-padded), but OpenSSL reads a null
    // key pointer as "keep the previous key"; always pass a valid pointer.
    static const unsigned char kEmpty = 0;
    const unsigned char* key_bytes = key.empty() ? &kEmpty : Bytes(key);
    static const unsigned char kNoData = 0;
    const unsigned char* data_bytes = data.empty() ? &kNoData : Bytes(data);
    unsigned char out[EVP_MAX_MD_SIZE];
    size_t len = 0;
    if (EVP_MAC_init(ctx_, key_bytes, key.size(), nullptr) != 1 ||
        EVP_MAC_update(ctx_, data_bytes, data.size()) != 1 || EVP_MAC_final(ctx_, out, &len, sizeof out) != 1) {
      CryptoFailure();
    }
    return std::string(reinterpret_cast<const char*>(out), len);
  }

 private:
  EVP_MAC_CTX* ctx_ = nullptr;
};

}  // namespace

std::string Sha256(std::string_view data) { return Digest(EVP_sha256(), data); }
std::string Sha1(std::string_view data) { return Digest(EVP_sha1(), data); }
std::string HmacSha256(std::string_view key, std::string_view data) {
  thread_local ThreadHmac hmac("SHA256");
  return hmac.Mac(key, data);
}
std::string HmacSha1(std::string_view key, std::string_view data) {
  thread_local ThreadHmac hmac("SHA1");
  return hmac.Mac(key, data);
}

}  // namespace gb::jose
