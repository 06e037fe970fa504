// QS8DwconvNhwc: packing once, the indirection buffer per input geometry, the
// qs8-qc8w-dwconv kernels over the thread pool; and the plain-loop oracle.
#include "ops/qs8_dwconv_nhwc.h"

#include <cmath>
#include <cstdint>
#include <string>

#include "platform/thread_pool.h"

namespace kiln {
namespace {

std::string geometry_text(const ConvGeometry& g) {
  return "rank " + std::to_string(g.rank) + ", groups " + std::to_string(g.groups) + ", group_in " +
         std::to_string(g.group_in) + ", group_out " + std::to_string(g.group_out);
}

Status check_geometry(const ConvGeometry& g) {
  if (!QS8DwconvNhwc::supported(g))
    return unsupported("qs8 depthwise convolution: needs a 2-D convolution with one input and one output channel "
                       "per group, got " + geometry_text(g));
  for (size_t d = 0; d < 2; ++d)
    if (g.in[d] < 0 || g.out[d] < 0 || g.kernel[d] < 1 || g.stride[d] < 1 || g.dilation[d] < 1 || g.pad_begin[d] < 0)
      return invalid_argument("qs8 depthwise convolution: bad geometry in spatial dim " + std::to_string(d) +
                              " (in " + std::to_string(g.in[d]) + ", out " + std::to_string(g.out[d]) + ", kernel " +
                              std::to_string(g.kernel[d]) + ", stride " + std::to_string(g.stride[d]) +
                              ", dilation " + std::to_string(g.dilation[d]) + ", pad " +
                              std::to_string(g.pad_begin[d]) + ")");
  return Status::Ok();
}

}  // namespace

Status QS8DwconvNhwc::pack_common(const ConvGeometry& g, const int8_t* w, int32_t x_zero_point) {
  if (Status st = check_geometry(g); !st.ok()) return st;
  if (g.groups == 0) return invalid_argument("qs8 depthwise convolution: no channels");
  if (w == nullptr) return invalid_argument("qs8 depthwise convolution: weights are required");
  if (x_zero_point < -128 || x_zero_point > 127)
    return invalid_argument("qs8 depthwise convolution: input zero point " + std::to_string(x_zero_point) +
                            " is outside int8");
  channels_ = g.groups;
  kh_ = static_cast<size_t>(g.kernel[0]), kw_ = static_cast<size_t>(g.kernel[1]);
  x_zero_point_ = x_zero_point;
  kernel_ = nullptr;
  sums_kernel_ = nullptr;
  act_kernel_ = nullptr;
  zero_.assign(channels_, static_cast<int8_t>(x_zero_point));
  have_shape_ = false;
  return Status::Ok();
}

Status QS8DwconvNhwc::pack(const ConvGeometry& g, const int8_t* w, const int32_t* bias, const float* requant_scale,
                           int32_t x_zero_point) {
  if (requant_scale == nullptr) return invalid_argument("qs8 depthwise convolution: requantization scales are required");
  if (Status st = check_geometry(g); !st.ok()) return st;
  for (size_t c = 0; c < g.groups; ++c)
    if (!std::isfinite(requant_scale[c]) || requant_scale[c] < 0.f)
      return invalid_argument("qs8 depthwise convolution: requantization scale of channel " + std::to_string(c) +
                              " is " + std::to_string(requant_scale[c]) + " (must be finite and >= 0)");
  KILN_RETURN_IF_ERROR(pack_common(g, w, x_zero_point));
  const size_t ks = kh_ * kw_;
  kernel_ = &qs8_dwconv_default_kernel(ks);
  weights_.assign(qs8_dwconv_packed_size(kernel_->ct, channels_, ks, kernel_->kr) / 4, 0);
  qs8_dwconv_pack(kernel_->ct, channels_, ks, x_zero_point, w, bias, requant_scale, weights_.data(), kernel_->kr);
  return Status::Ok();
}

Status QS8DwconvNhwc::pack_sums(const ConvGeometry& g, const int8_t* w, const int32_t* bias, int32_t x_zero_point) {
  KILN_RETURN_IF_ERROR(pack_common(g, w, x_zero_point));
  const size_t ks = kh_ * kw_;
  sums_kernel_ = &qs8_dwconv_default_sums_kernel();
  const std::vector<float> unused(channels_, 1.f);  // the layout has scales; sums kernels skip them
  weights_.assign(qs8_dwconv_packed_size(sums_kernel_->ct, channels_, ks, sums_kernel_->kr) / 4, 0);
  qs8_dwconv_pack(sums_kernel_->ct, channels_, ks, x_zero_point, w, bias, unused.data(), weights_.data(),
                  sums_kernel_->kr);
  return Status::Ok();
}

Status QS8DwconvNhwc::pack_act(const ConvGeometry& g, const int8_t* w, const int32_t* bias, const float* in_scale,
                               int32_t x_zero_point, QS8Act act) {
  if (in_scale == nullptr) return invalid_argument("qs8 depthwise convolution: dequantization scales are required");
  if (Status st = check_geometry(g); !st.ok()) return st;
  for (size_t c = 0; c < g.groups; ++c)
    if (!std::isfinite(in_scale[c]) || in_scale[c] < 0.f)
      return invalid_argument("qs8 depthwise convolution: dequantization scale of channel " + std::to_string(c) +
                              " is " + std::to_string(in_scale[c]) + " (must be finite and >= 0)");
  KILN_RETURN_IF_ERROR(pack_common(g, w, x_zero_point));
  const size_t ks = kh_ * kw_;
  const QS8DwconvActKernel* k = qs8_dwconv_default_act_kernel(act, ks);
  if (!k) return unsupported("qs8 depthwise convolution: this build has no kernel for the fused activation");
  act_kernel_ = k;
  weights_.assign(qs8_dwconv_packed_size(k->ct, channels_, ks, k->kr) / 4, 0);
  qs8_dwconv_pack(k->ct, channels_, ks, x_zero_point, w, bias, in_scale, weights_.data(), k->kr);
  return Status::Ok();
}

Result<size_t> QS8DwconvNhwc::prepare(const ConvGeometry& g, const int8_t* x) {
  if (Status st = check_geometry(g); !st.ok()) return st;
  if (g.groups != channels_ || static_cast<size_t>(g.kernel[0]) != kh_ || static_cast<size_t>(g.kernel[1]) != kw_)
    return invalid_argument("qs8 depthwise convolution: packed for " + std::to_string(channels_) + " channels and a " +
                            std::to_string(kh_) + "x" + std::to_string(kw_) + " kernel, run with " +
                            std::to_string(g.groups) + " channels and " + std::to_string(g.kernel[0]) + "x" +
                            std::to_string(g.kernel[1]));
  NhwcConv2dShape s;
  s.in_h = static_cast<size_t>(g.in[0]), s.in_w = static_cast<size_t>(g.in[1]);
  s.out_h = static_cast<size_t>(g.out[0]), s.out_w = static_cast<size_t>(g.out[1]);
  s.kernel_h = kh_, s.kernel_w = kw_;
  s.stride_h = static_cast<size_t>(g.stride[0]), s.stride_w = static_cast<size_t>(g.stride[1]);
  s.dilation_h = static_cast<size_t>(g.dilation[0]), s.dilation_w = static_cast<size_t>(g.dilation[1]);
  s.pad_top = static_cast<ptrdiff_t>(g.pad_begin[0]), s.pad_left = static_cast<ptrdiff_t>(g.pad_begin[1]);
  s.pixel_stride = channels_;
  if (g.batch == 0 || s.out_h * s.out_w == 0) return size_t{0};  // nothing to compute
  const bool same = have_shape_ && s.in_h == shape_.in_h && s.in_w == shape_.in_w && s.out_h == shape_.out_h &&
                    s.out_w == shape_.out_w && s.stride_h == shape_.stride_h && s.stride_w == shape_.stride_w &&
                    s.dilation_h == shape_.dilation_h && s.dilation_w == shape_.dilation_w &&
                    s.pad_top == shape_.pad_top && s.pad_left == shape_.pad_left;
  if (!same) {
    indirection_.resize(nhwc_conv_indirection_size(s, 1));
    nhwc_conv_indirection_init(s, 1, x, zero_.data(), indirection_.data());
    base_ = x;
    shape_ = s;
    have_shape_ = true;
  }
  // Byte offset from the buffer's base to this input (wraps when x < base_, as intended).
  return static_cast<size_t>(reinterpret_cast<uintptr_t>(x) - reinterpret_cast<uintptr_t>(base_));
}

Status QS8DwconvNhwc::run(const ConvGeometry& g, const int8_t* x, int8_t* y, const QS8RequantParams& out) {
  if (!kernel_) return internal_error("qs8 depthwise convolution: run before pack (or packed for sums)");
  if (out.output_min > out.output_max || out.output_zero_point < -128 || out.output_zero_point > 127)
    return invalid_argument("qs8 depthwise convolution: output zero point " + std::to_string(out.output_zero_point) +
                            " or clamp [" + std::to_string(out.output_min) + ", " + std::to_string(out.output_max) +
                            "] is invalid");
  const size_t in_px = static_cast<size_t>(g.in[0] * g.in[1]), out_px = static_cast<size_t>(g.out[0] * g.out[1]);
  KILN_ASSIGN_OR_RETURN(const size_t moved, prepare(g, x));
  if (g.batch == 0 || out_px == 0) return Status::Ok();
  for (size_t b = 0; b < g.batch; ++b) {
    QS8DwconvArgs args;
    args.pixels = out_px, args.channels = channels_, args.ks = kh_ * kw_;
    args.indirection = indirection_.data(), args.a_offset = moved + b * in_px * channels_;
    args.zero = zero_.data(), args.packed_w = weights_.data();
    args.out = y + b * out_px * channels_, args.out_stride = channels_, args.params = out;
    parallel_for(out_px, [&](size_t begin, size_t end) { qs8_dwconv_pixels(*kernel_, args, begin, end); });
  }
  return Status::Ok();
}

Status QS8DwconvNhwc::run_sums(const ConvGeometry& g, const int8_t* x, int32_t* sums) {
  if (!sums_kernel_) return internal_error("qs8 depthwise convolution: run_sums before pack_sums");
  const size_t in_px = static_cast<size_t>(g.in[0] * g.in[1]), out_px = static_cast<size_t>(g.out[0] * g.out[1]);
  KILN_ASSIGN_OR_RETURN(const size_t moved, prepare(g, x));
  if (g.batch == 0 || out_px == 0) return Status::Ok();
  const size_t ks = kh_ * kw_;
  for (size_t b = 0; b < g.batch; ++b) {
    const size_t a_offset = moved + b * in_px * channels_;
    int32_t* out = sums + b * out_px * channels_;
    parallel_for(out_px, [&](size_t begin, size_t end) {
      sums_kernel_->fn(channels_, end - begin, ks, indirection_.data() + begin * ks, weights_.data(),
                       out + begin * channels_, channels_, a_offset, zero_.data());
    });
  }
  return Status::Ok();
}

Status QS8DwconvNhwc::run_act(const ConvGeometry& g, const int8_t* x, int8_t* y, const QS8ActParams& out) {
  if (!act_kernel_) return internal_error("qs8 depthwise convolution: run_act before pack_act");
  if (out.output_min > out.output_max || out.output_zero_point < -128 || out.output_zero_point > 127 ||
      !(out.output_scale > 0.f) || !std::isfinite(out.output_scale))
    return invalid_argument("qs8 depthwise convolution: output scale " + std::to_string(out.output_scale) +
                            ", zero point " + std::to_string(out.output_zero_point) + " or clamp [" +
                            std::to_string(out.output_min) + ", " + std::to_string(out.output_max) + "] is invalid");
  const size_t in_px = static_cast<size_t>(g.in[0] * g.in[1]), out_px = static_cast<size_t>(g.out[0] * g.out[1]);
  KILN_ASSIGN_OR_RETURN(const size_t moved, prepare(g, x));
  if (g.batch == 0 || out_px == 0) return Status::Ok();
  const size_t ks = kh_ * kw_;
  for (size_t b = 0; b < g.batch; ++b) {
    const size_t a_offset = moved + b * in_px * channels_;
    int8_t* yb = y + b * out_px * channels_;
    parallel_for(out_px, [&](size_t begin, size_t end) {
      act_kernel_->fn(channels_, end - begin, ks, indirection_.data() + begin * ks, weights_.data(),
                      yb + begin * channels_, channels_, a_offset, zero_.data(), &out);
    });
  }
  return Status::Ok();
}

namespace {
// Plain loops over the layer; `out(acc, c)` makes the int8 output of channel c.
template <class Out>
void dwconv_nhwc_loops(const ConvGeometry& g, const int8_t* x, int32_t x_zero_point, const int8_t* w,
                       const int32_t* bias, int8_t* y, Out out) {
  const int64_t c_count = static_cast<int64_t>(g.groups), kh = g.kernel[0], kw = g.kernel[1];
  for (size_t b = 0; b < g.batch; ++b)
    for (int64_t oy = 0; oy < g.out[0]; ++oy)
      for (int64_t ox = 0; ox < g.out[1]; ++ox)
        for (int64_t c = 0; c < c_count; ++c) {
          int32_t acc = bias ? bias[c] : 0;
          for (int64_t ky = 0; ky < kh; ++ky)
            for (int64_t kx = 0; kx < kw; ++kx) {
              const int64_t iy = oy * g.stride[0] - g.pad_begin[0] + ky * g.dilation[0];
              const int64_t ix = ox * g.stride[1] - g.pad_begin[1] + kx * g.dilation[1];
              if (iy < 0 || iy >= g.in[0] || ix < 0 || ix >= g.in[1]) continue;  // padding: x == zero point
              const int32_t xv = x[((static_cast<int64_t>(b) * g.in[0] + iy) * g.in[1] + ix) * c_count + c];
              acc += (xv - x_zero_point) * w[(c * kh + ky) * kw + kx];
            }
          y[((static_cast<int64_t>(b) * g.out[0] + oy) * g.out[1] + ox) * c_count + c] = out(acc, c);
        }
}
}  // namespace

void qs8_dwconv_nhwc_act_reference(const ConvGeometry& g, const int8_t* x, int32_t x_zero_point, const int8_t* w,
                                   const int32_t* bias, const float* in_scale, QS8Act act, const QS8ActParams& out,
                                   int8_t* y) {
  dwconv_nhwc_loops(g, x, x_zero_point, w, bias, y,
                    [&](int32_t acc, int64_t c) { return qs8_act_requantize(act, acc, in_scale[c], out); });
}

void qs8_dwconv_nhwc_reference(const ConvGeometry& g, const int8_t* x, int32_t x_zero_point, const int8_t* w,
                               const int32_t* bias, const float* requant_scale, const QS8RequantParams& out,
                               int8_t* y) {
  dwconv_nhwc_loops(g, x, x_zero_point, w, bias, y,
                    [&](int32_t acc, int64_t c) { return qs8_requantize(acc, requant_scale[c], out); });
}

}  // namespace kiln
