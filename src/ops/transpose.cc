// Transpose and the ops that are a reshape + transpose: DepthToSpace, SpaceToDepth.
#include "kernels/x32-transposec/x32-transposec.h"
#include "ops/elementwise.h"
#include "platform/thread_pool.h"

namespace kiln {
namespace {

// out = in.transpose(perm), any dtype: the transposition kernels (by element size) over the
// normalized problem, tiles split across the session's threads.
void transpose_copy(const void* src, const Dims& dims, const std::vector<int64_t>& perm, void* dst, size_t es) {
  const size_t r = dims.size();
  if (r + 1 >= TransposeNdPlan::kMaxRank) {  // beyond the plan's fixed arrays: the strided copy
    std::vector<int64_t> in_stride(r, 1);
    for (size_t i = r; i-- > 1;) in_stride[i - 1] = in_stride[i] * dims[i];
    Dims size(r);
    std::vector<int64_t> stride(r);
    for (size_t k = 0; k < r; ++k) {
      size[k] = dims[static_cast<size_t>(perm[k])];
      stride[k] = in_stride[static_cast<size_t>(perm[k])];
    }
    copy_strided(static_cast<const uint8_t*>(src), size, stride, static_cast<uint8_t*>(dst), es);
    return;
  }
  const TransposeNdPlan plan(es, r, dims.data(), perm.data());
  parallel_for(plan.tiles(), [&](size_t begin, size_t end) { plan.run_tiles(src, dst, begin, end); });
}

Status check_copyable(const TensorInfo& t, const std::string& who) {
  const size_t es = dtype_size(t.dtype);
  if (es == 0) return invalid_argument(who + ": unsupported dtype " + dtype_name(t.dtype));
  return Status::Ok();
}

class TransposeOp final : public Op {
 public:
  TransposeOp(std::string who, std::optional<std::vector<int64_t>> perm)
      : who_(std::move(who)), perm_(std::move(perm)) {}

  Status infer(std::span<const TensorInfo> in, std::span<TensorInfo> out) override {
    if (!has_in(in, 0)) return invalid_model(who_ + ": input is missing");
    KILN_RETURN_IF_ERROR(check_copyable(in[0], who_));
    KILN_ASSIGN_OR_RETURN(std::vector<int64_t> p, perm_for(in[0].dims));
    out[0].dtype = in[0].dtype;
    out[0].dims.clear();
    for (int64_t a : p) out[0].dims.push_back(in[0].dims[static_cast<size_t>(a)]);
    return Status::Ok();
  }

  Status run(std::span<const Tensor> in, std::span<Tensor> out) override {
    KILN_ASSIGN_OR_RETURN(TensorInfo expect, infer_and_check(*this, in, out, who_));
    KILN_ASSIGN_OR_RETURN(std::vector<int64_t> p, perm_for(in[0].dims()));
    transpose_copy(in[0].raw(), in[0].dims(), p, out[0].mutable_raw(), dtype_size(in[0].dtype()));
    return Status::Ok();
  }

 private:
  Result<std::vector<int64_t>> perm_for(const Dims& dims) const {
    const int64_t r = static_cast<int64_t>(dims.size());
    std::vector<int64_t> p;
    if (!perm_) {
      for (int64_t i = r; i-- > 0;) p.push_back(i);
      return p;
    }
    if (static_cast<int64_t>(perm_->size()) != r)
      return invalid_argument(who_ + ": perm has " + std::to_string(perm_->size()) + " entries but the input " +
                              dims_to_string(dims) + " has rank " + std::to_string(r));
    auto n = normalize_axes(*perm_, r, who_ + ": perm");
    if (!n.ok()) return n.status();
    return std::move(n).value();
  }

  std::string who_;
  std::optional<std::vector<int64_t>> perm_;
};

// DepthToSpace (DCR / CRD) and SpaceToDepth on NCHW, as a 6-D transpose.
class SpaceDepthOp final : public Op {
 public:
  enum Mode { kDCR, kCRD, kSpaceToDepth };
  SpaceDepthOp(std::string who, Mode mode, int64_t b) : who_(std::move(who)), mode_(mode), b_(b) {}

