// Conv (opsets 1..22 share one form): N-D, groups (incl. depthwise), strides, dilations,
// explicit or automatic padding, optional bias; kernel_shape may be omitted (taken from W).
// With constant weights, 1-D and 2-D layers (and pointwise ones of any rank) run packed
// kernels on channels-last copies of X and Y: 1-D ungrouped undilated layers one GEMM per
// image, the others GEMM / IGEMM / depthwise (ops/conv_nhwc_kernels.h); weights computed
// at run time, and other layers, run the reference convolution.
#include <algorithm>
#include <optional>
#include <vector>

#include "kernels/reference/reference.h"
#include "ops/conv_nhwc_kernels.h"
#include "ops/conv_util.h"
#include "ops/fused_activation.h"
#include "ops/op.h"
#include "ops/packed_gemm.h"
#include "platform/thread_pool.h"

namespace kiln {

using namespace nn;  // NOLINT: this file's helpers (ops/nn_util.h)
namespace {

// parallel_for over n rows of a layout copy of `floats` values; small copies stay on the
// calling thread (a hand-off would cost more than the copy).
template <class Fn>
void copy_rows(size_t n, size_t floats, Fn&& fn) {
  if (n == 0) return;
  if (floats < (size_t{1} << 16))
    fn(size_t{0}, n);
  else
    parallel_for(n, fn);
}

class ConvOp final : public Op {
 public:
  ConvOp(std::string who, WindowAttrs attrs, int64_t group, FusedActivation act)
      : who_(std::move(who)), attrs_(std::move(attrs)), group_(group), act_(act) {
    post_act_ = split_clamp(act_, &minmax_.min, &minmax_.max);
  }

  Status infer(std::span<const TensorInfo> in, std::span<TensorInfo> out) override {
    KILN_RETURN_IF_ERROR(check_arity(in.size(), 2, out.size(), 1, who_));
    KILN_RETURN_IF_ERROR(expect_f32(in, 0, who_, "X"));
    KILN_RETURN_IF_ERROR(expect_f32(in, 1, who_, "W"));
    if (input_present(in, 2)) KILN_RETURN_IF_ERROR(expect_f32(in, 2, who_, "B"));
    const Dims* bias = input_present(in, 2) ? &in[2].dims : nullptr;
    KILN_ASSIGN_OR_RETURN(ConvGeometry g, geometry(in[0].dims, in[1].dims, bias));
    out[0].dtype = DType::kF32;
    out[0].dims = output_dims(g);
    return Status::Ok();
  }

  Status run(std::span<const Tensor> in, std::span<Tensor> out) override {
    KILN_RETURN_IF_ERROR(check_arity(in.size(), 2, out.size(), 1, who_));
    const bool has_bias = input_present(in, 2);
    KILN_ASSIGN_OR_RETURN(ConvGeometry g, geometry(in[0].dims(), in[1].dims(), has_bias ? &in[2].dims() : nullptr));
    KILN_RETURN_IF_ERROR(check_output(out[0], output_dims(g), who_));
    float* y = out[0].mutable_data<float>();
    if (!use_reference_kernels()) {
      if (gemm1d_.packed() && is_gemm1d(g)) {
        run_gemm1d(g, in[0].data<float>(), y);
        return Status::Ok();
      }
      if (fast_.packed())
        if (std::optional<ConvGeometry> fg = fast_geometry(g)) {
          run_fast(*fg, in[0].data<float>(), y);
          return Status::Ok();
        }
    }
    // Threads split the (image, output channel) planes; each applies the activation to its own.
    const float* x = in[0].data<float>();
    const float* w = in[1].data<float>();
    const float* bias = has_bias ? in[2].data<float>() : nullptr;
    const int64_t plane = out[0].size() / std::max<int64_t>(1, out[0].dim(0) * out[0].dim(1));
    parallel_for(g.batch * g.groups * g.group_out, [&](size_t begin, size_t end) {
      f32_conv_reference_channels(g, x, w, bias, y, begin, end);
      apply_fused_activation(act_, y + static_cast<int64_t>(begin) * plane, static_cast<int64_t>(end - begin) * plane);
    });
    return Status::Ok();
  }

