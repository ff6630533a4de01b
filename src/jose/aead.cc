// AES-256-GCM sealing of secrets at rest (the tool's private keys).
//
// Blob format, version 1:
//   0x01 | nonce (12 bytes, random) | ciphertext (same length as the plaintext) | tag (16 bytes)
// The GCM additional data is the version byte followed by the caller's `aad`, so neither the
// version nor the purpose the blob was sealed for can be changed without Open failing. Nonces are
// random: with one data key, stay well under 2^32 seals (NIST SP 800-38D §8.3); key storage does
// a handful.

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <climits>
#include <utility>

#include "jose/jose.h"
#include "jose/ossl.h"

namespace gb::jose {
namespace {

using internal::Bytes;
using internal::CipherCtxPtr;
using internal::ErrorQueueScope;
using internal::MutableBytes;

constexpr char kVersion = 0x01;
constexpr size_t kKeyBytes = 32;
constexpr size_t kNonceBytes = 12;
constexpr size_t kTagBytes = 16;
constexpr size_t kOverhead = 1 + kNonceBytes + kTagBytes;
// EVP takes int lengths; secrets at rest are small.
constexpr size_t kMaxPlaintext = size_t{1} << 30;

Status BadKeySize() {
  return Error(Code::kInvalidArgument, "crypto.bad_key_size",
               "The data key must be exactly 32 bytes.");
}

Status BadDataKey() {
  return Error(
      Code::kUnauthenticated, "crypto.bad_data_key",
      "The sealed data could not be opened: wrong data key, wrong purpose, or tampered data.");
}

std::string AdditionalData(std::string_view aad) {
  std::string out(1, kVersion);
  out.append(aad);
  return out;
}

// Feeds `data` to the cipher's AAD in int-sized pieces.
bool AddAad(EVP_CIPHER_CTX* ctx, std::string_view data, bool encrypt) {
  int unused = 0;
  while (!data.empty()) {
    const size_t n = std::min<size_t>(data.size(), INT_MAX);
    const int rc = encrypt
                       ? EVP_EncryptUpdate(ctx, nullptr, &unused, Bytes(data), static_cast<int>(n))
                       : EVP_DecryptUpdate(ctx, nullptr, &unused, Bytes(data), static_cast<int>(n));
    if (rc != 1) return false;
    data.remove_prefix(n);
  }
  return true;
}

}  // namespace

Result<std::string> Seal(std::string_view key32, std::string_view plaintext, std::string_view aad,
                         Random& random) {
  if (key32.size() != kKeyBytes) return BadKeySize();
  if (plaintext.size() > kMaxPlaintext) {
    return Error(Code::kInvalidArgument, "crypto.too_large", "The data to seal is too large.");
  }
  std::string out(kOverhead + plaintext.size(), '\0');
  out[0] = kVersion;
  unsigned char* nonce = MutableBytes(out) + 1;
  random.Fill(std::span<uint8_t>(nonce, kNonceBytes));
  unsigned char* ciphertext = nonce + kNonceBytes;
  unsigned char* tag = ciphertext + plaintext.size();

  ErrorQueueScope errors;
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  // The default GCM IV length is 12 bytes.
  if (!ctx || EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, Bytes(key32), nonce) != 1 ||
      !AddAad(ctx.get(), AdditionalData(aad), true) ||
      EVP_EncryptUpdate(ctx.get(), ciphertext, &len, Bytes(plaintext),
                        static_cast<int>(plaintext.size())) != 1 ||
      static_cast<size_t>(len) != plaintext.size() ||
      EVP_EncryptFinal_ex(ctx.get(), ciphertext + len, &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kTagBytes), tag) != 1) {
    OPENSSL_cleanse(out.data(), out.size());
    return Error(Code::kInternal, "crypto.failure", "AES-GCM encryption failed.");
  }
  return out;
}

Result<std::string> Open(std::string_view key32, std::string_view sealed, std::string_view aad) {
  if (key32.size() != kKeyBytes) return BadKeySize();
  if (sealed.size() < kOverhead || sealed[0] != kVersion ||
      sealed.size() - kOverhead > kMaxPlaintext) {
    return BadDataKey();
  }
  const unsigned char* nonce = Bytes(sealed) + 1;
  const unsigned char* ciphertext = nonce + kNonceBytes;
  const size_t ciphertext_len = sealed.size() - kOverhead;
  // EVP_CTRL_GCM_SET_TAG takes a non-const pointer; copy the tag rather than cast constness away.
  std::array<unsigned char, kTagBytes> tag;
  std::copy_n(ciphertext + ciphertext_len, kTagBytes, tag.begin());

  std::string plaintext(ciphertext_len, '\0');
  ErrorQueueScope errors;
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  const bool ok =
      ctx && EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, Bytes(key32), nonce) == 1 &&
      AddAad(ctx.get(), AdditionalData(aad), false) &&
      EVP_DecryptUpdate(ctx.get(), MutableBytes(plaintext), &len, ciphertext,
                        static_cast<int>(ciphertext_len)) == 1 &&
      static_cast<size_t>(len) == ciphertext_len &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kTagBytes),
                          tag.data()) == 1 &&
      EVP_DecryptFinal_ex(ctx.get(), MutableBytes(plaintext) + len, &len) == 1;
  if (!ok) {
    // Unauthenticated plaintext never leaves this function.
    OPENSSL_cleanse(plaintext.data(), plaintext.size());
    return BadDataKey();
  }
  return plaintext;
}

}  // namespace gb::jose
