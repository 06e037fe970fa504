#include "ops/qs8_conv_nhwc.h"

#include <cmath>
#include <string>

#include "platform/thread_pool.h"

namespace kiln {
namespace {

Status check_quant(const QS8ConvQuant& q) {
  auto bad_scale = [](float s) { return !(s > 0.f) || !std::isfinite(s); };
  if (bad_scale(q.x_scale)) return invalid_argument("qs8 conv: x_scale must be positive and finite, got " + std::to_string(q.x_scale));
  if (bad_scale(q.y_scale)) return invalid_argument("qs8 conv: y_scale must be positive and finite, got " + std::to_string(q.y_scale));
  if (q.x_zero_point < -128 || q.x_zero_point > 127)
    return invalid_argument("qs8 conv: x_zero_point must be int8, got " + std::to_string(q.x_zero_point));
  if (q.y_zero_point < -128 || q.y_zero_point > 127)
    return invalid_argument("qs8 conv: y_zero_point must be int8, got " + std::to_string(q.y_zero_point));
  if (q.y_min > q.y_max)
    return invalid_argument("qs8 conv: output clamp [" + std::to_string(q.y_min) + ", " + std::to_string(q.y_max) +
                            "] is empty");
  return Status::Ok();
}

// Per-channel multipliers x_scale * w_scale[m] / y_scale, in QLinearConv's float order.
Result<std::vector<float>> multipliers(size_t n, const float* w_scale, size_t w_scale_count, const QS8ConvQuant& q) {
  if (w_scale_count != 1 && w_scale_count != n)
    return invalid_argument("qs8 conv: w_scale has " + std::to_string(w_scale_count) + " values, expected 1 or " +
                            std::to_string(n));
  std::vector<float> out(n);
  for (size_t m = 0; m < n; ++m) {
    const float ws = w_scale[w_scale_count == 1 ? 0 : m];
    if (!(ws > 0.f) || !std::isfinite(ws))
      return invalid_argument("qs8 conv: w_scale[" + std::to_string(m) + "] must be positive and finite, got " +
                              std::to_string(ws));
    out[m] = q.x_scale * ws / q.y_scale;
  }
  return out;
}

// The int32 sums stay exact while K = taps x channels < 2^16: |x - x_zp| * |w| <= 255 * 128
// per product, so the centered sum stays below 2^31 (and the kernels' split sum a * w plus
// the packed -x_zp * sum w, each below 2^30, equals it).
constexpr size_t kMaxReduction = size_t{1} << 16;

Status check_geometry(const ConvGeometry& g, size_t n, size_t kc, size_t kh, size_t kw) {
  if (g.rank != 2 || g.groups != 1)
    return unsupported("qs8 conv: only 2-D group-1 convolutions, got rank " + std::to_string(g.rank) + " with " +
                       std::to_string(g.groups) + " groups");
  if (g.group_in != kc || g.group_out != n || static_cast<size_t>(g.kernel[0]) != kh ||
      static_cast<size_t>(g.kernel[1]) != kw)
    return invalid_argument("qs8 conv: geometry " + std::to_string(g.group_in) + "->" + std::to_string(g.group_out) +
                            " channels, kernel " + std::to_string(g.kernel[0]) + "x" + std::to_string(g.kernel[1]) +
                            " does not match the packed " + std::to_string(kc) + "->" + std::to_string(n) + ", " +
                            std::to_string(kh) + "x" + std::to_string(kw));
  for (size_t d = 0; d < 2; ++d)
    if (g.in[d] < 0 || g.out[d] < 0 || g.stride[d] < 1 || g.dilation[d] < 1)
      return invalid_argument("qs8 conv: bad geometry in spatial dim " + std::to_string(d));
  return Status::Ok();
}

NhwcConv2dShape nhwc_shape(const ConvGeometry& g, size_t kh, size_t kw, size_t cin) {
  NhwcConv2dShape s;
  s.in_h = static_cast<size_t>(g.in[0]), s.in_w = static_cast<size_t>(g.in[1]);
  s.out_h = static_cast<size_t>(g.out[0]), s.out_w = static_cast<size_t>(g.out[1]);
  s.kernel_h = kh, s.kernel_w = kw;
  s.stride_h = static_cast<size_t>(g.stride[0]), s.stride_w = static_cast<size_t>(g.stride[1]);
  s.dilation_h = static_cast<size_t>(g.dilation[0]), s.dilation_w = static_cast<size_t>(g.dilation[1]);
  s.pad_top = static_cast<ptrdiff_t>(g.pad_begin[0]), s.pad_left = static_cast<ptrdiff_t>(g.pad_begin[1]);
  s.pixel_stride = cin;
  return s;
}

bool same_shape(const NhwcConv2dShape& a, const NhwcConv2dShape& b) {
  return a.in_h == b.in_h && a.in_w == b.in_w && a.out_h == b.out_h && a.out_w == b.out_w &&
         a.kernel_h == b.kernel_h && a.kernel_w == b.kernel_w && a.stride_h == b.stride_h &&
         a.stride_w == b.stride_w && a.dilation_h == b.dilation_h && a.dilation_w == b.dilation_w &&
         a.pad_top == b.pad_top && a.pad_left == b.pad_left && a.pixel_stride == b.pixel_stride;
}

}  // namespace

Status QS8ConvNhwc::pack(size_t out_channels, size_t in_channels, size_t kh, size_t kw, const int8_t* w,
                         const float* w_scale, size_t w_scale_count, const int32_t* bias, const QS8ConvQuant& quant) {
  kernel_ = nullptr;
  act_kernel_ = nullptr;
  have_shape_ = false;
  if (out_channels == 0 || in_channels == 0 || kh == 0 || kw == 0)
    return invalid_argument("qs8 conv: empty weights [" + std::to_string(out_channels) + ", " +
                            std::to_string(in_channels) + ", " + std::to_string(kh) + ", " + std::to_string(kw) + "]");
  if (!w || !w_scale) return invalid_argument("qs8 conv: weights and w_scale are required");
  if (in_channels * kh * kw >= kMaxReduction)
    return unsupported("qs8 conv: " + std::to_string(in_channels * kh * kw) +
                       " products per output exceed the int32 accumulator's range");
  KILN_RETURN_IF_ERROR(check_quant(quant));
  Result<std::vector<float>> scale = multipliers(out_channels, w_scale, w_scale_count, quant);
  if (!scale.ok()) return scale.status();
  const QS8IgemmActKernel* act = nullptr;
  if (quant.activated) {
    act = qs8_igemm_default_act_kernel(quant.activation);
    if (!act) return unsupported("qs8 conv: this build has no IGEMM kernel for the fused activation");
    // The activation kernels dequantize: x_scale * w_scale[m], in QS8Epilogue's order.
    for (size_t m = 0; m < out_channels; ++m) (*scale)[m] = quant.x_scale * w_scale[w_scale_count == 1 ? 0 : m];
  }
  const QS8IgemmKernel& kern = qs8_igemm_default_kernel();
  const size_t nr = act ? act->nr : kern.nr;
  const size_t ks = kh * kw;
  weights_.assign((qs8_igemm_packed_size(nr, out_channels, in_channels, ks) + 3) / 4, 0);
  qs8_igemm_pack(nr, out_channels, in_channels, ks, quant.x_zero_point, w, scale->data(), bias, weights_.data());
  zero_.assign(in_channels, static_cast<int8_t>(quant.x_zero_point));  // padding taps: (zp - zp) * w = 0
  params_ = QS8RequantParams{quant.y_zero_point, quant.y_min, quant.y_max};
  act_params_ = QS8ActParams{quant.y_scale, quant.y_zero_point, quant.y_min, quant.y_max};
  n_ = out_channels, kc_ = in_channels, kh_ = kh, kw_ = kw;
  if (act) {
    act_kernel_ = act;
    mr_ = act->mr;
  } else {
    kernel_ = &kern;
    mr_ = kern.mr;
  }
  return Status::Ok();
}

Status QS8ConvNhwc::run(const ConvGeometry& g, const int8_t* x, int8_t* y) {
  if (!packed()) return invalid_argument("qs8 conv: run before a successful pack");
  KILN_RETURN_IF_ERROR(check_geometry(g, n_, kc_, kh_, kw_));
  const size_t in_px = static_cast<size_t>(g.in[0] * g.in[1]), out_px = static_cast<size_t>(g.out[0] * g.out[1]);
  if (g.batch == 0 || out_px == 0) return Status::Ok();
  if (!x || !y) return invalid_argument("qs8 conv: null input or output");
  const NhwcConv2dShape s = nhwc_shape(g, kh_, kw_, kc_);
  if (!have_shape_ || !same_shape(s, shape_)) {
    // One image's pointers; other images and a moved input are reached by a_offset.
    indirection_.resize(nhwc_conv_indirection_size(s, mr_));
    nhwc_conv_indirection_init(s, mr_, x, zero_.data(), indirection_.data());
    base_ = x;
    shape_ = s;
    have_shape_ = true;
  }
  // Byte offset from the buffer's base to this input (wraps when x < base_).
  const size_t moved = reinterpret_cast<uintptr_t>(x) - reinterpret_cast<uintptr_t>(base_);
  for (size_t b = 0; b < g.batch; ++b) {
    QS8IgemmArgs args;
    args.m = out_px, args.n = n_, args.kc = kc_, args.ks = kh_ * kw_;
    args.indirection = indirection_.data(), args.a_offset = moved + b * in_px * kc_, args.zero = zero_.data();
    args.packed_w = weights_.data(), args.c = y + b * out_px * n_, args.c_stride = n_, args.params = params_;
    args.act_params = act_params_;
    auto run_tiles = [&](const auto& kern) {
      const size_t panels = qs8_igemm_col_panels(kern, n_);
      parallel_for(qs8_igemm_pixel_tiles(kern, out_px),
                   [&](size_t begin, size_t end) { qs8_igemm_tiles(kern, args, begin, end, 0, panels); });
    };
    if (act_kernel_)
      run_tiles(*act_kernel_);
    else
      run_tiles(*kernel_);
  }
  return Status::Ok();
}

Status qs8_conv_nhwc_reference(const ConvGeometry& g, const int8_t* x, const int8_t* w, const float* w_scale,
                               size_t w_scale_count, const int32_t* bias, const QS8ConvQuant& quant, int8_t* y) {
  const size_t n = g.group_out, kc = g.group_in;
  if (!w || !w_scale) return invalid_argument("qs8 conv: weights and w_scale are required");
  KILN_RETURN_IF_ERROR(check_geometry(g, n, kc, static_cast<size_t>(g.kernel[0]), static_cast<size_t>(g.kernel[1])));
  KILN_RETURN_IF_ERROR(check_quant(quant));
  Result<std::vector<float>> scale = multipliers(n, w_scale, w_scale_count, quant);
  if (!scale.ok()) return scale.status();
  const int64_t kh = g.kernel[0], kw = g.kernel[1];
  const QS8RequantParams params{quant.y_zero_point, quant.y_min, quant.y_max};
  const QS8ActParams act_params{quant.y_scale, quant.y_zero_point, quant.y_min, quant.y_max};
  for (size_t b = 0; b < g.batch; ++b)
    for (int64_t oy = 0; oy < g.out[0]; ++oy)
      for (int64_t ox = 0; ox < g.out[1]; ++ox) {
        int8_t* out = y + ((static_cast<int64_t>(b) * g.out[0] + oy) * g.out[1] + ox) * static_cast<int64_t>(n);
        for (size_t m = 0; m < n; ++m) {
          int32_t acc = bias ? bias[m] : 0;
          for (int64_t ky = 0; ky < kh; ++ky)
            for (int64_t kx = 0; kx < kw; ++kx) {
              const int64_t iy = oy * g.stride[0] - g.pad_begin[0] + ky * g.dilation[0];
              const int64_t ix = ox * g.stride[1] - g.pad_begin[1] + kx * g.dilation[1];
              if (iy < 0 || iy >= g.in[0] || ix < 0 || ix >= g.in[1]) continue;  // padding: x == zero point
              const int8_t* px = x + ((static_cast<int64_t>(b) * g.in[0] + iy) * g.in[1] + ix) * static_cast<int64_t>(kc);
              for (size_t c = 0; c < kc; ++c)
                acc += (int32_t{px[c]} - quant.x_zero_point) *
                       int32_t{w[((m * kc + c) * static_cast<size_t>(kh) + static_cast<size_t>(ky)) * static_cast<size_t>(kw) +
                                 static_cast<size_t>(kx)]};
            }
          out[m] = quant.activated ? qs8_act_requantize(quant.activation, acc,
                                                        quant.x_scale * w_scale[w_scale_count == 1 ? 0 : m], act_params)
                                   : qs8_requantize(acc, (*scale)[m], params);
        }
      }
  return Status::Ok();
}

}  // namespace kiln