  // Constant W (and bias) of a 1-D or 2-D layer, or a pointwise layer of any rank, packed
  // once for the channels-last kernels (ops/conv_nhwc_kernels.h): run() transposes X to
  // channels-last, runs GEMM / IGEMM / depthwise there and transposes Y back; the
  // transposes are O(C * pixels) against the convolution's O(Cin * Cout * taps * pixels).
  void pack(const Tensor& w, const Tensor* bias) {
    const Dims& d = w.dims();
    if (d.size() < 3 || w.dtype() != DType::kF32 || d[0] % group_ != 0 || use_reference_kernels()) return;
    if (bias && (bias->dtype() != DType::kF32 || bias->size() != d[0])) return;
    int64_t kh = 1, kw = 1;
    if (d.size() == 3) {
      kw = d[2];
    } else if (d.size() == 4) {
      kh = d[2], kw = d[3];
    } else {
      for (size_t i = 2; i < d.size(); ++i)
        if (d[i] != 1) return;  // 3-D and up: only pointwise layers (a 1-D GEMM over the pixels)
    }
    packed_groups_ = static_cast<size_t>(group_);
    packed_in_ = static_cast<size_t>(d[1]);
    packed_out_ = static_cast<size_t>(d[0] / group_);
    packed_kh_ = static_cast<size_t>(kh), packed_kw_ = static_cast<size_t>(kw);
    bool dilated = false;
    for (int64_t v : attrs_.dilations) dilated = dilated || v != 1;
    if (d.size() == 3 && group_ == 1 && !dilated) {
      // 1-D, one group, no dilation: W [Cout, Cin, K] reordered to [Cout][K][Cin], so the
      // k index t * Cin + c matches a window of K channels-last pixels read as one row.
      const size_t cin = packed_in_, k = packed_kw_, cout = packed_out_;
      std::vector<float> wt(cout * k * cin);
      const float* wp = w.data<float>();
      for (size_t m = 0; m < cout; ++m)
        for (size_t c = 0; c < cin; ++c)
          for (size_t t = 0; t < k; ++t) wt[(m * k + t) * cin + c] = wp[(m * cin + c) * k + t];
      gemm1d_.pack(cout, k * cin, wt.data(), 1, static_cast<ptrdiff_t>(k * cin), 1.f,
                   bias ? bias->data<float>() : nullptr, 1);
      return;
    }
    fast_.pack(packed_groups_, packed_in_, packed_out_, packed_kh_, packed_kw_, w.data<float>(),
               bias ? bias->data<float>() : nullptr);
  }

 private:
  bool is_gemm1d(const ConvGeometry& g) const {
    return g.rank == 1 && g.groups == 1 && g.group_in == packed_in_ && g.group_out == packed_out_ &&
           g.kernel[0] == static_cast<int64_t>(packed_kw_) && g.dilation[0] == 1;
  }

  // A 1-D convolution with one group and no dilation is one GEMM per image: on the
  // channels-last input, zero-padded, the window of output l is the K * Cin floats from
  // pixel l * stride on, so A's rows are those windows (row stride stride * Cin; they
  // overlap when K > stride) and the packed W [K * Cin, Cout] gives Y^T [L_out, Cout].
  // No copy at all for one input channel and no padding (the STFT-like first layer of
  // audio models), no transpose of Y for one output channel or one output pixel.
  void run_gemm1d(const ConvGeometry& g, const float* x, float* y) {
    const size_t cin = g.group_in, cout = g.group_out, len = static_cast<size_t>(g.in[0]);
    const size_t out_len = static_cast<size_t>(g.out[0]), k = static_cast<size_t>(g.kernel[0]);
    const size_t stride = static_cast<size_t>(g.stride[0]), pad = static_cast<size_t>(g.pad_begin[0]);
    if (out_len == 0) return;
    const size_t span = (out_len - 1) * stride + k;  // padded positions the windows cover
    const bool transpose_y = cout > 1 && out_len > 1;
    for (size_t b = 0; b < g.batch; ++b) {
      const float* xb = x + b * cin * len;
      float* yb = y + b * cout * out_len;
      const float* a = xb;
      if (cin > 1 || pad > 0 || span > len) {
        // Padded position p holds input position p - pad: zeros before and after the input.
        x_nhwc_.resize(span * cin);
        float* xp = x_nhwc_.data();
        const size_t p0 = std::min(span, pad), p1 = std::min(span, pad + len);
        std::fill(xp, xp + p0 * cin, 0.f);
        std::fill(xp + p1 * cin, xp + span * cin, 0.f);
        copy_rows(p1 - p0, (p1 - p0) * cin, [&](size_t q0, size_t q1) {
          f32_transpose_reference(cin, q1 - q0, xb + (p0 - pad) + q0, len, xp + (p0 + q0) * cin, cin);
        });
        a = xp;
      }
      if (transpose_y) y_nhwc_.resize(out_len * cout);
      float* yt = transpose_y ? y_nhwc_.data() : yb;
      gemm1d_.multiply(out_len, a, stride * cin, yt, cout, minmax_);
      if (!transpose_y) {
        apply_fused_activation(post_act_, yb, static_cast<int64_t>(cout * out_len));
        continue;
      }
      copy_rows(cout, cout * out_len, [&](size_t c0, size_t c1) {
        f32_transpose_reference(out_len, c1 - c0, yt + c0, cout, yb + c0 * out_len, out_len);
        apply_fused_activation(post_act_, yb + c0 * out_len, static_cast<int64_t>((c1 - c0) * out_len));
      });
    }
  }

