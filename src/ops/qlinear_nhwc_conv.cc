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
// HardSwish runs inside the same two kernel families' activation variants (dequantize,
// activate, requantize in registers: kernels/qs8-qc8w-gemm/qs8-act-epilogue.h), bit-exact
// with QS8Epilogue. Another activation that needs the real value (HardSigmoid, Swish, ...)
// takes the int32 sums and requantizes in QS8Epilogue (ops/qs8_requant_gemm.h):
//  * group 1: that GEMM over the pixels (a 1x1 stride-1 layer reads X as it lies; the rest
//    unfold each window into a row, padding = x_zero_point);
//  * depthwise: the same runner's int32-sums kernels (QS8DwconvNhwc::run_sums).
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

  // Every path (IGEMM, depthwise, GEMM, sums + epilogue, reference loop) stores each pixel's
  // every channel.
  bool writes_every_output() const override { return true; }

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
    if (dw_.packed_act() && QS8DwconvNhwc::supported(g)) {
      const QS8ActParams p{dw_ep_.y_scale, dw_ep_.y_zero, static_cast<int8_t>(dw_ep_.qmin),
                           static_cast<int8_t>(dw_ep_.qmax)};
      return dw_.run_act(g, x, y, p);
    }
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
    if (dw_.packed_sums() && QS8DwconvNhwc::supported(g)) {
      const size_t pixels = g.batch * static_cast<size_t>(g.out[0] * g.out[1]);
      sums_.resize(pixels * g.groups);
      KILN_RETURN_IF_ERROR(dw_.run_sums(g, x, sums_.data()));
      parallel_for(pixels, [&](size_t p0, size_t p1) {
        dw_ep_.apply_rows(sums_.data() + p0 * g.groups, p1 - p0, y + p0 * g.groups);
      });
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
    const bool depthwise = gi == 1 && attrs_.group == static_cast<int64_t>(m);
    ConvGeometry dw_g;  // what the depthwise runner's pack reads: channels and kernel
    dw_g.rank = 2;
    dw_g.groups = m;
    for (size_t d = 0; d < 2; ++d) {
      dw_g.kernel[d] = w->dim(2 + d);
      dw_g.in[d] = dw_g.out[d] = 1;
      dw_g.stride[d] = dw_g.dilation[d] = 1;
    }
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
      } else if (depthwise) {
        if (dw_.pack(dw_g, wd, bias.data(), ep.multiplier.data(), x_zero).ok()) {
          dw_ep_ = std::move(ep);
          return;
        }
      }
    }
    if (ep.post.kind == FusedActivation::Kind::kHardSwish) {
      // The activation epilogue inside the kernels (qs8-act-epilogue.h): no int32 sums
      // pass. Other activations keep the sums path below.
      if (attrs_.group == 1) {
        QS8ConvQuant quant;
        quant.x_scale = xs->data<float>()[0];
        quant.x_zero_point = x_zero;
        quant.y_scale = ep.y_scale;
        quant.y_zero_point = ep.y_zero;
        quant.y_min = static_cast<int8_t>(ep.qmin);
        quant.y_max = static_cast<int8_t>(ep.qmax);
        quant.activated = true;
        quant.activation = QS8Act::kHardSwish;
        if (conv_.pack(m, gi, static_cast<size_t>(w->dim(2)), static_cast<size_t>(w->dim(3)), wd, ws->data<float>(),
                       static_cast<size_t>(ws->size()), bias.data(), quant)
                .ok())
          return;
      } else if (depthwise) {
        if (dw_.pack_act(dw_g, wd, bias.data(), ep.scale.data(), x_zero, QS8Act::kHardSwish).ok()) {
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
    if (depthwise && dw_.pack_sums(dw_g, wd, bias.data(), x_zero).ok()) dw_ep_ = std::move(ep);
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
            const int64_t iw0 = ow * g.stride[1] - g.pad_begin[1];
            const size_t window_row = static_cast<size_t>(g.kernel[1]) * c;
            // With dilation 1 a window row inside the input is kW * C contiguous bytes: one copy
            // (the 3-channel stem would otherwise copy 3 bytes per tap); a row above or below
            // the input is all padding.
            const bool row_inside = g.dilation[1] == 1 && iw0 >= 0 && iw0 + g.kernel[1] <= g.in[1];
            for (int64_t kh = 0; kh < g.kernel[0]; ++kh) {
              const int64_t ih = static_cast<int64_t>(oh) * g.stride[0] - g.pad_begin[0] + kh * g.dilation[0];
              if (ih < 0 || ih >= g.in[0] || row_inside) {
                if (ih < 0 || ih >= g.in[0])
                  std::memset(row, pad, window_row);
                else
                  std::memcpy(row, xb + static_cast<size_t>(ih * g.in[1] + iw0) * c, window_row);
                row += window_row;
                continue;
              }
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
  QS8ConvNhwc conv_;                 // group 1: int8 clamp or HardSwish epilogue
  QS8DwconvNhwc dw_;                 // depthwise: int8 clamp, HardSwish, or int32 sums for dw_ep_
  QS8RequantGemm gemm_;              // group 1, float epilogue
  QS8Epilogue dw_ep_;                // depthwise: the output range, or the float epilogue
  std::vector<int32_t> sums_;        // depthwise float epilogue: [N, OH, OW, C] sums
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
