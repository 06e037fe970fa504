// The int8 elementwise ops fuse_qdq writes for static int8 graphs (graph/kiln_extensions.h):
//   kiln.QLinearAdd / kiln.QLinearMul: (a, a_scale, a_zero_point, b, b_scale, b_zero_point,
//     y_scale, y_zero_point), numpy broadcasting, optional fused kiln.activation;
//   kiln.QLinearGlobalAveragePool: (x [N, H, W, C...], x_scale, x_zero_point, y_scale,
//     y_zero_point) -> y [N, 1, 1, C...] (keepdims 1) or [N, C...] (keepdims 0): the mean
//     over axes 1 and 2 (H, W of NHWC; any rank >= 3, as ReduceMean(axes 1, 2) takes).
// All int8 with per-tensor float32 scales and int8 zero points. Add and Mul compute what the
// fake-quant group they replace computes, DequantizeLinear's float values, the float op,
// the activation, QuantizeLinear's rounding, so they match it bit for bit (but the SE gate
// form below); the pool sums in
// int32 (exact) and rounds the mean once, within one step of float ReduceMean.
// Add / Mul without an activation or with Relu / Clip run the qs8-vbinary kernels (same
// float formula, bit-exact) — except the SE gate Mul without a clamp, on qs8-vmulrow (one
// folded multiplier per channel: within one int8 step) — the pool's sums the qs8-gavgpool kernels; the blocked float
// loops below stay for the other activations, non-finite or non-positive scales (the
// kernels' precondition) and KILN_REFERENCE_KERNELS=1.
#include <algorithm>
#include <cstring>
#include <limits>
#include <utility>
#include <vector>

#include "kernels/qs8-gavgpool/qs8-gavgpool.h"
#include "kernels/qs8-vbinary/qs8-vbinary.h"
#include "ops/elementwise.h"
#include "ops/fused_activation.h"
#include "ops/nn_util.h"
#include "ops/op.h"
#include "ops/packed_gemm.h"  // use_reference_kernels()
#include "ops/quant_util.h"

namespace kiln {

using namespace nn;  // NOLINT: ops/nn_util.h helpers
namespace {

// Per-tensor int8 quantization read from (scale, zero point) inputs.
struct Quant {
  float scale = 1.f;
  int32_t zero = 0;
};

Status check_quant_pair(std::span<const TensorInfo> in, size_t s, size_t z, const char* what, const std::string& who) {
  if (!input_present(in, s) || in[s].dtype != DType::kF32 || num_elements(in[s].dims) != 1 || !input_present(in, z) ||
      in[z].dtype != DType::kI8 || num_elements(in[z].dims) != 1)
    return invalid_model(who + what + "_scale must be a float32 scalar and " + what + "_zero_point an int8 scalar");
  return Status::Ok();
}

Quant quant_of(std::span<const Tensor> in, size_t s, size_t z) {
  return {in[s].data<float>()[0], static_cast<int32_t>(in[z].data<int8_t>()[0])};
}

constexpr int64_t kBlock = 256;

// QuantizeLinear's per-tensor int8 rounding (ops/quantize_linear.cc: clamp, round half to
// even, NaN to the zero point) of one block: all kBlock values of v are read (loops of a
// constant trip count vectorize even in the size-optimized WASM build), the first c written.
void quantize_block(const float* __restrict v, int64_t c, Quant q, int8_t* __restrict y) {
  const float zero = static_cast<float>(q.zero), lo = -128.f - zero, hi = 127.f - zero, sc = q.scale;
  alignas(64) int8_t r[kBlock];
  for (int64_t j = 0; j < kBlock; ++j) {
    const float t = std::min(std::max(v[j] / sc, lo), hi);
    r[j] = static_cast<int8_t>((round_half_even_small(t) & -static_cast<int32_t>(t == t)) + q.zero);
  }
  std::memcpy(y, r, static_cast<size_t>(c));
}

enum : size_t { kA, kAScale, kAZero, kB, kBScale, kBZero, kYScale, kYZero };

// kiln.QLinearAdd (mul = false) and kiln.QLinearMul.
class QLinearBinaryOp final : public Op {
 public:
  QLinearBinaryOp(std::string who, bool mul, FusedActivation act) : who_(std::move(who)), mul_(mul) {
    post_ = split_clamp(act, &lo_, &hi_);
  }

