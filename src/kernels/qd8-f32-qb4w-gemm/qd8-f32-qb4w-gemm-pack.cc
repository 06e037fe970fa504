// The int4 block quantizer (float -> nibble rows + fp16 scales) and the packer from nibble
// rows into the panels the qd8-f32-qb4w microkernels read (layout in qd8-f32-qb4w-gemm.h).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "core/half.h"
#include "kernels/qd8-f32-qb4w-gemm/qd8-f32-qb4w-gemm.h"

namespace kiln {

size_t qb4w_gemm_packed_size(size_t nr, size_t n, size_t k) { return (n + nr - 1) / nr * qb4w_gemm_panel_bytes(nr, k); }

void qb4w_quantize_blocks(size_t n, size_t k, const float* b, ptrdiff_t stride_k, ptrdiff_t stride_n,
                          uint8_t* nibbles, uint16_t* scale_f16) {
  const size_t nb = qb4w_blocks(k), row = qb4w_row_bytes(k);
  std::memset(nibbles, 0, n * row);
  for (size_t j = 0; j < n; ++j)
    for (size_t blk = 0; blk < nb; ++blk) {
      const size_t p0 = blk * kQB4WBlock, p1 = std::min(k, p0 + kQB4WBlock);
      auto at = [&](size_t p) { return b[static_cast<ptrdiff_t>(p) * stride_k + static_cast<ptrdiff_t>(j) * stride_n]; };
      float amax = 0.f;
      for (size_t p = p0; p < p1; ++p) amax = std::max(amax, std::fabs(at(p)));
      // The codes are computed with the scale as stored (fp16), clamped to fp16's range.
      const uint16_t h = float_to_half(std::min(amax / 7.f, 65504.f));
      const float scale = half_to_float(h);
      scale_f16[j * nb + blk] = h;
      if (!(scale > 0.f)) continue;  // an all-zero block (or one below fp16's smallest step)
      for (size_t p = p0; p < p1; ++p) {
        const int q = static_cast<int>(std::clamp(std::nearbyint(at(p) / scale), -8.f, 7.f));
        nibbles[j * row + p / 2] |= static_cast<uint8_t>((q & 15) << ((p & 1) * 4));
      }
    }
}

size_t qb4w_min_gemm_packed_size(size_t nr, size_t n, size_t k) {
  return (n + nr - 1) / nr * qb4w_min_gemm_panel_bytes(nr, k);
}

void qb4w_quantize_blocks_min(size_t n, size_t k, const float* b, ptrdiff_t stride_k, ptrdiff_t stride_n,
                              uint8_t* nibbles, uint16_t* scale_f16, uint16_t* min_f16) {
  const size_t nb = qb4w_blocks(k), row = qb4w_row_bytes(k);
  std::memset(nibbles, 0, n * row);
  for (size_t j = 0; j < n; ++j)
    for (size_t blk = 0; blk < nb; ++blk) {
      const size_t p0 = blk * kQB4WBlock, p1 = std::min(k, p0 + kQB4WBlock);
      auto at = [&](size_t p) { return b[static_cast<ptrdiff_t>(p) * stride_k + static_cast<ptrdiff_t>(j) * stride_n]; };
      float lo = at(p0), hi = at(p0);
      for (size_t p = p0; p < p1; ++p) lo = std::min(lo, at(p)), hi = std::max(hi, at(p));
      // Codes from the stored (fp16, range-clamped) min and scale, as the kernels read them.
      const uint16_t mh = float_to_half(std::clamp(lo, -65504.f, 65504.f));
      const float mn = half_to_float(mh);
      const uint16_t sh = float_to_half(std::min(std::max(hi - mn, 0.f) / 15.f, 65504.f));
      const float scale = half_to_float(sh);
      scale_f16[j * nb + blk] = sh, min_f16[j * nb + blk] = mh;
      if (!(scale > 0.f)) continue;  // a constant block: every code 0, the min is the value
      for (size_t p = p0; p < p1; ++p) {
        const int q = static_cast<int>(std::clamp(std::nearbyint((at(p) - mn) / scale), 0.f, 15.f));
        nibbles[j * row + p / 2] |= static_cast<uint8_t>(q << ((p & 1) * 4));
      }
    }
}

namespace {

// Both packed forms from one loop (one copy of the code in kiln.wasm): with `min_f16` the
// unsigned codes go in as q - 8 and each block also gets m' = m + 8s.
void pack_panels(size_t nr, size_t n, size_t k, const uint8_t* nibbles, const uint16_t* scale_f16,
                 const uint16_t* min_f16, const float* bias, void* packed) {
  const size_t nb = qb4w_blocks(k), head = min_f16 ? 12 : 8;
  auto* out = static_cast<uint8_t*>(packed);
  std::vector<int8_t> block(kQB4WBlock * nr);  // one block in the int8 (qd8-f32-qc8w) order
  for (size_t j0 = 0; j0 < n; j0 += nr) {
    float* bs = reinterpret_cast<float*>(out);
    for (size_t jj = 0; jj < nr; ++jj) bs[jj] = j0 + jj < n && bias ? bias[j0 + jj] : 0.f;
    out += nr * 4;
    for (size_t blk = 0; blk < nb; ++blk) {
      int32_t* ksum = reinterpret_cast<int32_t*>(out);
      float* sc = reinterpret_cast<float*>(out + nr * 4);
      float* mn = reinterpret_cast<float*>(out + nr * 8);
      for (size_t jj = 0; jj < nr; ++jj) {
        const size_t j = j0 + jj;
        int32_t sum = 0;
        for (size_t pp = 0; pp < kQB4WBlock; ++pp) {
          const size_t p = blk * kQB4WBlock + pp;
          // group g = pp / 8, pair t = (pp % 8) / 2, column jj, d = pp % 2 (as qd8_gemm_pack);
          // past K 0 (the min form's rows are padded with their zero point: no term there).
          int8_t q = 0;
          if (j < n && p < k)
            q = min_f16 ? static_cast<int8_t>(qb4w_nibble_u(nibbles, k, j, p) - 8) : qb4w_nibble(nibbles, k, j, p);
          block[(pp / 2) * 2 * nr + jj * 2 + (pp & 1)] = q;
          sum += q;
        }
        ksum[jj] = -sum;
        const float s = j < n ? half_to_float(scale_f16[j * nb + blk]) : 0.f;
        sc[jj] = s;
        if (min_f16) mn[jj] = j < n ? half_to_float(min_f16[j * nb + blk]) + 8.f * s : 0.f;
      }
      uint8_t* nib = out + nr * head;
      const size_t half = kQB4WBlock / 2 * nr;
      for (size_t t = 0; t < half; ++t)
        nib[t] = static_cast<uint8_t>((block[t] & 15) | ((block[t + half] & 15) << 4));
      out += nr * (head + kQB4WBlock / 2);
    }
  }
}

}  // namespace

void qb4w_gemm_pack(size_t nr, size_t n, size_t k, const uint8_t* nibbles, const uint16_t* scale_f16,
                    const float* bias, void* packed) {
  pack_panels(nr, n, k, nibbles, scale_f16, nullptr, bias, packed);
}

void qb4w_min_gemm_pack(size_t nr, size_t n, size_t k, const uint8_t* nibbles, const uint16_t* scale_f16,
                        const uint16_t* min_f16, const float* bias, void* packed) {
  pack_panels(nr, n, k, nibbles, scale_f16, min_f16, bias, packed);
}

}  // namespace kiln
