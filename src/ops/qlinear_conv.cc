// QLinearConv (opset 10) and ConvInteger (opset 10): Conv's geometry (N-D, groups incl.
// depthwise, pads / auto_pad, strides, dilations) on uint8/int8 inputs. Both widen x and w
// to int32 minus their zero points (x per tensor, w per tensor or per output channel) and
// accumulate exactly in int32 (ops/qlinear_util.h), so uint8, int8 and mixed inputs run
// the same loop. ConvInteger outputs that int32; QLinearConv adds the int32 bias B and
// requantizes per output channel with x_scale * w_scale[m] / y_scale to y_zero_point's type.
// Constant weights with a symmetric zero point (0 for int8, 128 for uint8) are packed per
// group for the int8 GEMM microkernels (ops/qs8_packed_gemm.h): each image and group is
// copied channels-last and unfolded (im2col, padding = the input zero point) into int8
// rows, one per output pixel, multiplied on the kernels, then biased and requantized like
// the reference; the op's inputs and outputs stay NCHW (no graph pass involved). Other
// weights run the reference loops.
#include <cmath>
#include <cstring>
#include <vector>

#include "kernels/reference/index_util.h"
#include "ops/conv_util.h"
#include "ops/op.h"
#include "ops/packed_gemm.h"
#include "ops/qlinear_util.h"
#include "ops/qs8_packed_gemm.h"

namespace kiln {

using namespace nn;  // NOLINT: ops/nn_util.h helpers
namespace {

class QuantConvOp final : public Op {
 public:
  // qlinear: QLinearConv's 9 inputs; otherwise ConvInteger's (x, w, x_zero_point, w_zero_point).
  QuantConvOp(std::string who, WindowAttrs attrs, int64_t group, bool qlinear)
      : who_(std::move(who)), attrs_(std::move(attrs)), group_(group), qlinear_(qlinear) {}

  Status infer(std::span<const TensorInfo> in, std::span<TensorInfo> out) override {
    KILN_RETURN_IF_ERROR(check_arity(in.size(), qlinear_ ? 8 : 2, out.size(), 1, who_));
    const TensorInfo& x = in[0];
    const TensorInfo& w = in[w_];
    if (!x.present() || !w.present()) return invalid_model(who_ + "x and w are required");
    if (!is_int8_type(x.dtype)) return unsupported(who_ + "input x must be uint8 or int8, got " + dtype_name(x.dtype));
    if (!is_int8_type(w.dtype)) return unsupported(who_ + "input w must be uint8 or int8, got " + dtype_name(w.dtype));
    KILN_ASSIGN_OR_RETURN(ConvGeometry g, geometry(x.dims, w.dims));
    const int64_t m = w.dims[0];
    KILN_RETURN_IF_ERROR(check_zero_point(in, xzp_, x.dtype, 1, "x_zero_point"));
    KILN_RETURN_IF_ERROR(check_zero_point(in, wzp_, w.dtype, m, "w_zero_point"));
    out[0].dims = output_dims(g);
    if (!qlinear_) {
      out[0].dtype = DType::kI32;
      return Status::Ok();
    }
    KILN_RETURN_IF_ERROR(check_scale(in, 1, 1, "x_scale"));
    KILN_RETURN_IF_ERROR(check_scale(in, 4, m, "w_scale"));
    KILN_RETURN_IF_ERROR(check_scale(in, 6, 1, "y_scale"));
    const DType yt = input_present(in, 7) ? in[7].dtype : DType::kU8;
    if (!is_int8_type(yt)) return unsupported(who_ + "y_zero_point must be uint8 or int8, got " + dtype_name(yt));
    KILN_RETURN_IF_ERROR(check_zero_point(in, 7, yt, 1, "y_zero_point"));
    if (input_present(in, 8)) {
      KILN_RETURN_IF_ERROR(expect_dtype(in[8], {DType::kI32}, who_ + "input B"));
      if (in[8].dims.size() != 1 || in[8].dims[0] != m)
        return invalid_argument(who_ + "bias B must have shape [" + std::to_string(m) + "], got " +
                                dims_to_string(in[8].dims));
    }
    out[0].dtype = yt;
    return Status::Ok();
  }

