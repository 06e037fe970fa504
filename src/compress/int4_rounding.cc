// Error-minimizing int4 block rounding (int4_rounding.h). Every candidate is judged exactly
// as the kernels will read it: fp16-rounded scale and min, codes rounded and clamped with
// those, so the block error computed here is the error the model gets.
#include "compress/int4_rounding.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/half.h"
#include "kernels/qd8-f32-qb4w-gemm/qd8-f32-qb4w-gemm.h"

namespace kiln {
namespace {

// Grid of clipped ranges: absmax * (1 - kStep * i), i = 0..kSteps (down to 60% of the range).
// Measured on the recognizer's weights, the best clip is rarely below 70%.
constexpr int kSteps = 20;
constexpr float kStep = 0.02f;
// The asymmetric grid clips each end separately: min raised / max lowered by kMinStep * i.
constexpr int kMinSteps = 7;
constexpr float kMinStep = 0.02f;

float at(const float* w, ptrdiff_t stride, size_t p) { return w[static_cast<ptrdiff_t>(p) * stride]; }
float weight(const float* importance, size_t p) { return importance ? importance[p] : 1.f; }
uint16_t to_half(float v) { return float_to_half(std::clamp(v, -65504.f, 65504.f)); }

int code(float w, float inv) { return static_cast<int>(std::clamp(std::nearbyint(w * inv), -8.f, 7.f)); }
int code_u(float w, float mn, float inv) {
  return static_cast<int>(std::clamp(std::nearbyint((w - mn) * inv), 0.f, 15.f));
}

}  // namespace

double int4_block_error(size_t len, const float* w, ptrdiff_t stride, const float* importance, float scale) {
  double e = 0;
  // The quantizers divide (w / scale); a reciprocal could round a .5 tie the other way, so
  // the codes here use the same division.
  for (size_t p = 0; p < len; ++p) {
    const float v = at(w, stride, p);
    const float back = scale > 0.f ? scale * static_cast<float>(
                                                 static_cast<int>(std::clamp(std::nearbyint(v / scale), -8.f, 7.f)))
                                   : 0.f;
    e += double(weight(importance, p)) * double(v - back) * double(v - back);
  }
  return e;
}

double int4_block_error_min(size_t len, const float* w, ptrdiff_t stride, const float* importance, float scale,
                            float min) {
  double e = 0;
  for (size_t p = 0; p < len; ++p) {
    const float v = at(w, stride, p);
    const float back =
        scale > 0.f
            ? min + scale * static_cast<float>(static_cast<int>(std::clamp(std::nearbyint((v - min) / scale), 0.f, 15.f)))
            : min;
    e += double(weight(importance, p)) * double(v - back) * double(v - back);
  }
  return e;
}

uint16_t int4_fit_scale(size_t len, const float* w, ptrdiff_t stride, const float* importance) {
  float amax = 0.f;
  for (size_t p = 0; p < len; ++p) amax = std::max(amax, std::fabs(at(w, stride, p)));
  // Candidate 0 is qb4w_quantize_blocks' own scale; a later one must be strictly better.
  uint16_t best = float_to_half(std::min(amax / 7.f, 65504.f));
  double best_e = int4_block_error(len, w, stride, importance, half_to_float(best));
  if (!(half_to_float(best) > 0.f)) return best;
  auto consider = [&](float s) {
    const uint16_t h = to_half(s);
    const float hs = half_to_float(h);
    if (!(hs > 0.f) || h == best) return;
    const double e = int4_block_error(len, w, stride, importance, hs);
    if (e < best_e) best = h, best_e = e;
  };
  for (int i = 1; i <= kSteps; ++i) consider(amax * (1.f - kStep * static_cast<float>(i)) / 7.f);
  consider(amax / 8.f);  // code -8 holds a negative extreme exactly
  // Least-squares refit of the scale to the best candidate's codes (twice: the codes move).
  for (int round = 0; round < 2; ++round) {
    const float s = half_to_float(best), inv = 1.f / s;
    double num = 0, den = 0;
    for (size_t p = 0; p < len; ++p) {
      const double q = code(at(w, stride, p), inv), a = weight(importance, p);
      num += a * at(w, stride, p) * q, den += a * q * q;
    }
    if (!(den > 0) || !(num > 0)) break;
    consider(static_cast<float>(num / den));
  }
  return best;
}

void int4_fit_scale_min(size_t len, const float* w, ptrdiff_t stride, const float* importance, uint16_t* scale_f16,
                        uint16_t* min_f16) {
  float lo = at(w, stride, 0), hi = lo;
  for (size_t p = 0; p < len; ++p) lo = std::min(lo, at(w, stride, p)), hi = std::max(hi, at(w, stride, p));
  // Candidate 0 is qb4w_quantize_blocks_min's own (min, scale).
  uint16_t bm = to_half(lo);
  uint16_t bs = float_to_half(std::min(std::max(hi - half_to_float(bm), 0.f) / 15.f, 65504.f));
  double best_e = int4_block_error_min(len, w, stride, importance, half_to_float(bs), half_to_float(bm));
  *scale_f16 = bs, *min_f16 = bm;
  if (!(half_to_float(bs) > 0.f)) return;  // a constant block: the min is the value
  auto consider = [&](uint16_t mh, float s) {
    const uint16_t sh = to_half(s);
    if (!(half_to_float(sh) > 0.f) || (sh == bs && mh == bm)) return;
    const double e = int4_block_error_min(len, w, stride, importance, half_to_float(sh), half_to_float(mh));
    if (e < best_e) bs = sh, bm = mh, best_e = e;
  };
  const float range = hi - lo;
  for (int i = 0; i <= kMinSteps; ++i)
    for (int j = 0; j <= kMinSteps; ++j) {
      if (i == 0 && j == 0) continue;
      const uint16_t mh = to_half(lo + kMinStep * static_cast<float>(i) * range);
      const float top = hi - kMinStep * static_cast<float>(j) * range;
      consider(mh, (top - half_to_float(mh)) / 15.f);
    }
  // Least-squares refit of (scale, min) to the best candidate's codes.
  for (int round = 0; round < 2; ++round) {
    const float s = half_to_float(bs), mn = half_to_float(bm), inv = 1.f / s;
    double sa = 0, sq = 0, sqq = 0, sw = 0, swq = 0;
    for (size_t p = 0; p < len; ++p) {
      const double q = code_u(at(w, stride, p), mn, inv), a = weight(importance, p), v = at(w, stride, p);
      sa += a, sq += a * q, sqq += a * q * q, sw += a * v, swq += a * v * q;
    }
    const double det = sqq * sa - sq * sq;
    if (!(det > 1e-12 * sqq * sa)) break;
    const double ns = (swq * sa - sq * sw) / det, nm = (sqq * sw - sq * swq) / det;
    if (!(ns > 0)) break;
    consider(to_half(static_cast<float>(nm)), static_cast<float>(ns));
  }
  *scale_f16 = bs, *min_f16 = bm;
}

void int4_quantize_blocks_fit(size_t n, size_t k, const float* b, ptrdiff_t stride_k, ptrdiff_t stride_n,
                              const float* importance, uint8_t* nibbles, uint16_t* scale_f16) {
  const size_t nb = qb4w_blocks(k), row = qb4w_row_bytes(k);
  std::memset(nibbles, 0, n * row);
  for (size_t j = 0; j < n; ++j)
    for (size_t blk = 0; blk < nb; ++blk) {
      const size_t p0 = blk * kQB4WBlock, len = std::min(k, p0 + kQB4WBlock) - p0;
      const float* w = b + static_cast<ptrdiff_t>(p0) * stride_k + static_cast<ptrdiff_t>(j) * stride_n;
      const uint16_t h = int4_fit_scale(len, w, stride_k, importance ? importance + p0 : nullptr);
      scale_f16[j * nb + blk] = h;
      const float scale = half_to_float(h);
      if (!(scale > 0.f)) continue;
      for (size_t p = 0; p < len; ++p) {
        const int q = static_cast<int>(std::clamp(std::nearbyint(at(w, stride_k, p) / scale), -8.f, 7.f));
        nibbles[j * row + (p0 + p) / 2] |= static_cast<uint8_t>((q & 15) << (((p0 + p) & 1) * 4));
      }
    }
}

void int4_quantize_blocks_min_fit(size_t n, size_t k, const float* b, ptrdiff_t stride_k, ptrdiff_t stride_n,
                                  const float* importance, uint8_t* nibbles, uint16_t* scale_f16, uint16_t* min_f16) {
  const size_t nb = qb4w_blocks(k), row = qb4w_row_bytes(k);
  std::memset(nibbles, 0, n * row);
  for (size_t j = 0; j < n; ++j)
    for (size_t blk = 0; blk < nb; ++blk) {
      const size_t p0 = blk * kQB4WBlock, len = std::min(k, p0 + kQB4WBlock) - p0;
      const float* w = b + static_cast<ptrdiff_t>(p0) * stride_k + static_cast<ptrdiff_t>(j) * stride_n;
      int4_fit_scale_min(len, w, stride_k, importance ? importance + p0 : nullptr, &scale_f16[j * nb + blk],
                         &min_f16[j * nb + blk]);
      const float scale = half_to_float(scale_f16[j * nb + blk]), mn = half_to_float(min_f16[j * nb + blk]);
      if (!(scale > 0.f)) continue;
      for (size_t p = 0; p < len; ++p) {
        const int q = static_cast<int>(std::clamp(std::nearbyint((at(w, stride_k, p) - mn) / scale), 0.f, 15.f));
        nibbles[j * row + (p0 + p) / 2] |= static_cast<uint8_t>(q << (((p0 + p) & 1) * 4));
      }
    }
}

}  // namespace kiln
