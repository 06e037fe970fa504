// kiln.QLinearNhwcConv (graph/kiln_extensions.h), written by the fuse_qdq pass: QLinearConv's
// nine inputs (x, x_scale, x_zero_point, w, w_scale, w_zero_point, y_scale, y_zero_point,
// B int32) on channels-last int8 data, X [N, H, W, C] -> Y [N, OH, OW, M], with
// kiln.NhwcConv's attributes and fused activation (applied to the real value before
// requantization; Relu and Clip become the int8 clamp). Activations stay int8 from one
// layer to the next.
// With constant weights that are symmetric (zero point 0) and constant quantization
// parameters, the op packs once. With no activation, Relu or Clip (an int8 clamp):
//  * group 1: the qs8-qc8w IGEMM runner (ops/qs8_conv_nhwc.h);
//  * depthwise (group = C = M): the qs8-qc8w-dwconv runner (ops/qs8_dwconv_nhwc.h).
// An activation that needs the real value (HardSwish, Swish, ...) takes the int32 sums
// and requantizes in QS8Epilogue (ops/qs8_requant_gemm.h):
//  * group 1: that GEMM over the pixels (a 1x1 stride-1 layer reads X as it lies; the rest
//    unfold each window into a row, padding = x_zero_point);
//  * depthwise: an int32 loop over the taps, channels innermost.
// Everything else (other groups, run-time weights or parameters, KILN_REFERENCE_KERNELS=1)
// runs the int32 reference loop. All paths give the same int8 results.
#include <algorithm>
#include <cstring>
#include <vector>

#include "ops/conv_util.h"
#include "ops/fused_activation.h"
#include "ops/op.h"
#include "ops/packed_gemm.h"  // use_reference_kernels
#include "ops/qlinear_util.h"
#include "ops/qs8_conv_nhwc.h"
#include "ops/qs8_dwconv_nhwc.h"
#include "ops/qs8_requant_gemm.h"
#include "platform/thread_pool.h"

namespace kiln {

using namespace nn;  // NOLINT: ops/nn_util.h helpers
namespace {

// Input slots (QLinearConv's order).
enum : size_t { kX, kXScale, kXZero, kW, kWScale, kWZero, kYScale, kYZero, kB };

int32_t scalar_or_zero(std::span<const Tensor> in, size_t i) {
  return input_present(in, i) ? static_cast<int32_t>(in[i].get_i64(0)) : 0;
}

class QLinearNhwcConvOp final : public Op {
 public:
  QLinearNhwcConvOp(std::string who, NhwcConvAttrs attrs, FusedActivation act)
      : who_(std::move(who)), attrs_(std::move(attrs)), act_(act) {}

  Status infer(std::span<const TensorInfo> in, std::span<TensorInfo> out) override {
    KILN_RETURN_IF_ERROR(check_arity(in.size(), 8, out.size(), 1, who_));
    if (!input_present(in, kX) || !input_present(in, kW)) return invalid_model(who_ + "x and w are required");
    if (in[kX].dtype != DType::kI8) return unsupported(who_ + "input x must be int8, got " + dtype_name(in[kX].dtype));
    if (in[kW].dtype != DType::kI8) return unsupported(who_ + "input w must be int8, got " + dtype_name(in[kW].dtype));
    const Dims* bias = input_present(in, kB) ? &in[kB].dims : nullptr;
    KILN_ASSIGN_OR_RETURN(ConvGeometry g, nhwc_conv_geometry(attrs_, in[kX].dims, in[kW].dims, {{"bias B", bias}}, who_));
    const int64_t m = in[kW].dims[0];
    KILN_RETURN_IF_ERROR(check_scale_input(in, kXScale, 1, "x_scale", who_));
    KILN_RETURN_IF_ERROR(check_scale_input(in, kWScale, m, "w_scale", who_));
    KILN_RETURN_IF_ERROR(check_scale_input(in, kYScale, 1, "y_scale", who_));
    KILN_RETURN_IF_ERROR(check_zero_point_input(in, kXZero, DType::kI8, 1, "x_zero_point", who_));
    KILN_RETURN_IF_ERROR(check_zero_point_input(in, kWZero, DType::kI8, m, "w_zero_point", who_));
    if (!input_present(in, kYZero) || in[kYZero].dtype != DType::kI8)
      return unsupported(who_ + "y_zero_point must be present and int8 (the output type)");
    KILN_RETURN_IF_ERROR(check_zero_point_input(in, kYZero, DType::kI8, 1, "y_zero_point", who_));
    if (bias) KILN_RETURN_IF_ERROR(expect_dtype(in[kB], {DType::kI32}, who_ + "input B"));
    out[0].dtype = DType::kI8;
    out[0].dims = nhwc_conv_output_dims(g);
    return Status::Ok();
  }