  Status run(std::span<const Tensor> in, std::span<Tensor> out) override {
    const Tensor& x = in[0];
    const Tensor& w = in[w_];
    KILN_ASSIGN_OR_RETURN(ConvGeometry g, geometry(x.dims(), w.dims()));
    const int64_t m = w.dim(0), per_channel = w.size() / std::max<int64_t>(1, m);
    const bool fast = !fast_.empty() && !use_reference_kernels() && g.groups == fast_.size() &&
                      fast_[0].n() == g.group_out && fast_[0].k() == static_cast<size_t>(per_channel);
    const std::vector<int32_t> xc = fast ? std::vector<int32_t>() : widen_centered(x, zero_points(in, xzp_), 1);
    const std::vector<int32_t> wc = fast ? std::vector<int32_t>() : widen_centered(w, zero_points(in, wzp_), per_channel);
    std::vector<int32_t> bias;
    if (qlinear_ && input_present(in, 8)) bias = int_values(in[8]);
    const int64_t n = out[0].size();
    if (!qlinear_) {
      if (fast)
        run_fast(g, x, input_present(in, xzp_) ? static_cast<int32_t>(in[xzp_].get_i64(0)) : 0, nullptr,
                 out[0].mutable_data<int32_t>());
      else
        qs32_conv_reference(g, xc.data(), wc.data(), nullptr, out[0].mutable_data<int32_t>());
      return Status::Ok();
    }
    std::vector<int32_t> acc(static_cast<size_t>(n));
    if (fast)
      run_fast(g, x, input_present(in, xzp_) ? static_cast<int32_t>(in[xzp_].get_i64(0)) : 0,
               bias.empty() ? nullptr : bias.data(), acc.data());
    else
      qs32_conv_reference(g, xc.data(), wc.data(), bias.empty() ? nullptr : bias.data(), acc.data());
    // One requantization per output channel: the multiplier follows w_scale.
    const float xs = in[1].data<float>()[0], ys = in[6].data<float>()[0];
    const float* ws = in[4].data<float>();
    const bool ws_per_channel = in[4].size() > 1;
    std::vector<Requantization> rq(static_cast<size_t>(m));
    for (int64_t c = 0; c < m; ++c) {
      Requantization& r = rq[static_cast<size_t>(c)];
      r.multiplier = xs * ws[ws_per_channel ? c : 0] / ys;
      r.zero_point = input_present(in, 7) ? static_cast<int32_t>(in[7].get_i64(0)) : 0;
      int8_type_range(out[0].dtype(), &r.min, &r.max);
    }
    const int64_t plane = n / std::max<int64_t>(1, static_cast<int64_t>(g.batch) * m);
    const bool u8 = out[0].dtype() == DType::kU8;
    for (int64_t i = 0; i < n; ++i) {
      const int32_t v = requantize(acc[static_cast<size_t>(i)], rq[static_cast<size_t>((i / plane) % m)]);
      if (u8)
        out[0].mutable_data<uint8_t>()[i] = static_cast<uint8_t>(v);
      else
        out[0].mutable_data<int8_t>()[i] = static_cast<int8_t>(v);
    }
    return Status::Ok();
  }

