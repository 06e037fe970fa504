#include "ops/conv_transpose_gemm.h"

#include <algorithm>
#include <limits>

#include "kernels/x32-transposec/x32-transposec.h"
#include "platform/thread_pool.h"

namespace kiln {
namespace {

// One spatial dim of the 2-D view (rank 1 is H = 1 with a 1-tap, stride-1 kernel).
struct Axis2 {
  int64_t in = 1, out = 1, kernel = 1, stride = 1, dilation = 1, pad = 0;
};

Axis2 axis(const ConvGeometry& g, size_t d) {
  return Axis2{g.in[d], g.out[d], g.kernel[d], g.stride[d], g.dilation[d], g.pad_begin[d]};
}

// No two (input, tap) pairs reach the same output: the dilated windows of neighbouring
// inputs are disjoint.
bool disjoint(const Axis2& a) { return a.stride >= (a.kernel - 1) * a.dilation + 1; }
// ...and every output is reached by one (no gaps between windows, none at the end).
bool covered(const Axis2& a) { return a.dilation == 1 && a.stride == a.kernel && a.out + a.pad <= a.in * a.stride; }

// Disjoint windows: every output gets at most one column value, so the scatter writes
// clamp(value + bias) once, with no read of y. Threads split the input rows (their output
// rows are disjoint too). Per input row, channel by channel: the row's columns (W_in *
// C_out * taps floats) stay in cache while each channel writes its kh output rows in
// order; windows wholly inside the row skip the bounds checks.
void scatter_disjoint(const Axis2& h, const Axis2& w, const float* cols, size_t cout, size_t kw,
                      const float* bias_or_null, float* y, size_t out_plane, bool prefill, F32MinMax minmax) {
  const size_t kk = static_cast<size_t>(h.kernel) * kw, ncols = cout * kk;
  auto clamp = [&](float v) { return std::min(std::max(v, minmax.min), minmax.max); };
  if (prefill)  // outputs no window reaches (gaps, output_padding) hold the bias alone
    parallel_for(cout, [&](size_t begin, size_t end) {
      for (size_t co = begin; co < end; ++co)
        std::fill(y + co * out_plane, y + (co + 1) * out_plane, clamp(bias_or_null ? bias_or_null[co] : 0.f));
    });
  if (h.in * w.in == 0) return;
  // Inputs [ix_lo, ix_hi) have every tap of their window inside the output row.
  const int64_t extent = (w.kernel - 1) * w.dilation;
  const int64_t ix_lo = std::min(w.in, (w.pad + w.stride - 1) / w.stride);
  const int64_t ix_hi = w.out - 1 - extent + w.pad < 0 ? 0
                        : std::clamp((w.out - 1 - extent + w.pad) / w.stride + 1, ix_lo, w.in);
  parallel_for(static_cast<size_t>(h.in), [&](size_t begin, size_t end) {
    for (int64_t iy = static_cast<int64_t>(begin); iy < static_cast<int64_t>(end); ++iy) {
      const float* crow = cols + static_cast<size_t>(iy * w.in) * ncols;  // this input row's columns
      for (size_t co = 0; co < cout; ++co) {
        const float bias = bias_or_null ? bias_or_null[co] : 0.f;
        for (int64_t ky = 0; ky < h.kernel; ++ky) {
          const int64_t oy = iy * h.stride - h.pad + ky * h.dilation;
          if (oy < 0 || oy >= h.out) continue;
          float* yrow = y + co * out_plane + static_cast<size_t>(oy * w.out);
          const float* ck = crow + co * kk + static_cast<size_t>(ky) * kw;
          for (int64_t ix = 0; ix < w.in; ++ix, ck += ncols) {
            const int64_t ox0 = ix * w.stride - w.pad;
            if (ix >= ix_lo && ix < ix_hi) {  // the whole window is inside: no checks
              float* o = yrow + ox0;
              for (int64_t kx = 0; kx < w.kernel; ++kx) o[kx * w.dilation] = clamp(ck[kx] + bias);
              continue;
            }
            for (int64_t kx = 0; kx < w.kernel; ++kx) {
              const int64_t ox = ox0 + kx * w.dilation;
              if (ox >= 0 && ox < w.out) yrow[ox] = clamp(ck[kx] + bias);
            }
          }
        }
      }
    }
  });
}

}  // namespace

void ConvTransposeGemm::pack(size_t groups, size_t group_in, size_t group_out, size_t kh, size_t kw,
                             const float* w, const float* bias) {
  groups_ = groups, group_in_ = group_in, group_out_ = group_out, kh_ = kh, kw_ = kw;
  const size_t n = group_out * kh * kw;  // one group's columns: (oc, ky, kx)
  weights_.assign(groups, PackedGemmWeights());
  // W [C, M/group, kh, kw] is already B[k = input channel, n = (oc, ky, kx)] row-major.
  for (size_t gi = 0; gi < groups; ++gi)
    weights_[gi].pack(n, group_in, w + gi * group_in * n, static_cast<ptrdiff_t>(n), 1);
  if (bias)
    bias_.assign(bias, bias + groups * group_out);
  else
    bias_.clear();
}

bool ConvTransposeGemm::covers(const ConvGeometry& g) const {
  if (!packed() || g.groups != groups_ || g.group_in != group_in_ || g.group_out != group_out_) return false;
  if (g.rank == 1) return kh_ == 1 && g.kernel[0] == static_cast<int64_t>(kw_);
  return g.rank == 2 && g.kernel[0] == static_cast<int64_t>(kh_) && g.kernel[1] == static_cast<int64_t>(kw_);
}

void ConvTransposeGemm::run(const ConvGeometry& g, const float* x, float* y, F32MinMax minmax) {
  const Axis2 h = g.rank == 2 ? axis(g, 0) : Axis2{}, w = axis(g, g.rank - 1);
  const size_t cin = groups_ * group_in_, cout = groups_ * group_out_, kk = kh_ * kw_;
  const size_t ncols = cout * kk;  // columns of all groups: (co, ky, kx)
  const size_t hw = static_cast<size_t>(h.in * w.in), out_plane = static_cast<size_t>(h.out * w.out);
  const bool write_once = disjoint(h) && disjoint(w);
  const bool prefill = !(covered(h) && covered(w));
  const bool clamp = minmax.min > -std::numeric_limits<float>::infinity() ||
                     minmax.max < std::numeric_limits<float>::infinity();
  if (hw > 0) cols_.resize(hw * ncols);
  const bool transpose_x = cin > 1 && hw > 1;
  if (transpose_x) x_t_.resize(hw * cin);

  for (size_t b = 0; b < g.batch; ++b) {
    const float* xb = x + b * cin * hw;
    float* yb = y + b * cout * out_plane;
    if (hw > 0) {
      // X [Cin, HW] -> X^T [HW, Cin], in blocks of pixels.
      const float* a = xb;
      if (transpose_x) {
        const TransposecKernel& tk = transposec_default_kernel(sizeof(float));
        constexpr size_t kBlock = 512;
        parallel_for((hw + kBlock - 1) / kBlock, [&](size_t begin, size_t end) {
          const size_t p0 = begin * kBlock, p1 = std::min(hw, end * kBlock);
          tk.fn(xb + p0, x_t_.data() + p0 * cin, hw * sizeof(float), cin * sizeof(float), p1 - p0, cin);
        });
        a = x_t_.data();
      }
      for (size_t gi = 0; gi < groups_; ++gi)
        weights_[gi].multiply(hw, a + gi * group_in_, cin, cols_.data() + gi * group_out_ * kk, ncols);
    }
    if (write_once) {
      scatter_disjoint(h, w, cols_.data(), cout, kw_, bias_.empty() ? nullptr : bias_.data(), yb, out_plane, prefill,
                       minmax);
      continue;
    }
    // Overlapping windows: threads split the output channels, each accumulating its planes.
    parallel_for(cout, [&](size_t begin, size_t end) {
      for (size_t co = begin; co < end; ++co) {
        float* yp = yb + co * out_plane;
        std::fill(yp, yp + out_plane, bias_.empty() ? 0.f : bias_[co]);
        if (hw > 0) {
          for (int64_t iy = 0; iy < h.in; ++iy)
            for (int64_t ky = 0; ky < h.kernel; ++ky) {
              const int64_t oy = iy * h.stride - h.pad + ky * h.dilation;
              if (oy < 0 || oy >= h.out) continue;
              float* yrow = yp + oy * w.out;
              const float* crow = cols_.data() + static_cast<size_t>(iy * w.in) * ncols + co * kk +
                                  static_cast<size_t>(ky) * kw_;
              for (int64_t ix = 0; ix < w.in; ++ix) {
                const float* c = crow + static_cast<size_t>(ix) * ncols;
                const int64_t ox0 = ix * w.stride - w.pad;
                for (int64_t kx = 0; kx < w.kernel; ++kx) {
                  const int64_t ox = ox0 + kx * w.dilation;
                  if (ox >= 0 && ox < w.out) yrow[ox] += c[kx];
                }
              }
            }
        }
        if (clamp)
          for (size_t i = 0; i < out_plane; ++i) yp[i] = std::min(std::max(yp[i], minmax.min), minmax.max);
      }
    });
  }
}

}  // namespace kiln
