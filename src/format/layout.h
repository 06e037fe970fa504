// Constants of the .kiln byte layout shared by the writer and the reader.
#pragma once
#include <cstddef>
#include <cstdint>

namespace kiln::format {

constexpr uint64_t kDataAlign = 64;      // data area, segments and constants
constexpr int kMaxGraphDepth = 16;       // subgraph nesting (validate_and_sort's limit)
constexpr size_t kMaxRank = 64;          // dims per tensor
constexpr uint64_t kMaxTableBytes = uint64_t{1} << 30;  // FlatBuffers itself stops at 2 GiB

inline uint64_t align_up(uint64_t x) { return (x + kDataAlign - 1) & ~(kDataAlign - 1); }

}  // namespace kiln::format
