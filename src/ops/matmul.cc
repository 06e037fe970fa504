// MatMul (opsets 1..22): numpy matmul. 1-D operands are promoted ([K] -> [1,K] for A,
// [K] -> [K,1] for B) and the added dim is dropped from the result; leading (batch) dims
// broadcast. kiln extensions (graph/kiln_extensions.h): a fused bias (kiln.bias = 1,
// input 2 of shape [N] added to every row) and a fused activation, from the optimizer.
#include "kernels/reference/reference.h"
#include "graph/kiln_extensions.h"
#include "ops/fused_activation.h"
#include "ops/nn_util.h"
#include "ops/op.h"
#include "ops/packed_gemm.h"

namespace kiln {

using namespace nn;  // NOLINT: this file's helpers (ops/nn_util.h)
namespace {

struct MatMulPlan {
  int64_t m = 0, n = 0, k = 0;
  Dims batch;                          // broadcast batch dims
  std::vector<int64_t> a_batch_stride, b_batch_stride;  // element strides per batch dim (0: broadcast)
  Dims out;
};

class MatMulOp final : public Op {
 public:
  MatMulOp(std::string who, bool has_bias, FusedActivation act) : who_(std::move(who)), has_bias_(has_bias), act_(act) {}

  // Constant B (the usual weights): each of its [K, N] matrices packed once, here.
  void pack_constant_b(const Tensor& b) {
    const Dims& d = b.dims();
    if (b.dtype() != DType::kF32 || d.empty() || use_reference_kernels()) return;
    const int64_t k = d.size() == 1 ? d[0] : d[d.size() - 2], n = d.size() == 1 ? 1 : d.back();
    const int64_t count = k * n == 0 ? 0 : num_elements(d) / (k * n);
    packed_b_.resize(static_cast<size_t>(count));
    for (int64_t t = 0; t < count; ++t)
      packed_b_[t].pack(static_cast<size_t>(n), static_cast<size_t>(k), b.data<float>() + t * k * n, n, 1);
  }

  Status infer(std::span<const TensorInfo> in, std::span<TensorInfo> out) override {
    KILN_RETURN_IF_ERROR(check_arity(in.size(), 2, out.size(), 1, who_));
    KILN_RETURN_IF_ERROR(expect_f32(in, 0, who_, "A"));
    KILN_RETURN_IF_ERROR(expect_f32(in, 1, who_, "B"));
    KILN_ASSIGN_OR_RETURN(MatMulPlan p, plan(in[0].dims, in[1].dims));
    if (has_bias_) {
      KILN_RETURN_IF_ERROR(check_arity(in.size(), 3, out.size(), 1, who_));
      KILN_RETURN_IF_ERROR(expect_f32(in, 2, who_, "bias"));
      if (in[2].dims != Dims{p.n})
        return invalid_argument(who_ + "fused bias must have shape [" + std::to_string(p.n) + "], got " +
                                dims_to_string(in[2].dims));
    }
    out[0].dtype = DType::kF32;
    out[0].dims = p.out;
    return Status::Ok();
  }