  Status run(std::span<const Tensor> in, std::span<Tensor> out) override {
    const bool has_bias = input_present(in, kB);
    KILN_ASSIGN_OR_RETURN(ConvGeometry g, nhwc_conv_geometry(attrs_, in[kX].dims(), in[kW].dims(),
                                                             {{"bias B", has_bias ? &in[kB].dims() : nullptr}}, who_));
    if (out[0].dtype() != DType::kI8 || out[0].dims() != nhwc_conv_output_dims(g))
      return internal_error(who_ + "output buffer is " + dtype_name(out[0].dtype()) + dims_to_string(out[0].dims()) +
                            ", expected int8" + dims_to_string(nhwc_conv_output_dims(g)));
    const int8_t* x = in[kX].data<int8_t>();
    int8_t* y = out[0].mutable_data<int8_t>();
    if (conv_.packed() && g.groups == 1) return conv_.run(g, x, y);
    if (dw_.packed() && QS8DwconvNhwc::supported(g)) {
      QS8RequantParams p;
      p.output_zero_point = dw_ep_.y_zero;
      p.output_min = static_cast<int8_t>(dw_ep_.qmin);
      p.output_max = static_cast<int8_t>(dw_ep_.qmax);
      return dw_.run(g, x, y, p);
    }
    if (gemm_.packed() && g.groups == 1) {
      run_gemm(g, x, y);
      return Status::Ok();
    }
    if (!dw_weights_.empty() && g.group_in == 1 && g.group_out == 1) {
      run_depthwise(g, x, y);
      return Status::Ok();
    }
    return run_reference(g, in, y);
  }