  // Packs constant weights whose zero point makes them symmetric int8 (see the file comment).
  void pack(const Tensor& w, const Tensor* wzp) {
    if (w.rank() < 3 || !is_int8_type(w.dtype()) || w.dim(0) % group_ != 0 || use_reference_kernels()) return;
    const bool u8 = w.dtype() == DType::kU8;
    if (wzp) {
      if (wzp->dtype() != w.dtype()) return;
      for (int32_t z : int_values(*wzp))
        if (z != (u8 ? 128 : 0)) return;
    } else if (u8) {
      return;
    }
    const size_t m = static_cast<size_t>(w.dim(0)), k = static_cast<size_t>(w.size()) / m;
    const size_t go = m / static_cast<size_t>(group_);
    std::vector<int8_t> w8(m * k);
    qs8_shift_to_int8(w.raw(), u8, w8.size(), w8.data());
    // W [M, group_in, taps] reordered to [M, taps, group_in]: the k index t * group_in + ic
    // matches im2col rows copied from a channels-last image one tap (group_in bytes) at a time.
    const size_t gi = static_cast<size_t>(w.dim(1)), taps = k / std::max<size_t>(1, gi);
    std::vector<int8_t> wt(m * k);
    for (size_t o = 0; o < m; ++o)
      for (size_t ic = 0; ic < gi; ++ic)
        for (size_t t = 0; t < taps; ++t) wt[(o * taps + t) * gi + ic] = w8[(o * gi + ic) * taps + t];
    fast_.resize(static_cast<size_t>(group_));
    // Group gr's weights are rows [gr * go, (gr + 1) * go): qw[p, j] = wt[gr * go + j][p].
    for (size_t gr = 0; gr < fast_.size(); ++gr)
      fast_[gr].pack(go, k, wt.data() + gr * go * k, 1, static_cast<ptrdiff_t>(k));
  }

 private:
  // im2col per (image, group) into int8 rows (one per output pixel: per tap, group_in
  // channels), the packed GEMM, then int32 bias; y is NCHW int32.
  void run_fast(const ConvGeometry& g, const Tensor& x, int32_t x_zero, const int32_t* bias, int32_t* y) {
    using refk::next_index;
    using refk::product;
    const size_t r = g.rank;
    const bool u8 = x.dtype() == DType::kU8;
    const int8_t pad = static_cast<int8_t>(x_zero - (u8 ? 128 : 0));
    const int32_t zero = pad;
    const int64_t in_plane = product(g.in, r), out_plane = product(g.out, r), taps = product(g.kernel, r);
    const size_t kp = fast_[0].padded_k(), go = g.group_out;
    int64_t in_stride[kMaxSpatialDims] = {};
    in_stride[r - 1] = 1;
    for (size_t d = r - 1; d-- > 0;) in_stride[d] = in_stride[d + 1] * g.in[d + 1];
    rows_.assign(static_cast<size_t>(out_plane) * kp, 0);
    acc_.resize(static_cast<size_t>(out_plane) * go);
    const size_t cin = g.groups * g.group_in, gi = g.group_in;
    image_.resize(static_cast<size_t>(in_plane) * cin);
    const uint8_t* xb = static_cast<const uint8_t*>(x.raw());
    const uint8_t flip = u8 ? 0x80 : 0;
    for (size_t b = 0; b < g.batch; ++b) {
      // The image channels-last and shifted to int8: each tap of a window is then group_in
      // contiguous bytes.
      const uint8_t* xi = xb + static_cast<int64_t>(b * cin) * in_plane;
      for (size_t c = 0; c < cin; ++c)
        for (int64_t p = 0; p < in_plane; ++p)
          image_[static_cast<size_t>(p) * cin + c] = static_cast<int8_t>(xi[static_cast<int64_t>(c) * in_plane + p] ^ flip);
      for (size_t gr = 0; gr < g.groups; ++gr) {
        const int8_t* xg = image_.data() + gr * gi;
        int64_t oidx[kMaxSpatialDims] = {};
        for (int64_t o = 0; o < out_plane; ++o, next_index(oidx, g.out, r)) {
          int8_t* row = rows_.data() + static_cast<size_t>(o) * kp;
          int64_t kidx[kMaxSpatialDims] = {};
          for (int64_t t = 0; t < taps; ++t, next_index(kidx, g.kernel, r), row += gi) {
            int64_t off = 0;
            bool inside = true;
            for (size_t d = 0; d < r && inside; ++d) {
              const int64_t c = oidx[d] * g.stride[d] - g.pad_begin[d] + kidx[d] * g.dilation[d];
              inside = c >= 0 && c < g.in[d];
              off += c * in_stride[d];
            }
            if (inside)
              std::memcpy(row, xg + static_cast<size_t>(off) * cin, gi);
            else
              std::memset(row, pad, gi);
          }
        }
        fast_[gr].multiply(static_cast<size_t>(out_plane), rows_.data(), kp, zero, acc_.data(), go);
        for (size_t j = 0; j < go; ++j) {
          const size_t ch = gr * go + j;
          int32_t* yc = y + static_cast<int64_t>(b * g.groups * go + ch) * out_plane;
          const int32_t bv = bias ? bias[ch] : 0;
          for (int64_t o = 0; o < out_plane; ++o)
            yc[o] = static_cast<int32_t>(acc_[static_cast<size_t>(o) * go + j]) + bv;  // integral floats
        }
      }
    }
  }