  Status infer(std::span<const TensorInfo> in, std::span<TensorInfo> out) override {
    KILN_RETURN_IF_ERROR(check_arity(in.size(), 8, out.size(), 1, who_));
    if (!input_present(in, kA) || !input_present(in, kB)) return invalid_model(who_ + "A and B are required");
    if (in[kA].dtype != DType::kI8 || in[kB].dtype != DType::kI8)
      return unsupported(who_ + "inputs must be int8, got " + dtype_name(in[kA].dtype) + " and " +
                         dtype_name(in[kB].dtype));
    KILN_RETURN_IF_ERROR(check_quant_pair(in, kAScale, kAZero, "a", who_));
    KILN_RETURN_IF_ERROR(check_quant_pair(in, kBScale, kBZero, "b", who_));
    KILN_RETURN_IF_ERROR(check_quant_pair(in, kYScale, kYZero, "y", who_));
    KILN_ASSIGN_OR_RETURN(Dims d, broadcast_all({&in[kA].dims, &in[kB].dims}, who_ + "inputs"));
    out[0].dtype = DType::kI8;
    out[0].dims = std::move(d);
    return Status::Ok();
  }

  Status run(std::span<const Tensor> in, std::span<Tensor> out) override {
    // Add and Mul commute exactly in float: the smaller (broadcast) operand goes second.
    const bool swap = in[kA].size() < in[kB].size();
    const Tensor& a = in[swap ? kB : kA];
    const Tensor& b = in[swap ? kA : kB];
    KILN_ASSIGN_OR_RETURN(Dims d, broadcast_all({&a.dims(), &b.dims()}, who_ + "inputs"));
    if (out[0].dtype() != DType::kI8 || out[0].dims() != d)
      return internal_error(who_ + "the output buffer is not the int8 broadcast shape");
    Quant qa = quant_of(in, kAScale, kAZero), qb = quant_of(in, kBScale, kBZero);
    if (swap) std::swap(qa, qb);
    const Quant qy = quant_of(in, kYScale, kYZero);
    const int8_t* av = a.data<int8_t>();
    const int8_t* bv = b.data<int8_t>();
    int8_t* y = out[0].mutable_data<int8_t>();
    num_elements_of_b_ = b.size();
    if (!post_.active() && !use_reference_kernels() && qs8_vbinary_params_ok(params(qa, qb, qy))) {
      run_kernels(av, bv, a.dims(), b.dims(), d, qa, qb, qy, y);
      return Status::Ok();
    }
    if (gate_form(a.dims(), b.dims())) {
      run_gate(av, bv, d, qa, qb, qy, y);
      return Status::Ok();
    }
    const BroadcastPlan plan = make_broadcast_plan(d, {&a.dims(), &b.dims()});
    for_each_run(plan, [&](const int64_t* off, int64_t o, int64_t n, const int64_t* s) {
      for (int64_t i0 = 0; i0 < n; i0 += kChunk) {
        const int64_t c = std::min(kChunk, n - i0);
        // Strides are 0 or 1: a broadcast operand repeats its one value along the run.
        const int8_t* x0 = av + off[0] + (s[0] ? i0 : 0);
        const int8_t* x1 = bv + off[1] + (s[1] ? i0 : 0);
        dequantize(x0, s[0], c, qa, fa_);
        dequantize(x1, s[1], c, qb, fb_);
        float* __restrict v = fa_;
        const float* __restrict w = fb_;
        if (mul_) {
          for (int64_t j = 0; j < kChunk; ++j) v[j] *= w[j];
        } else {
          for (int64_t j = 0; j < kChunk; ++j) v[j] += w[j];
        }
        finish(v, c, qy, y + o + i0);
      }
    });
    return Status::Ok();
  }