  // Packs when the weights are constant symmetric int8 and every quantization parameter is
  // constant (what fuse_qdq writes); otherwise the op keeps the reference loop.
  void pack(const OpContext& ctx) {
    if (use_reference_kernels()) return;
    const Tensor* w = ctx.constant_input(kW);
    const Tensor* xs = ctx.constant_input(kXScale);
    const Tensor* ws = ctx.constant_input(kWScale);
    const Tensor* ys = ctx.constant_input(kYScale);
    const Tensor* yz = ctx.constant_input(kYZero);
    if (!w || !xs || !ws || !ys || !yz || w->dtype() != DType::kI8 || w->rank() != 4) return;
    if (xs->dtype() != DType::kF32 || ws->dtype() != DType::kF32 || ys->dtype() != DType::kF32 || yz->dtype() != DType::kI8 ||
        xs->size() != 1 || ys->size() != 1 || yz->size() != 1)
      return;
    const size_t m = static_cast<size_t>(w->dim(0));
    if (ws->size() != 1 && static_cast<size_t>(ws->size()) != m) return;
    int32_t x_zero = 0;
    if (ctx.has_input(kXZero)) {
      const Tensor* xz = ctx.constant_input(kXZero);
      if (!xz || xz->dtype() != DType::kI8 || xz->size() != 1) return;
      x_zero = xz->data<int8_t>()[0];
    }
    if (ctx.has_input(kWZero)) {
      const Tensor* wz = ctx.constant_input(kWZero);
      if (!wz || wz->dtype() != DType::kI8) return;
      for (int64_t i = 0; i < wz->size(); ++i)
        if (wz->data<int8_t>()[i] != 0) return;
    }
    std::vector<int32_t> bias(m, 0);
    if (ctx.has_input(kB)) {
      const Tensor* b = ctx.constant_input(kB);
      if (!b || b->dtype() != DType::kI32 || static_cast<size_t>(b->size()) != m) return;
      std::memcpy(bias.data(), b->data<int32_t>(), m * sizeof(int32_t));
    }
    QS8Epilogue ep;
    ep.init(xs->data<float>()[0], ws->data<float>(), static_cast<size_t>(ws->size()), m, ys->data<float>()[0],
            yz->data<int8_t>()[0], act_);
    x_zero_ = x_zero;
    const size_t gi = static_cast<size_t>(w->dim(1)), taps = static_cast<size_t>(w->dim(2) * w->dim(3));
    const int8_t* wd = w->data<int8_t>();
    if (!ep.post.active()) {
      // The int8 clamp: the runners with requantization in the kernels.
      if (attrs_.group == 1) {
        QS8ConvQuant quant;
        quant.x_scale = xs->data<float>()[0];
        quant.x_zero_point = x_zero;
        quant.y_scale = ys->data<float>()[0];
        quant.y_zero_point = ep.y_zero;
        quant.y_min = static_cast<int8_t>(ep.qmin);
        quant.y_max = static_cast<int8_t>(ep.qmax);
        if (conv_.pack(m, gi, static_cast<size_t>(w->dim(2)), static_cast<size_t>(w->dim(3)), wd, ws->data<float>(),
                       static_cast<size_t>(ws->size()), bias.data(), quant)
                .ok())
          return;
      } else if (gi == 1 && attrs_.group == static_cast<int64_t>(m)) {
        ConvGeometry g;  // what pack reads: channels and kernel (spatial sizes come per run)
        g.rank = 2;
        g.groups = m;
        for (size_t d = 0; d < 2; ++d) {
          g.kernel[d] = w->dim(2 + d);
          g.in[d] = g.out[d] = 1;
          g.stride[d] = g.dilation[d] = 1;
        }
        if (dw_.pack(g, wd, bias.data(), ep.multiplier.data(), x_zero).ok()) {
          dw_ep_ = std::move(ep);
          return;
        }
      }
    }
    if (attrs_.group == 1) {
      // W [M, C, kH, kW] -> k index (tap, c): the order of an unfolded NHWC window.
      const size_t k = gi * taps;
      std::vector<int8_t> wt(m * k);
      for (size_t o = 0; o < m; ++o)
        for (size_t c = 0; c < gi; ++c)
          for (size_t t = 0; t < taps; ++t) wt[o * k + t * gi + c] = wd[(o * gi + c) * taps + t];
      gemm_.pack(m, k, wt.data(), 1, static_cast<ptrdiff_t>(k), bias.data(), x_zero, std::move(ep));
      return;
    }
    if (gi == 1 && attrs_.group == static_cast<int64_t>(m)) {
      // Depthwise: [taps][C] so a tap's weights for all channels are contiguous.
      dw_weights_.resize(taps * m);
      for (size_t c = 0; c < m; ++c)
        for (size_t t = 0; t < taps; ++t) dw_weights_[t * m + c] = wd[c * taps + t];
      dw_bias_ = std::move(bias);
      dw_ep_ = std::move(ep);
    }
  }