  Status check_zero_point(std::span<const TensorInfo> in, size_t i, DType want, int64_t channels,
                          const char* name) const {
    return check_zero_point_input(in, i, want, channels, name, who_);
  }
  Status check_scale(std::span<const TensorInfo> in, size_t i, int64_t channels, const char* name) const {
    return check_scale_input(in, i, channels, name, who_);
  }

  static std::vector<int32_t> zero_points(std::span<const Tensor> in, size_t i) {
    return input_present(in, i) ? int_values(in[i]) : std::vector<int32_t>{0};
  }

  Result<ConvGeometry> geometry(const Dims& x, const Dims& w) const {
    if (x.size() < 3)
      return invalid_argument(who_ + "input x must have rank >= 3 (N, C, spatial...), got " + dims_to_string(x));
    if (x.size() - 2 > kMaxSpatialDims)
      return unsupported(who_ + "at most " + std::to_string(kMaxSpatialDims) + " spatial dims, got " + dims_to_string(x));
    if (w.size() != x.size())
      return invalid_argument(who_ + "weights w " + dims_to_string(w) + " must have the rank of x " + dims_to_string(x));
    const int64_t c = x[1], m = w[0];
    if (c % group_ != 0 || w[1] * group_ != c)
      return invalid_argument(who_ + "x has " + std::to_string(c) + " channels but w " + dims_to_string(w) +
                              " with group " + std::to_string(group_) + " expects " + std::to_string(w[1] * group_));
    if (m % group_ != 0)
      return invalid_argument(who_ + "w has " + std::to_string(m) + " output channels, not divisible by group " +
                              std::to_string(group_));
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
  bool qlinear_;
  size_t w_ = qlinear_ ? 3 : 1, xzp_ = 2, wzp_ = qlinear_ ? 5 : 3;  // input slots
  std::vector<QS8PackedGemm> fast_;  // one per group, or empty: reference loops
  std::vector<int8_t> rows_;         // im2col rows; the op is not run concurrently
  std::vector<int8_t> image_;        // one image channels-last, shifted to int8
  std::vector<float> acc_;
};

Result<std::unique_ptr<Op>> create(const OpContext& ctx, bool qlinear) {
  KILN_RETURN_IF_ERROR(qlinear ? check_input_count(ctx, 8, 9) : check_input_count(ctx, 2, 4));
  KILN_ASSIGN_OR_RETURN(WindowAttrs attrs, parse_window_attrs(ctx.node));
  KILN_ASSIGN_OR_RETURN(int64_t group, ctx.node.attr_int("group", 1));
  if (group <= 0 || group >= (int64_t{1} << 31))
    return invalid_model(prefix(ctx.node) + "group must be positive (and sane), got " + std::to_string(group));
  auto op = std::make_unique<QuantConvOp>(prefix(ctx.node), std::move(attrs), group, qlinear);
  const size_t w = qlinear ? 3 : 1, wzp = qlinear ? 5 : 3;
  if (const Tensor* wt = ctx.constant_input(w); wt && (!ctx.has_input(wzp) || ctx.constant_input(wzp)))
    op->pack(*wt, ctx.has_input(wzp) ? ctx.constant_input(wzp) : nullptr);
  return std::unique_ptr<Op>(std::move(op));
}

}  // namespace

Result<std::unique_ptr<Op>> create_qlinear_conv(const OpContext& ctx) { return create(ctx, true); }
Result<std::unique_ptr<Op>> create_conv_integer(const OpContext& ctx) { return create(ctx, false); }

}  // namespace kiln
