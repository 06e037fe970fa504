// Packing a dense weight matrix into the SpMM format (f32-spmm.h), and the pack-time
// choice between sparse and dense.
#include <cstdint>

#include "kernels/f32-spmm/f32-spmm.h"

namespace kiln {

size_t f32_count_zeros(size_t n, size_t k, const float* b, ptrdiff_t b_stride_k, ptrdiff_t b_stride_n) {
  size_t zeros = 0;
  for (size_t p = 0; p < k; ++p)
    for (size_t j = 0; j < n; ++j) zeros += b[static_cast<ptrdiff_t>(p) * b_stride_k + static_cast<ptrdiff_t>(j) * b_stride_n] == 0.f;
  return zeros;
}

F32SpmmPacked f32_spmm_pack(size_t mr, size_t n, size_t k, const float* b, ptrdiff_t b_stride_k,
                            ptrdiff_t b_stride_n, const float* bias, ptrdiff_t bias_stride, float scale,
                            float bias_scale) {
  F32SpmmPacked p;
  p.mr = mr, p.n = n, p.k = k;
  p.nnzmap.resize(n);
  // First the nonzero rows in column order; the increments follow from consecutive rows.
  std::vector<uint32_t> rows;
  for (size_t j = 0; j < n; ++j) {
    if (j % kF32SpmmBlockCols == 0) p.blocks.push_back({p.values.size(), rows.size(), 0});
    p.values.push_back(bias ? bias[static_cast<ptrdiff_t>(j) * bias_stride] * bias_scale : 0.f);
    uint32_t count = 0;
    for (size_t r = 0; r < k; ++r) {
      const float v = b[static_cast<ptrdiff_t>(r) * b_stride_k + static_cast<ptrdiff_t>(j) * b_stride_n];
      if (v == 0.f) continue;
      p.values.push_back(v * scale);
      rows.push_back(static_cast<uint32_t>(r));
      ++count;
    }
    p.nnzmap[j] = count;
  }
  p.nonzeros = rows.size();
  // A block starts at its first nonzero's row; an empty block (all columns empty) reads nothing.
  for (F32SpmmBlock& blk : p.blocks)
    if (blk.dmap_offset < rows.size()) blk.first_k = rows[blk.dmap_offset];
  p.dmap.resize(rows.size());
  const int64_t row_bytes = static_cast<int64_t>(mr * sizeof(float));
  for (size_t i = 0; i < rows.size(); ++i) {
    const uint32_t next = rows[i + 1 < rows.size() ? i + 1 : 0];  // the last wraps to the first
    p.dmap[i] = static_cast<int32_t>((static_cast<int64_t>(next) - static_cast<int64_t>(rows[i])) * row_bytes);
  }
  return p;
}

double f32_spmm_break_even(size_t n, size_t k) {
  // Measured with kiln_bench / bench/wasm-spmm.mjs against the default dense GEMM on the
  // model layer shapes (src/kernels/README.md, "f32 SpMM"). The transposes in and out of
  // a row tile cost about as much as the dense GEMM's whole work when k or n is small, so
  // such layers never go sparse (1.0 cannot be reached: all-zero weights stay dense too).
  // Natively and in WASM the crossing lies between 50% and 75% on the larger shapes.
  if (k < 32 || n < 16) return 1.01;
  return 0.6;
}

size_t f32_spmm_min_rows() {
#if defined(__EMSCRIPTEN__)
  return 1;
#else
  return 16;
#endif
}

bool f32_spmm_preferred(size_t n, size_t k, size_t zeros) {
  if (n == 0 || k == 0) return false;
  // int32 byte increments bound k * MR; any realistic layer is far below.
  if (k > (size_t{1} << 20)) return false;
  return static_cast<double>(zeros) >= f32_spmm_break_even(n, k) * static_cast<double>(n * k);
}

}  // namespace kiln