 private:
  static constexpr int64_t kChunk = kBlock;
  // The SE gate row is repeated into a pattern of up to this many bytes, so the kernel runs
  // long spans of pixels instead of one call per pixel.
  static constexpr int64_t kGatePattern = 4096;

  QS8VBinaryParams params(Quant qa, Quant qb, Quant qy) const {
    QS8VBinaryParams p;
    p.a_scale = qa.scale, p.a_zero = qa.zero, p.b_scale = qb.scale, p.b_zero = qb.zero;
    p.y_scale = qy.scale, p.y_zero = qy.zero, p.min = lo_, p.max = hi_;
    return p;
  }

  // The SE gate Mul without a clamp on qs8-vmulrow: per channel one float multiplier
  // a_scale * DequantizeLinear(g) / y_scale (in double, rounded once), repeated like the gate
  // row; within one int8 step of fake quant (kernels/qs8-vbinary/qs8-vbinary.h). False (and
  // nothing written) if a multiplier is not finite: the exact path runs instead.
  bool run_gate_rows(const int8_t* av, const int8_t* bv, int64_t c, int64_t n, int64_t per_batch, int64_t rows,
                     bool b_batched, Quant qa, Quant qb, Quant qy, int8_t* y) {
    const QS8VMulRowKernel& k = qs8_vmulrow_default_kernel();
    const int64_t pattern = rows * c;
    mult_.resize(static_cast<size_t>(pattern));
    const QS8VMulRowParams p{qa.zero, qy.zero};
    const double scale = static_cast<double>(qa.scale) / static_cast<double>(qy.scale);
    for (int64_t nb = 0; nb < n; ++nb) {
      if (nb == 0 || b_batched) {
        const int8_t* g = bv + (b_batched ? nb * c : 0);
        for (int64_t j = 0; j < c; ++j) {
          const float fb = static_cast<float>(static_cast<int32_t>(g[j]) - qb.zero) * qb.scale;
          const float m = static_cast<float>(scale * static_cast<double>(fb));
          if (!(m - m == 0.f)) return false;  // inf / NaN (absurd scales): the exact path rewrites all of y
          mult_[static_cast<size_t>(j)] = m;
        }
        for (int64_t r = 1; r < rows; ++r) std::memcpy(mult_.data() + r * c, mult_.data(), static_cast<size_t>(c) * sizeof(float));
      }
      for (int64_t i0 = 0; i0 < per_batch; i0 += pattern) {
        const int64_t e = std::min(pattern, per_batch - i0);
        k.fn(static_cast<size_t>(e), av + nb * per_batch + i0, mult_.data(), y + nb * per_batch + i0, p);
      }
    }
    return true;
  }

