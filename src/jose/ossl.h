// Internal to src/jose: owning handles for OpenSSL objects and small helpers shared by the .cc
// files. Never include this from outside src/jose; jose.h is the public interface and exposes no
// OpenSSL types.
#pragma once

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

namespace gb::jose::internal {

template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};

using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, Deleter<EVP_PKEY_CTX, EVP_PKEY_CTX_free>>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, Deleter<EVP_MD_CTX, EVP_MD_CTX_free>>;
using CipherCtxPtr = std::unique_ptr<EVP_CIPHER_CTX, Deleter<EVP_CIPHER_CTX, EVP_CIPHER_CTX_free>>;
using BnPtr = std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_free>>;
using ParamBldPtr = std::unique_ptr<OSSL_PARAM_BLD, Deleter<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>>;
using ParamsPtr = std::unique_ptr<OSSL_PARAM, Deleter<OSSL_PARAM, OSSL_PARAM_free>>;

using DecoderCtxPtr =
    std::unique_ptr<OSSL_DECODER_CTX, Deleter<OSSL_DECODER_CTX, OSSL_DECODER_CTX_free>>;

inline void FreeBio(BIO* b) { BIO_free(b); }
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, FreeBio>>;

// OpenSSL's error queue is per thread and outlives the call that filled it; a stale entry can make
// unrelated code (TLS in libcurl, another library) report the wrong failure. Every entry point that
// may fail inside OpenSSL holds one of these, which drops exactly the entries pushed in its scope.
class ErrorQueueScope {
 public:
  ErrorQueueScope() { ERR_set_mark(); }
  ~ErrorQueueScope() { ERR_pop_to_mark(); }
  ErrorQueueScope(const ErrorQueueScope&) = delete;
  ErrorQueueScope& operator=(const ErrorQueueScope&) = delete;
};

inline const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}
inline unsigned char* MutableBytes(std::string& s) {
  return reinterpret_cast<unsigned char*>(s.data());
}

// Big-endian unsigned magnitude of `bn`, minimal length ("" for zero).
inline std::string BnToBytes(const BIGNUM* bn) {
  std::string out(static_cast<size_t>(BN_num_bytes(bn)), '\0');
  BN_bn2bin(bn, MutableBytes(out));
  return out;
}

// Contents of a memory BIO as a string.
inline std::string BioToString(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  if (len <= 0 || data == nullptr) return {};
  return std::string(data, static_cast<size_t>(len));
}

// For the functions whose contract has no error channel (digests, MACs): OpenSSL only fails there
// when memory is exhausted or the library is broken, and returning a short or empty MAC would turn
// that into an authentication bypass. Stop instead.
[[noreturn]] inline void CryptoFailure() { std::abort(); }

}  // namespace gb::jose::internal
