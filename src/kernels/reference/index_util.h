// Small index helpers shared by the reference kernels (internal to src/kernels/reference).
#pragma once
#include <cstddef>
#include <cstdint>

namespace kiln {
namespace refk {

inline int64_t floor_div(int64_t a, int64_t b) {  // b > 0
  int64_t q = a / b;
  return (a % b != 0 && a < 0) ? q - 1 : q;
}
inline int64_t ceil_div(int64_t a, int64_t b) { return -floor_div(-a, b); }  // b > 0

// Indices o in [lo, hi) of [0, count) whose coordinate o * stride + offset lies in [0, bound).
inline void valid_range(int64_t bound, int64_t count, int64_t stride, int64_t offset, int64_t* lo,
                        int64_t* hi) {
  int64_t l = ceil_div(-offset, stride);
  int64_t h = floor_div(bound - 1 - offset, stride) + 1;
  if (l < 0) l = 0;
  if (h > count) h = count;
  if (h < l) h = l;
  *lo = l;
  *hi = h;
}

inline int64_t product(const int64_t* d, size_t n) {
  int64_t p = 1;
  for (size_t i = 0; i < n; ++i) p *= d[i];
  return p;
}

// Advances a row-major multi-index over `dims`; returns false after the last one.
inline bool next_index(int64_t* idx, const int64_t* dims, size_t n) {
  for (size_t i = n; i-- > 0;) {
    if (++idx[i] < dims[i]) return true;
    idx[i] = 0;
  }
  return false;
}

}  // namespace refk
}  // namespace kiln