  // The qs8-vbinary path (no activation beyond the clamp). a is the larger operand.
  void run_kernels(const int8_t* av, const int8_t* bv, const Dims& ad, const Dims& bd, const Dims& d, Quant qa,
                   Quant qb, Quant qy, int8_t* y) {
    const QS8VBinaryOp op = mul_ ? QS8VBinaryOp::kMul : QS8VBinaryOp::kAdd;
    const QS8VBinaryKernel& vv = qs8_vbinary_default_kernel(op, false);
    const QS8VBinaryKernel& vc = qs8_vbinary_default_kernel(op, true);
    const QS8VBinaryParams p = params(qa, qb, qy), swapped = params(qb, qa, qy);
    if (num_elements(d) == 0) return;
    if (gate_form(ad, bd, std::numeric_limits<int64_t>::max())) {
      // x [N, ..., C] * g [N | 1, 1, ..., C] (or g [C]): the gate row repeated, one long span per block.
      const int64_t c = d.back(), n = d[0];
      const int64_t per_batch = n > 0 ? num_elements(d) / n : 0;
      const int64_t rows = std::max<int64_t>(1, kGatePattern / c), pattern = rows * c;
      const bool b_batched = num_elements_of_b_ > c;
      if (mul_ && !(lo_ > -std::numeric_limits<float>::infinity()) && !(hi_ < std::numeric_limits<float>::infinity())) {
        if (run_gate_rows(av, bv, c, n, per_batch, rows, b_batched, qa, qb, qy, y)) return;
      }
      gate_.resize(static_cast<size_t>(pattern));
      for (int64_t nb = 0; nb < n; ++nb) {
        const int8_t* brow = bv + (b_batched ? nb * c : 0);
        if (nb == 0 || b_batched)
          for (int64_t r = 0; r < rows; ++r) std::memcpy(gate_.data() + r * c, brow, static_cast<size_t>(c));
        for (int64_t i0 = 0; i0 < per_batch; i0 += pattern) {
          const int64_t e = std::min(pattern, per_batch - i0);
          vv.fn(static_cast<size_t>(e), av + nb * per_batch + i0, gate_.data(), y + nb * per_batch + i0, p);
        }
      }
      return;
    }
    const BroadcastPlan plan = make_broadcast_plan(d, {&ad, &bd});
    for_each_run(plan, [&](const int64_t* off, int64_t o, int64_t n, const int64_t* s) {
      const size_t m = static_cast<size_t>(n);
      const int8_t* x0 = av + off[0];
      const int8_t* x1 = bv + off[1];
      if (s[0] && s[1]) {
        vv.fn(m, x0, x1, y + o, p);
      } else if (s[0]) {
        vc.fn(m, x0, x1, y + o, p);
      } else if (s[1]) {
        vc.fn(m, x1, x0, y + o, swapped);  // add / mul commute exactly in float
      } else {
        vc.fn(1, x0, x1, y + o, p);  // one value repeated along the run
        std::memset(y + o + 1, y[o], m - 1);
      }
    });
  }

  // Relu / Clip as a clamp before rounding (what the activation then Q gives, as rounding
  // is monotone); the others on the real value; then QuantizeLinear's rounding.
  // v holds kChunk values (the first c meaningful).
  void finish(float* __restrict v, int64_t c, Quant qy, int8_t* y) const {
    const float lo = lo_, hi = hi_;  // locals: v cannot alias them, so the loop vectorizes
    for (int64_t j = 0; j < kChunk; ++j) v[j] = std::min(std::max(v[j], lo), hi);
    if (post_.active()) apply_fused_activation(post_, v, c);
    quantize_block(v, c, qy, y);
  }

  // The squeeze-excite form: a full [N, ..., C], b [N or 1, 1, ..., 1, C] with C <= kChunk.
  static bool gate_form(const Dims& a, const Dims& b, int64_t max_c = kChunk) {
    if (a.size() < 2 || b.size() > a.size() || b.empty() || b.back() != a.back() || a.back() > max_c) return false;
    const size_t lead = a.size() - b.size();
    for (size_t i = 0; i + 1 < b.size(); ++i) {
      const bool batch = lead + i == 0;
      if (b[i] != 1 && !(batch && b[i] == a[0])) return false;
    }
    return true;
  }