 private:
  void run_gemm(const ConvGeometry& g, const int8_t* x, int8_t* y) {
    const size_t c = g.group_in, m = g.group_out;
    const size_t pixels = static_cast<size_t>(g.out[0] * g.out[1]);
    const bool pointwise = g.kernel[0] == 1 && g.kernel[1] == 1 && g.stride[0] == 1 && g.stride[1] == 1 &&
                           g.pad_begin[0] == 0 && g.pad_begin[1] == 0 && g.out[0] == g.in[0] && g.out[1] == g.in[1];
    const size_t kp = gemm_.padded_k();
    // A 1x1 layer reads X in place when the kernels' reads past a row's k stay inside X.
    if (pointwise && kp == c) {
      gemm_.run(g.batch * pixels, x, c, y, m);
      return;
    }
    rows_.resize(pixels * kp);
    const size_t in_plane = static_cast<size_t>(g.in[0] * g.in[1]) * c;
    const int8_t pad = static_cast<int8_t>(x_zero_);
    for (size_t b = 0; b < g.batch; ++b) {
      const int8_t* xb = x + b * in_plane;
      parallel_for(static_cast<size_t>(g.out[0]), [&](size_t r0, size_t r1) {
        for (size_t oh = r0; oh < r1; ++oh)
          for (int64_t ow = 0; ow < g.out[1]; ++ow) {
            int8_t* row = rows_.data() + (oh * static_cast<size_t>(g.out[1]) + static_cast<size_t>(ow)) * kp;
            for (int64_t kh = 0; kh < g.kernel[0]; ++kh) {
              const int64_t ih = static_cast<int64_t>(oh) * g.stride[0] - g.pad_begin[0] + kh * g.dilation[0];
              for (int64_t kw = 0; kw < g.kernel[1]; ++kw, row += c) {
                const int64_t iw = ow * g.stride[1] - g.pad_begin[1] + kw * g.dilation[1];
                if (ih >= 0 && ih < g.in[0] && iw >= 0 && iw < g.in[1])
                  std::memcpy(row, xb + static_cast<size_t>(ih * g.in[1] + iw) * c, c);
                else
                  std::memset(row, pad, c);
              }
            }
          }
      });
      gemm_.run(pixels, rows_.data(), kp, y + b * pixels * m, m);
    }
  }

  // Stride 1: for one tap the inputs of a whole output row are contiguous, so each tap is
  // one long multiply-add over (pixel, channel) against the tap's weights repeated per
  // pixel (built once per output width), instead of one short loop per pixel.
  void run_depthwise_rows(const ConvGeometry& g, const int8_t* x, int8_t* y) {
    const size_t c = g.groups, ow_n = static_cast<size_t>(g.out[1]);
    const size_t taps = static_cast<size_t>(g.kernel[0] * g.kernel[1]);
    if (dw_rep_width_ != ow_n) {
      dw_rep_.resize(taps * ow_n * c);
      for (size_t t = 0; t < taps; ++t)
        for (size_t p = 0; p < ow_n; ++p)
          std::copy(dw_weights_.begin() + static_cast<ptrdiff_t>(t * c), dw_weights_.begin() + static_cast<ptrdiff_t>((t + 1) * c),
                    dw_rep_.begin() + static_cast<ptrdiff_t>((t * ow_n + p) * c));
      dw_rep_width_ = ow_n;
    }
    const int16_t zx16 = static_cast<int16_t>(x_zero_);
    const size_t rows = g.batch * static_cast<size_t>(g.out[0]);
    parallel_for(rows, [&](size_t r0, size_t r1) {
      std::vector<int32_t> acc(ow_n * c);
      for (size_t r = r0; r < r1; ++r) {
        const size_t b = r / static_cast<size_t>(g.out[0]);
        const int64_t oh = static_cast<int64_t>(r % static_cast<size_t>(g.out[0]));
        const int8_t* xb = x + b * static_cast<size_t>(g.in[0] * g.in[1]) * c;
        for (size_t p = 0; p < ow_n; ++p) std::copy(dw_bias_.begin(), dw_bias_.end(), acc.begin() + static_cast<ptrdiff_t>(p * c));
        for (int64_t kh = 0; kh < g.kernel[0]; ++kh) {
          const int64_t ih = oh - g.pad_begin[0] + kh * g.dilation[0];
          if (ih < 0 || ih >= g.in[0]) continue;  // padding: x = zero point adds 0
          for (int64_t kw = 0; kw < g.kernel[1]; ++kw) {
            // Output columns whose input column iw = ow - pad + kw * dilation is inside.
            const int64_t shift = kw * g.dilation[1] - g.pad_begin[1];
            const int64_t ow0 = std::max<int64_t>(0, -shift), ow1 = std::min<int64_t>(static_cast<int64_t>(ow_n), g.in[1] - shift);
            if (ow0 >= ow1) continue;
            const size_t len = static_cast<size_t>(ow1 - ow0) * c;
            const int8_t* __restrict xs = xb + static_cast<size_t>(ih * g.in[1] + ow0 + shift) * c;
            const int8_t* __restrict ws =
                dw_rep_.data() + (static_cast<size_t>(kh * g.kernel[1] + kw) * ow_n + static_cast<size_t>(ow0)) * c;
            int32_t* __restrict a = acc.data() + static_cast<size_t>(ow0) * c;
            for (size_t j = 0; j < len; ++j)
              a[j] += static_cast<int16_t>(static_cast<int16_t>(xs[j] - zx16) * static_cast<int16_t>(ws[j]));
          }
        }
        dw_ep_.apply_rows(acc.data(), ow_n, y + r * ow_n * c);
      }
    });
  }

