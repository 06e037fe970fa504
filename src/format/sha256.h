// SHA-256 (FIPS 180-4), small and portable: the WASM build has no crypto library,
// and the reader hashes every weight segment before use.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

namespace kiln {

using Sha256Digest = std::array<uint8_t, 32>;

// Streaming hasher: update() any number of times, then finish() once.
class Sha256 {
 public:
  Sha256();
  void update(const void* data, size_t size);
  Sha256Digest finish();

  static Sha256Digest hash(const void* data, size_t size);

 private:
  void compress(const uint8_t* block);

  uint32_t state_[8];
  uint8_t buffer_[64];
  size_t buffered_ = 0;
  uint64_t total_bytes_ = 0;
};

// Lowercase hex of any byte range ("ba7816bf..." for a digest).
std::string to_hex(const uint8_t* data, size_t size);

}  // namespace kiln