  // The geometry the channels-last kernels run for g (rank 1 or 2), or nullopt when g does
  // not match the packed weights. A pointwise layer of rank > 2 becomes 1-D over its pixels.
  std::optional<ConvGeometry> fast_geometry(const ConvGeometry& g) const {
    if (g.groups != packed_groups_ || g.group_in != packed_in_ || g.group_out != packed_out_) return std::nullopt;
    if (g.rank == 1 || g.rank == 2) {
      const int64_t kh = g.rank == 2 ? g.kernel[0] : 1, kw = g.kernel[g.rank - 1];
      if (kh != static_cast<int64_t>(packed_kh_) || kw != static_cast<int64_t>(packed_kw_)) return std::nullopt;
      return g;
    }
    int64_t pixels = 1;
    for (size_t d = 0; d < g.rank; ++d) {
      if (g.kernel[d] != 1 || g.stride[d] != 1 || g.pad_begin[d] != 0 || g.out[d] != g.in[d]) return std::nullopt;
      pixels *= g.in[d];
    }
    ConvGeometry flat = g;
    flat.rank = 1;
    flat.in[0] = flat.out[0] = pixels;
    flat.kernel[0] = flat.stride[0] = flat.dilation[0] = 1;
    flat.pad_begin[0] = 0;
    return flat;
  }

  // NCHW in and out around the channels-last kernels. A side with one channel or one pixel
  // per image is the same in both layouts and is not copied.
  void run_fast(const ConvGeometry& g, const float* x, float* y) {
    const size_t cin = g.groups * g.group_in, cout = g.groups * g.group_out;
    size_t in_px = 1, out_px = 1;
    for (size_t d = 0; d < g.rank; ++d) {
      in_px *= static_cast<size_t>(g.in[d]);
      out_px *= static_cast<size_t>(g.out[d]);
    }
    const float* xc = x;
    if (cin > 1 && in_px > 1) {
      x_nhwc_.resize(g.batch * in_px * cin);
      for (size_t b = 0; b < g.batch; ++b) {
        const float* xb = x + b * cin * in_px;
        float* xt = x_nhwc_.data() + b * in_px * cin;
        copy_rows(in_px, in_px * cin, [&](size_t p0, size_t p1) {
          f32_transpose_reference(cin, p1 - p0, xb + p0, in_px, xt + p0 * cin, cin);
        });
      }
      xc = x_nhwc_.data();
    }
    const bool transpose_y = cout > 1 && out_px > 1;
    if (transpose_y) y_nhwc_.resize(g.batch * out_px * cout);
    float* yc = transpose_y ? y_nhwc_.data() : y;
    fast_.run(g, xc, yc, minmax_);
    if (!transpose_y) {
      apply_fused_activation(post_act_, y, static_cast<int64_t>(g.batch * cout * out_px));
      return;
    }
    for (size_t b = 0; b < g.batch; ++b) {
      const float* yt = yc + b * out_px * cout;
      float* yb = y + b * cout * out_px;
      copy_rows(cout, cout * out_px, [&](size_t c0, size_t c1) {
        f32_transpose_reference(out_px, c1 - c0, yt + c0, cout, yb + c0 * out_px, out_px);
        apply_fused_activation(post_act_, yb + c0 * out_px, static_cast<int64_t>((c1 - c0) * out_px));
      });
    }
  }