  Status run(std::span<const Tensor> in, std::span<Tensor> out) override {
    KILN_RETURN_IF_ERROR(check_arity(in.size(), 2, out.size(), 1, who_));
    KILN_ASSIGN_OR_RETURN(MatMulPlan p, plan(in[0].dims(), in[1].dims()));
    KILN_RETURN_IF_ERROR(check_output(out[0], p.out, who_));
    const float* a = in[0].data<float>();
    const float* b = in[1].data<float>();
    float* y = out[0].mutable_data<float>();
    const int64_t batches = num_elements(p.batch);
    if (batches == 0 || p.m == 0 || p.n == 0) return Status::Ok();
    if (has_bias_ && (in.size() < 3 || in[2].dims() != Dims{p.n}))
      return internal_error(who_ + "fused bias does not match N = " + std::to_string(p.n));
    Dims idx(p.batch.size(), 0);
    PackedGemmWeights run_b;
    int64_t run_b_off = -1;
    for (int64_t t = 0; t < batches; ++t) {
      int64_t a_off = 0, b_off = 0;
      for (size_t d = 0; d < idx.size(); ++d) {
        a_off += idx[d] * p.a_batch_stride[d];
        b_off += idx[d] * p.b_batch_stride[d];
      }
      if (use_reference_kernels()) {
        f32_gemm_reference(static_cast<size_t>(p.m), static_cast<size_t>(p.n), static_cast<size_t>(p.k), a + a_off,
                           p.k, 1, b + b_off, p.n, 1, y + t * p.m * p.n, p.n, 1.f, 0.f);
      } else {
        const PackedGemmWeights* w = nullptr;
        const size_t b_index = p.k * p.n == 0 ? 0 : static_cast<size_t>(b_off / (p.k * p.n));
        if (b_index < packed_b_.size() && packed_b_[b_index].n() == static_cast<size_t>(p.n) &&
            packed_b_[b_index].k() == static_cast<size_t>(p.k)) {
          w = &packed_b_[b_index];
        } else {  // B is computed at run time: pack it per run (once per distinct matrix), dense
          if (!run_b.packed() || b_off != run_b_off) run_b.pack(p.n, p.k, b + b_off, p.n, 1, 1.f, nullptr, 0, 1.f, false);
          run_b_off = b_off;
          w = &run_b;
        }
        w->multiply(p.m, a + a_off, p.k, y + t * p.m * p.n, p.n);
      }
      for (size_t d = idx.size(); d-- > 0;) {
        if (++idx[d] < p.batch[d]) break;
        idx[d] = 0;
      }
    }
    const int64_t total = out[0].size();
    if (has_bias_) {  // every row of every batch gets the same [N] bias
      const float* bias = in[2].data<float>();
      for (int64_t r = 0; r < total; r += p.n)
        for (int64_t j = 0; j < p.n; ++j) y[r + j] += bias[j];
    }
    apply_fused_activation(act_, y, total);
    return Status::Ok();
  }

 private:
  Result<MatMulPlan> plan(const Dims& a_in, const Dims& b_in) const {
    if (a_in.empty() || b_in.empty())
      return invalid_argument(who_ + "MatMul operands must have rank >= 1, got A " + dims_to_string(a_in) + " and B " +
                              dims_to_string(b_in));
    Dims a = a_in, b = b_in;
    if (a.size() == 1) a.insert(a.begin(), 1);
    if (b.size() == 1) b.push_back(1);
    MatMulPlan p;
    p.m = a[a.size() - 2];
    p.k = a[a.size() - 1];
    p.n = b[b.size() - 1];
    if (b[b.size() - 2] != p.k)
      return invalid_argument(who_ + "inner dimensions differ: A " + dims_to_string(a_in) + " and B " +
                              dims_to_string(b_in));
    const Dims a_batch = dims_slice(a, 0, a.size() - 2), b_batch = dims_slice(b, 0, b.size() - 2);
    auto batch = broadcast_dims(a_batch, b_batch);
    if (!batch.ok())
      return invalid_argument(who_ + "batch dims of A " + dims_to_string(a_in) + " and B " + dims_to_string(b_in) +
                              " do not broadcast");
    p.batch = batch.value();
    // Strides counted in whole matrices, then scaled to elements.
    p.a_batch_stride = broadcast_strides(a_batch, p.batch);
    p.b_batch_stride = broadcast_strides(b_batch, p.batch);
    for (int64_t& s : p.a_batch_stride) s *= p.m * p.k;
    for (int64_t& s : p.b_batch_stride) s *= p.k * p.n;
    p.out = p.batch;
    if (a_in.size() > 1) p.out.push_back(p.m);
    if (b_in.size() > 1) p.out.push_back(p.n);
    return p;
  }

  std::string who_;
  bool has_bias_;
  FusedActivation act_;
  std::vector<PackedGemmWeights> packed_b_;
};

}  // namespace

Result<std::unique_ptr<Op>> create_mat_mul(const OpContext& ctx) {
  KILN_ASSIGN_OR_RETURN(int64_t bias, ctx.node.attr_int(ext::kMatMulBias, 0));
  KILN_RETURN_IF_ERROR(check_input_count(ctx, bias ? 3 : 2, bias ? 3 : 2));
  KILN_ASSIGN_OR_RETURN(FusedActivation act, parse_fused_activation(ctx.node));
  auto op = std::make_unique<MatMulOp>(prefix(ctx.node), bias != 0, act);
  if (const Tensor* b = ctx.constant_input(1)) op->pack_constant_b(*b);
  return std::unique_ptr<Op>(std::move(op));
}

}  // namespace kiln