  void run_depthwise(const ConvGeometry& g, const int8_t* x, int8_t* y) {
    if (g.stride[0] == 1 && g.stride[1] == 1) return run_depthwise_rows(g, x, y);
    const size_t c = g.group_out * g.groups;
    const size_t rows = g.batch * static_cast<size_t>(g.out[0]);
    const int16_t zx16 = static_cast<int16_t>(x_zero_);
    const size_t ow_n = static_cast<size_t>(g.out[1]);
    parallel_for(rows, [&](size_t r0, size_t r1) {
      std::vector<int32_t> acc(ow_n * c);  // one output row, requantized at once
      for (size_t r = r0; r < r1; ++r) {
        const size_t b = r / static_cast<size_t>(g.out[0]);
        const int64_t oh = static_cast<int64_t>(r % static_cast<size_t>(g.out[0]));
        const int8_t* xb = x + b * static_cast<size_t>(g.in[0] * g.in[1]) * c;
        for (size_t ow = 0; ow < ow_n; ++ow) {
          int32_t* __restrict a = acc.data() + ow * c;
          std::copy(dw_bias_.begin(), dw_bias_.end(), a);
          for (int64_t kh = 0; kh < g.kernel[0]; ++kh) {
            const int64_t ih = oh * g.stride[0] - g.pad_begin[0] + kh * g.dilation[0];
            if (ih < 0 || ih >= g.in[0]) continue;  // padding: x = zero point adds 0
            for (int64_t kw = 0; kw < g.kernel[1]; ++kw) {
              const int64_t iw = static_cast<int64_t>(ow) * g.stride[1] - g.pad_begin[1] + kw * g.dilation[1];
              if (iw < 0 || iw >= g.in[1]) continue;
              const int8_t* __restrict xp = xb + static_cast<size_t>(ih * g.in[1] + iw) * c;
              const int8_t* __restrict wp = dw_weights_.data() + static_cast<size_t>(kh * g.kernel[1] + kw) * c;
              // |x - zx| <= 255 and |w| <= 127 (zero point 0): the product fits int16, which
              // vectorizes with 16-bit multiplies (no 32-bit multiply in baseline SSE2).
              for (size_t j = 0; j < c; ++j)
                a[j] += static_cast<int16_t>(static_cast<int16_t>(xp[j] - zx16) * static_cast<int16_t>(wp[j]));
            }
          }
        }
        dw_ep_.apply_rows(acc.data(), ow_n, y + r * ow_n * c);
      }
    });
  }