  // Rows of C channels in blocks of kChunk / C pixels against b's row repeated as often:
  // long vector loops instead of one short run per pixel.
  void run_gate(const int8_t* av, const int8_t* bv, const Dims& d, Quant qa, Quant qb, Quant qy, int8_t* y) {
    const int64_t c = d.back(), n = d[0];
    const int64_t per_batch = n > 0 ? num_elements(d) / n : 0;
    const int64_t rows = kChunk / c, pattern = rows * c;
    const bool b_batched = num_elements_of_b_ > c;
    for (int64_t nb = 0; nb < n; ++nb) {
      const int8_t* brow = bv + (b_batched ? nb * c : 0);
      dequantize(brow, 1, c, qb, fa_);  // all kChunk values of fa_: then repeated into fb_
      for (int64_t r = 0; r < rows; ++r) std::memcpy(fb_ + r * c, fa_, static_cast<size_t>(c) * sizeof(float));
      const int8_t* x = av + nb * per_batch;
      int8_t* out = y + nb * per_batch;
      for (int64_t i0 = 0; i0 < per_batch; i0 += pattern) {
        const int64_t e = std::min(pattern, per_batch - i0);
        dequantize(x + i0, 1, e, qa, fa_);
        float* __restrict v = fa_;
        const float* __restrict w = fb_;
        if (mul_) {
          for (int64_t j = 0; j < kChunk; ++j) v[j] *= w[j];
        } else {
          for (int64_t j = 0; j < kChunk; ++j) v[j] += w[j];
        }
        finish(v, e, qy, out + i0);
      }
    }
  }

  // DequantizeLinear's value, (x - zero) * scale in float; stride 0 repeats x[0].
  // Fills all kChunk values of f (past n: from zeros), constant trip counts as above.
  static void dequantize(const int8_t* __restrict x, int64_t stride, int64_t n, Quant q, float* __restrict f) {
    if (stride == 0) {
      std::fill(f, f + kChunk, static_cast<float>(x[0] - q.zero) * q.scale);
      return;
    }
    alignas(64) int8_t xi[kChunk];
    std::memcpy(xi, x, static_cast<size_t>(n));
    if (n < kChunk) std::memset(xi + n, 0, static_cast<size_t>(kChunk - n));
    for (int64_t j = 0; j < kChunk; ++j) f[j] = static_cast<float>(xi[j] - q.zero) * q.scale;
  }

  std::string who_;
  bool mul_;
  FusedActivation post_;
  float lo_ = -std::numeric_limits<float>::infinity(), hi_ = std::numeric_limits<float>::infinity();
  int64_t num_elements_of_b_ = 0;
  std::vector<int8_t> gate_;  // the SE gate row repeated (run_kernels)
  std::vector<float> mult_;   // the SE gate's multipliers repeated (run_gate_rows)
  alignas(64) float fa_[kChunk] = {}, fb_[kChunk] = {};  // the op is not run concurrently
};

enum : size_t { kX, kXScale, kXZero, kPoolYScale, kPoolYZero };

// kiln.QLinearGlobalAveragePool over H and W of NHWC.
class QLinearGlobalAveragePoolOp final : public Op {
 public:
  QLinearGlobalAveragePoolOp(std::string who, bool keepdims) : who_(std::move(who)), keepdims_(keepdims) {}

  Status infer(std::span<const TensorInfo> in, std::span<TensorInfo> out) override {
    KILN_RETURN_IF_ERROR(check_arity(in.size(), 5, out.size(), 1, who_));
    if (!input_present(in, kX)) return invalid_model(who_ + "X is required");
    if (in[kX].dtype != DType::kI8) return unsupported(who_ + "X must be int8, got " + dtype_name(in[kX].dtype));
    if (in[kX].dims.size() < 3)
      return invalid_argument(who_ + "X must have at least 3 dims [N, H, W, C...], got " + dims_to_string(in[kX].dims));
    KILN_RETURN_IF_ERROR(check_quant_pair(in, kXScale, kXZero, "x", who_));
    KILN_RETURN_IF_ERROR(check_quant_pair(in, kPoolYScale, kPoolYZero, "y", who_));
    out[0].dtype = DType::kI8;
    out[0].dims = out_dims(in[kX].dims);
    return Status::Ok();
  }

