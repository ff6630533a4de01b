#include "base/random.h"

#include <sys/random.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "base/strings.h"

namespace gb {

uint64_t Random::NextU64() {
  uint64_t v = 0;
  uint8_t buf[8];
  Fill(buf);
  std::memcpy(&v, buf, sizeof v);
  return v;
}

uint64_t Random::Uniform(uint64_t bound) {
  // Rejection sampling avoids modulo bias.
  const uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
  for (;;) {
    uint64_t v = NextU64();
    if (v < limit) return v % bound;
  }
}

std::string Random::Hex(size_t bytes) {
  std::vector<uint8_t> buf(bytes);
  Fill(buf);
  return HexEncode(std::string_view(reinterpret_cast<const char*>(buf.data()), buf.size()));
}

std::string Random::Token(size_t bytes) {
  std::vector<uint8_t> buf(bytes);
  Fill(buf);
  return Base64UrlEncode(std::string_view(reinterpret_cast<const char*>(buf.data()), buf.size()));
}

void SecureRandom::Fill(std::span<uint8_t> out) {
  size_t done = 0;
  while (done < out.size()) {
    ssize_t n = getrandom(out.data() + done, out.size() - done, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      // Without entropy no secret we make is safe; refusing to run is the only honest option.
      std::abort();
    }
    done += static_cast<size_t>(n);
  }
}

SecureRandom& SecureRandom::Instance() {
  static SecureRandom random;
  return random;
}

void SeededRandom::Fill(std::span<uint8_t> out) {
  for (auto& b : out) {
    state_ += 0x9e3779b97f4a7c15ULL;
    uint64_t z = state_;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    b = static_cast<uint8_t>(z ^ (z >> 31));
  }
}

}  // namespace gb