  // Any group count, any zero points, parameters read at run time: plain int32 sums.
  Status run_reference(const ConvGeometry& g, std::span<const Tensor> in, int8_t* y) const {
    const size_t gi = g.group_in, go = g.group_out, cin = g.groups * gi, m = g.groups * go;
    const int32_t zx = scalar_or_zero(in, kXZero);
    const std::vector<int32_t> zw = input_present(in, kWZero) ? int_values(in[kWZero]) : std::vector<int32_t>{0};
    const std::vector<int32_t> bias = input_present(in, kB) ? int_values(in[kB]) : std::vector<int32_t>(m, 0);
    QS8Epilogue ep;
    ep.init(in[kXScale].data<float>()[0], in[kWScale].data<float>(), static_cast<size_t>(in[kWScale].size()), m,
            in[kYScale].data<float>()[0], scalar_or_zero(in, kYZero), act_);
    const int8_t* x = in[kX].data<int8_t>();
    const int8_t* w = in[kW].data<int8_t>();
    const int64_t kh_n = g.kernel[0], kw_n = g.kernel[1];
    std::vector<int32_t> acc(m);
    for (size_t b = 0; b < g.batch; ++b)
      for (int64_t oh = 0; oh < g.out[0]; ++oh)
        for (int64_t ow = 0; ow < g.out[1]; ++ow) {
          for (size_t o = 0; o < m; ++o) {
            const size_t gr = o / go;
            const int32_t wz = zw[zw.size() == 1 ? 0 : o];
            int32_t s = bias[o];
            for (int64_t kh = 0; kh < kh_n; ++kh) {
              const int64_t ih = oh * g.stride[0] - g.pad_begin[0] + kh * g.dilation[0];
              if (ih < 0 || ih >= g.in[0]) continue;
              for (int64_t kw = 0; kw < kw_n; ++kw) {
                const int64_t iw = ow * g.stride[1] - g.pad_begin[1] + kw * g.dilation[1];
                if (iw < 0 || iw >= g.in[1]) continue;
                const int8_t* xp = x + ((b * static_cast<size_t>(g.in[0]) + static_cast<size_t>(ih)) * static_cast<size_t>(g.in[1]) +
                                        static_cast<size_t>(iw)) * cin + gr * gi;
                for (size_t ic = 0; ic < gi; ++ic)
                  s += (xp[ic] - zx) * (w[((o * gi + ic) * static_cast<size_t>(kh_n) + static_cast<size_t>(kh)) *
                                              static_cast<size_t>(kw_n) + static_cast<size_t>(kw)] - wz);
              }
            }
            acc[o] = s;
          }
          const size_t pix = (b * static_cast<size_t>(g.out[0]) + static_cast<size_t>(oh)) * static_cast<size_t>(g.out[1]) +
                             static_cast<size_t>(ow);
          ep.apply(acc.data(), m, y + pix * m);
        }
    return Status::Ok();
  }

  std::string who_;
  NhwcConvAttrs attrs_;
  FusedActivation act_;
  int32_t x_zero_ = 0;
  QS8ConvNhwc conv_;                 // group 1, int8 clamp
  QS8DwconvNhwc dw_;                 // depthwise, int8 clamp (dw_ep_: its output range)
  QS8RequantGemm gemm_;              // group 1, float epilogue
  std::vector<int8_t> dw_weights_;   // depthwise, float epilogue: [taps][C]
  std::vector<int8_t> dw_rep_;       // stride 1: [taps][output width][C], each tap repeated
  size_t dw_rep_width_ = 0;
  std::vector<int32_t> dw_bias_;
  QS8Epilogue dw_ep_;
  std::vector<int8_t> rows_;         // unfolded windows; the op is not run concurrently
};

}  // namespace

Result<std::unique_ptr<Op>> create_qlinear_nhwc_conv(const OpContext& ctx) {
  KILN_RETURN_IF_ERROR(check_input_count(ctx, 8, 9));
  KILN_ASSIGN_OR_RETURN(NhwcConvAttrs attrs, parse_nhwc_conv_attrs(ctx.node));
  KILN_ASSIGN_OR_RETURN(FusedActivation act, parse_fused_activation(ctx.node));
  auto op = std::make_unique<QLinearNhwcConvOp>(prefix(ctx.node), std::move(attrs), act);
  op->pack(ctx);
  return std::unique_ptr<Op>(std::move(op));
}

}  // namespace kiln