  Status run(std::span<const Tensor> in, std::span<Tensor> out) override {
    const Tensor& x = in[kX];
    // Axes 1 and 2 reduced; whatever follows (C of NHWC) is one row per pixel.
    if (x.rank() < 3) return internal_error(who_ + "X has fewer than 3 dims");
    const int64_t n = x.dim(0), hw = x.dim(1) * x.dim(2);
    int64_t c = 1;
    for (int64_t i = 3; i < x.rank(); ++i) c *= x.dim(static_cast<size_t>(i));
    // infer() checked the rank; the buffer is the planned one.
    if (hw == 0) return invalid_argument(who_ + "mean over an empty H x W " + dims_to_string(x.dims()));
    const Quant qx = quant_of(in, kXScale, kXZero), qy = quant_of(in, kPoolYScale, kPoolYZero);
    const size_t cs = static_cast<size_t>(c);
    sums_.resize(cs);
    mean_.assign((cs + kBlock - 1) / kBlock * kBlock, 0.f);  // whole blocks for quantize_block
    const int8_t* xv = x.data<int8_t>();
    int8_t* y = out[0].mutable_data<int8_t>();
    // Real mean = (sum - hw * zero) * scale / hw; in double like float ReduceMean's sum.
    const double step = static_cast<double>(qx.scale) / static_cast<double>(hw);
    for (int64_t b = 0; b < n; ++b) {
      int32_t* __restrict s = sums_.data();
      std::fill(s, s + c, -static_cast<int32_t>(hw) * qx.zero);
      // int32 is exact: |x - zero| <= 255, so up to 8.4 M pixels.
      if (!use_reference_kernels()) {
        sums_kernel_.fn(static_cast<size_t>(hw), cs, xv + b * hw * c, cs, s);
      } else {
        for (int64_t p = 0; p < hw; ++p) {
          const int8_t* __restrict row = xv + (b * hw + p) * c;
          for (int64_t j = 0; j < c; ++j) s[j] += row[j];
        }
      }
      for (size_t j = 0; j < cs; ++j) mean_[j] = static_cast<float>(static_cast<double>(s[j]) * step);
      for (int64_t j = 0; j < c; j += kBlock) quantize_block(mean_.data() + j, std::min(kBlock, c - j), qy, y + b * c + j);
    }
    return Status::Ok();
  }

 private:
  Dims out_dims(const Dims& x) const {
    Dims d = {x[0]};
    if (keepdims_) d.insert(d.end(), {1, 1});
    d.insert(d.end(), x.begin() + 3, x.end());
    return d;
  }

  std::string who_;
  bool keepdims_;
  const QS8GavgpoolKernel& sums_kernel_ = qs8_gavgpool_default_kernel();
  std::vector<int32_t> sums_;
  std::vector<float> mean_;
};

}  // namespace

namespace {
Result<std::unique_ptr<Op>> create_qlinear_binary(const OpContext& ctx, bool mul) {
  KILN_RETURN_IF_ERROR(check_input_count(ctx, 8, 8));
  KILN_ASSIGN_OR_RETURN(FusedActivation act, parse_fused_activation(ctx.node));
  return std::unique_ptr<Op>(std::make_unique<QLinearBinaryOp>(prefix(ctx.node), mul, act));
}
}  // namespace

Result<std::unique_ptr<Op>> create_qlinear_add(const OpContext& ctx) { return create_qlinear_binary(ctx, false); }
Result<std::unique_ptr<Op>> create_qlinear_mul(const OpContext& ctx) { return create_qlinear_binary(ctx, true); }

Result<std::unique_ptr<Op>> create_qlinear_global_average_pool(const OpContext& ctx) {
  KILN_RETURN_IF_ERROR(check_input_count(ctx, 5, 5));
  KILN_ASSIGN_OR_RETURN(int64_t keepdims, ctx.node.attr_int("keepdims", 1));
  if (keepdims != 0 && keepdims != 1) return invalid_model(prefix(ctx.node) + "keepdims must be 0 or 1");
  return std::unique_ptr<Op>(std::make_unique<QLinearGlobalAveragePoolOp>(prefix(ctx.node), keepdims != 0));
}

}  // namespace kiln