  Result<ConvGeometry> geometry(const Dims& x, const Dims& w, const Dims* bias) const {
    if (x.size() < 3)
      return invalid_argument(who_ + "input X must have rank >= 3 (N, C, spatial...), got " + dims_to_string(x));
    if (w.size() != x.size())
      return invalid_argument(who_ + "weights W " + dims_to_string(w) + " must have the rank of X " +
                              dims_to_string(x));
    const int64_t c = x[1], m = w[0];
    if (c % group_ != 0 || w[1] * group_ != c)
      return invalid_argument(who_ + "X has " + std::to_string(c) + " channels but W " + dims_to_string(w) +
                              " with group " + std::to_string(group_) + " expects " +
                              std::to_string(w[1] * group_));
    if (m % group_ != 0)
      return invalid_argument(who_ + "W has " + std::to_string(m) + " output channels, not divisible by group " +
                              std::to_string(group_));
    if (bias && (bias->size() != 1 || (*bias)[0] != m))
      return invalid_argument(who_ + "bias B must have shape [" + std::to_string(m) + "], got " +
                              dims_to_string(*bias));
    std::vector<int64_t> kernel = dims_slice(w, 2, w.size());
    if (!attrs_.kernel_shape.empty() && attrs_.kernel_shape != kernel)
      return invalid_argument(who_ + "kernel_shape " + dims_to_string(attrs_.kernel_shape) +
                              " does not match the weights " + dims_to_string(w));
    const Dims spatial = dims_slice(x, 2, x.size());
    KILN_ASSIGN_OR_RETURN(Window win, resolve_window(attrs_, spatial, kernel, false, who_));
    return conv_geometry(win, spatial, x[0], group_, c, m);
  }

  static Dims output_dims(const ConvGeometry& g) {
    Dims d = {static_cast<int64_t>(g.batch), static_cast<int64_t>(g.groups * g.group_out)};
    for (size_t i = 0; i < g.rank; ++i) d.push_back(g.out[i]);
    return d;
  }

  std::string who_;
  WindowAttrs attrs_;
  int64_t group_;
  FusedActivation act_;
  F32MinMax minmax_;          // Relu and Clip, applied by the fast kernels as their clamp
  FusedActivation post_act_;  // other activations, applied after the fast kernels
  PackedGemmWeights gemm1d_;  // 1-D, one group, no dilation (run_gemm1d)
  NhwcConvKernels fast_;      // other 1-D and 2-D layers, pointwise ones of any rank
  size_t packed_groups_ = 0, packed_in_ = 0, packed_out_ = 0, packed_kh_ = 0, packed_kw_ = 0;
  std::vector<float> x_nhwc_, y_nhwc_;  // channels-last copies; the op is not run concurrently
};

}  // namespace

Result<std::unique_ptr<Op>> create_conv(const OpContext& ctx) {
  KILN_RETURN_IF_ERROR(check_input_count(ctx, 2, 3));
  KILN_ASSIGN_OR_RETURN(WindowAttrs attrs, parse_window_attrs(ctx.node));
  KILN_ASSIGN_OR_RETURN(int64_t group, ctx.node.attr_int("group", 1));
  if (group <= 0 || group >= (int64_t{1} << 31))
    return invalid_model(prefix(ctx.node) + "group must be positive (and sane), got " + std::to_string(group));
  KILN_ASSIGN_OR_RETURN(FusedActivation act, parse_fused_activation(ctx.node));
  auto op = std::make_unique<ConvOp>(prefix(ctx.node), std::move(attrs), group, act);
  const Tensor* bias = ctx.constant_input(2);
  if (const Tensor* w = ctx.constant_input(1); w && (bias || !ctx.has_input(2))) op->pack(*w, bias);
  return std::unique_ptr<Op>(std::move(op));
}

}  // namespace kiln