  Status infer(std::span<const TensorInfo> in, std::span<TensorInfo> out) override {
    if (!has_in(in, 0)) return invalid_model(who_ + ": input is missing");
    KILN_RETURN_IF_ERROR(check_copyable(in[0], who_));
    const Dims& d = in[0].dims;
    if (d.size() != 4) return invalid_argument(who_ + ": input must be 4-D NCHW, got " + dims_to_string(d));
    const int64_t n = d[0], c = d[1], h = d[2], w = d[3], bb = b_ * b_;
    if (mode_ == kSpaceToDepth) {
      if (h % b_ || w % b_)
        return invalid_argument(who_ + ": height and width of " + dims_to_string(d) +
                                " must be divisible by blocksize " + std::to_string(b_));
      out[0].dims = {n, c * bb, h / b_, w / b_};
    } else {
      if (c % bb)
        return invalid_argument(who_ + ": channels of " + dims_to_string(d) + " must be divisible by blocksize^2 = " +
                                std::to_string(bb));
      out[0].dims = {n, c / bb, h * b_, w * b_};
    }
    out[0].dtype = in[0].dtype;
    return Status::Ok();
  }

  Status run(std::span<const Tensor> in, std::span<Tensor> out) override {
    KILN_ASSIGN_OR_RETURN(TensorInfo expect, infer_and_check(*this, in, out, who_));
    const Dims& d = in[0].dims();
    const int64_t n = d[0], c = d[1], h = d[2], w = d[3], b = b_;
    Dims six;
    std::vector<int64_t> perm;
    switch (mode_) {
      case kDCR: six = {n, b, b, c / (b * b), h, w}; perm = {0, 3, 4, 1, 5, 2}; break;
      case kCRD: six = {n, c / (b * b), b, b, h, w}; perm = {0, 1, 4, 2, 5, 3}; break;
      case kSpaceToDepth: six = {n, c, h / b, b, w / b, b}; perm = {0, 3, 5, 1, 2, 4}; break;
    }
    transpose_copy(in[0].raw(), six, perm, out[0].mutable_raw(), dtype_size(in[0].dtype()));
    return Status::Ok();
  }

 private:
  std::string who_;
  Mode mode_;
  int64_t b_;
};

Result<int64_t> blocksize(const OpContext& ctx) {
  KILN_ASSIGN_OR_RETURN(int64_t b, ctx.node.attr_int("blocksize"));
  if (b < 1 || b > (1 << 15))
    return invalid_model(ctx.node.describe() + ": blocksize must be >= 1, got " + std::to_string(b));
  return b;
}

}  // namespace

Result<std::unique_ptr<Op>> create_transpose(const OpContext& ctx) {
  KILN_RETURN_IF_ERROR(check_input_count(ctx, 1, 1));
  KILN_RETURN_IF_ERROR(check_output_count(ctx, 1, 1));
  std::optional<std::vector<int64_t>> perm;
  if (ctx.node.has_attr("perm")) {
    KILN_ASSIGN_OR_RETURN(perm, ctx.node.attr_ints("perm"));
  }
  return std::unique_ptr<Op>(new TransposeOp(ctx.node.describe(), std::move(perm)));
}

Result<std::unique_ptr<Op>> create_depth_to_space(const OpContext& ctx) {
  KILN_RETURN_IF_ERROR(check_input_count(ctx, 1, 1));
  KILN_RETURN_IF_ERROR(check_output_count(ctx, 1, 1));
  KILN_ASSIGN_OR_RETURN(int64_t b, blocksize(ctx));
  KILN_ASSIGN_OR_RETURN(std::string mode, ctx.node.attr_string("mode", std::string("DCR")));
  if (mode != "DCR" && mode != "CRD")
    return invalid_model(ctx.node.describe() + ": mode must be DCR or CRD, got '" + mode + "'");
  return std::unique_ptr<Op>(
      new SpaceDepthOp(ctx.node.describe(), mode == "DCR" ? SpaceDepthOp::kDCR : SpaceDepthOp::kCRD, b));
}

Result<std::unique_ptr<Op>> create_space_to_depth(const OpContext& ctx) {
  KILN_RETURN_IF_ERROR(check_input_count(ctx, 1, 1));
  KILN_RETURN_IF_ERROR(check_output_count(ctx, 1, 1));
  KILN_ASSIGN_OR_RETURN(int64_t b, blocksize(ctx));
  return std::unique_ptr<Op>(new SpaceDepthOp(ctx.node.describe(), SpaceDepthOp::kSpaceToDepth, b));
}

}  // namespace kiln
