// Random: the only source of randomness. SecureRandom reads the kernel CSPRNG (getrandom(2)) and is
// what production uses for state, nonce, jti, API keys and ids; tests may inject a seeded one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace gb {

class Random {
 public:
  virtual ~Random() = default;
  virtual void Fill(std::span<uint8_t> out) = 0;

  uint64_t NextU64();
  // Uniform in [0, bound); bound > 0.
  uint64_t Uniform(uint64_t bound);
  // `bytes` random bytes as lowercase hex (2 * bytes chars).
  std::string Hex(size_t bytes);
  // `bytes` random bytes as unpadded base64url.
  std::string Token(size_t bytes);
};

// Kernel CSPRNG. Thread-safe, no state.
class SecureRandom final : public Random {
 public:
  void Fill(std::span<uint8_t> out) override;
  static SecureRandom& Instance();
};

// Deterministic generator for tests (splitmix64). Not thread-safe, not secure.
class SeededRandom final : public Random {
 public:
  explicit SeededRandom(uint64_t seed) : state_(seed) {}
  void Fill(std::span<uint8_t> out) override;

 private:
  uint64_t state_;
};

}  // namespace gb
