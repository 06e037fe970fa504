// Indexing ops: Gather, GatherElements, GatherND (negative indices wrap once;
// out-of-range is an error) and NonZero.
#include <algorithm>

#include "ops/elementwise.h"

namespace kiln {
namespace {

// Index idx into an axis of size dim, or an error naming the bad value.
Result<int64_t> fix_index(int64_t idx, int64_t dim, const std::string& who) {
  const int64_t k = idx < 0 ? idx + dim : idx;
  if (k < 0 || k >= dim)
    return out_of_range(who + ": index " + std::to_string(idx) + " is out of range for an axis of size " +
                        std::to_string(dim));
  return k;
}

Status check_indices_dtype(const TensorInfo& t, const std::string& who) {
  return expect_dtype(t, {DType::kI64, DType::kI32}, who + ": indices");
}

class GatherOp final : public Op {
 public:
  GatherOp(std::string who, int64_t axis) : who_(std::move(who)), axis_(axis) {}

  Status infer(std::span<const TensorInfo> in, std::span<TensorInfo> out) override {
    if (!has_in(in, 0) || !has_in(in, 1)) return invalid_model(who_ + ": inputs data and indices are required");
    if (dtype_size(in[0].dtype) == 0) return invalid_argument(who_ + ": unsupported dtype " + dtype_name(in[0].dtype));
    KILN_RETURN_IF_ERROR(check_indices_dtype(in[1], who_));
    const Dims& d = in[0].dims;
    KILN_ASSIGN_OR_RETURN(int64_t a, normalize_axis(axis_, static_cast<int64_t>(d.size()), who_));
    if (in[1].value)  // check constant indices early, at conversion time
      for (int64_t i = 0, n = in[1].value->size(); i < n; ++i)
        KILN_RETURN_IF_ERROR(fix_index(in[1].value->get_i64(i), d[static_cast<size_t>(a)], who_).status());
    Dims o(d.begin(), d.begin() + a);
    o.insert(o.end(), in[1].dims.begin(), in[1].dims.end());
    o.insert(o.end(), d.begin() + a + 1, d.end());
    out[0].dtype = in[0].dtype;
    out[0].dims = std::move(o);
    return Status::Ok();
  }

  Status run(std::span<const Tensor> in, std::span<Tensor> out) override {
    std::vector<TensorInfo> info = infos_of(in);
    info[1].value = nullptr;  // indices are checked while copying
    TensorInfo expect;
    KILN_RETURN_IF_ERROR(infer(info, std::span<TensorInfo>(&expect, 1)));
    KILN_RETURN_IF_ERROR(check_outputs(out, std::span<const TensorInfo>(&expect, 1), who_));
    const Dims& d = in[0].dims();
    const int64_t a = axis_ < 0 ? axis_ + in[0].rank() : axis_;
    const size_t es = dtype_size(in[0].dtype());
    int64_t outer = 1, inner = 1;
    for (int64_t i = 0; i < a; ++i) outer *= d[static_cast<size_t>(i)];
    for (size_t i = static_cast<size_t>(a) + 1; i < d.size(); ++i) inner *= d[i];
    const int64_t dim = d[static_cast<size_t>(a)], n = in[1].size();
    const size_t block = static_cast<size_t>(inner) * es;
    const uint8_t* x = static_cast<const uint8_t*>(in[0].raw());
    uint8_t* y = static_cast<uint8_t*>(out[0].mutable_raw());
    for (int64_t j = 0; j < n; ++j) {
      KILN_ASSIGN_OR_RETURN(int64_t k, fix_index(in[1].get_i64(j), dim, who_));
      for (int64_t o = 0; o < outer; ++o)
        std::memcpy(y + static_cast<size_t>(o * n + j) * block, x + static_cast<size_t>(o * dim + k) * block, block);
    }
    return Status::Ok();
  }

 private:
  std::string who_;
  int64_t axis_;
};

class GatherElementsOp final : public Op {
 public:
  GatherElementsOp(std::string who, int64_t axis) : who_(std::move(who)), axis_(axis) {}

  Status infer(std::span<const TensorInfo> in, std::span<TensorInfo> out) override {
    if (!has_in(in, 0) || !has_in(in, 1)) return invalid_model(who_ + ": inputs data and indices are required");
    if (dtype_size(in[0].dtype) == 0) return invalid_argument(who_ + ": unsupported dtype " + dtype_name(in[0].dtype));
    KILN_RETURN_IF_ERROR(check_indices_dtype(in[1], who_));
    const Dims &d = in[0].dims, &id = in[1].dims;
    KILN_ASSIGN_OR_RETURN(int64_t a, normalize_axis(axis_, static_cast<int64_t>(d.size()), who_));
    bool ok = id.size() == d.size();
    for (size_t i = 0; ok && i < d.size(); ++i) ok = static_cast<int64_t>(i) == a || id[i] <= d[i];
    if (!ok)
      return invalid_argument(who_ + ": indices of shape " + dims_to_string(id) + " do not fit data of shape " +
                              dims_to_string(d));
    out[0].dtype = in[0].dtype;
    out[0].dims = id;
    return Status::Ok();
  }

  Status run(std::span<const Tensor> in, std::span<Tensor> out) override {
    KILN_ASSIGN_OR_RETURN(TensorInfo expect, infer_and_check(*this, in, out, who_));
    const Dims &d = in[0].dims(), &id = in[1].dims();
    const size_t r = d.size(), es = dtype_size(in[0].dtype()),
                 a = static_cast<size_t>(axis_ < 0 ? axis_ + in[0].rank() : axis_);
    std::vector<int64_t> stride(r, 1);
    for (size_t i = r; i-- > 1;) stride[i - 1] = stride[i] * d[i];
    std::vector<int64_t> idx(r, 0);
    const uint8_t* x = static_cast<const uint8_t*>(in[0].raw());
    uint8_t* y = static_cast<uint8_t*>(out[0].mutable_raw());
    int64_t base = 0;  // offset of idx with the axis coordinate taken as 0
    for (int64_t j = 0, n = in[1].size(); j < n; ++j) {
      KILN_ASSIGN_OR_RETURN(int64_t k, fix_index(in[1].get_i64(j), d[a], who_));
      std::memcpy(y + static_cast<size_t>(j) * es, x + static_cast<size_t>(base + k * stride[a]) * es, es);
      for (size_t q = r; q-- > 0;) {
        if (++idx[q] < id[q]) {
          if (q != a) base += stride[q];
          break;
        }
        if (q != a) base -= stride[q] * (id[q] - 1);
        idx[q] = 0;
      }
    }
    return Status::Ok();
  }

 private:
  std::string who_;
  int64_t axis_;
};

// GatherND with batch_dims: slices of data addressed by the last axis of indices.
class GatherNDOp final : public Op {
 public:
  GatherNDOp(std::string who, int64_t batch_dims) : who_(std::move(who)), b_(batch_dims) {}

  Status infer(std::span<const TensorInfo> in, std::span<TensorInfo> out) override {
    if (!has_in(in, 0) || !has_in(in, 1)) return invalid_model(who_ + ": inputs data and indices are required");
    if (dtype_size(in[0].dtype) == 0) return invalid_argument(who_ + ": unsupported dtype " + dtype_name(in[0].dtype));
    KILN_RETURN_IF_ERROR(expect_dtype(in[1], {DType::kI64}, who_ + ": indices"));
    const Dims &d = in[0].dims, &id = in[1].dims;
    const int64_t r = static_cast<int64_t>(d.size()), q = static_cast<int64_t>(id.size());
    if (b_ < 0 || b_ >= std::min(r, q))
      return invalid_argument(who_ + ": batch_dims " + std::to_string(b_) +
                              " must be below the ranks of data and indices");
    const int64_t k = id.back();
    if (k < 1 || k > r - b_)
      return invalid_argument(who_ + ": indices " + dims_to_string(id) + " address " + std::to_string(k) +
                              " axes of data " + dims_to_string(d) + " after " + std::to_string(b_) + " batch dims");
    for (int64_t i = 0; i < b_; ++i)
      if (d[static_cast<size_t>(i)] != id[static_cast<size_t>(i)])
        return invalid_argument(who_ + ": batch dims of data " + dims_to_string(d) + " and indices " +
                                dims_to_string(id) + " differ");
    Dims o(id.begin(), id.end() - 1);
    o.insert(o.end(), d.begin() + b_ + k, d.end());
    out[0].dtype = in[0].dtype;
    out[0].dims = std::move(o);
    return Status::Ok();
  }

  Status run(std::span<const Tensor> in, std::span<Tensor> out) override {
    KILN_ASSIGN_OR_RETURN(TensorInfo expect, infer_and_check(*this, in, out, who_));
    const Dims& d = in[0].dims();
    const Tensor& idx = in[1];
    const size_t es = dtype_size(in[0].dtype()), r = d.size();
    const int64_t k = idx.dims().back();
    std::vector<int64_t> stride(r, 1);
    for (size_t i = r; i-- > 1;) stride[i - 1] = stride[i] * d[i];
    int64_t batches = 1;
    for (int64_t i = 0; i < b_; ++i) batches *= d[static_cast<size_t>(i)];
    const int64_t slice = stride[static_cast<size_t>(b_ + k - 1)];
    const int64_t batch_stride = b_ ? stride[static_cast<size_t>(b_ - 1)] : 0;
    const int64_t tuples = batches ? idx.size() / k / batches : 0;
    const uint8_t* x = static_cast<const uint8_t*>(in[0].raw());
    uint8_t* y = static_cast<uint8_t*>(out[0].mutable_raw());
    for (int64_t bt = 0; bt < batches; ++bt)
      for (int64_t t = 0; t < tuples; ++t) {
        const int64_t row = bt * tuples + t;
        int64_t off = bt * batch_stride;
        for (int64_t j = 0; j < k; ++j) {
          const size_t axis = static_cast<size_t>(b_ + j);
          KILN_ASSIGN_OR_RETURN(int64_t c, fix_index(idx.get_i64(row * k + j), d[axis], who_));
          off += c * stride[axis];
        }
        std::memcpy(y + static_cast<size_t>(row * slice) * es, x + static_cast<size_t>(off) * es,
                    static_cast<size_t>(slice) * es);
      }
    return Status::Ok();
  }

 private:
  std::string who_;
  int64_t b_;
};

// NonZero: int64 [rank, count] coordinates of non-zero elements, in row-major order.
class NonZeroOp final : public Op {
 public:
  explicit NonZeroOp(std::string who) : who_(std::move(who)) {}

  Status infer(std::span<const TensorInfo> in, std::span<TensorInfo> out) override {
    if (!has_in(in, 0)) return invalid_model(who_ + ": input is missing");
    if (dtype_size(in[0].dtype) == 0) return invalid_argument(who_ + ": unsupported dtype " + dtype_name(in[0].dtype));
    if (!in[0].value) return needs_value(0);
    int64_t count = 0;
    for (int64_t i = 0, n = in[0].value->size(); i < n; ++i) count += in[0].value->get_f64(i) != 0;
    out[0].dtype = DType::kI64;
    out[0].dims = {static_cast<int64_t>(in[0].dims.size()), count};
    return Status::Ok();
  }

  Status run(std::span<const Tensor> in, std::span<Tensor> out) override {
    KILN_ASSIGN_OR_RETURN(TensorInfo expect, infer_and_check(*this, in, out, who_));
    const Dims& d = in[0].dims();
    const size_t r = d.size();
    const int64_t count = out[0].dim(1);
    int64_t* y = out[0].mutable_data<int64_t>();
    std::vector<int64_t> idx(r, 0);
    int64_t c = 0;
    for (int64_t i = 0, n = in[0].size(); i < n; ++i) {
      if (in[0].get_f64(i) != 0) {
        for (size_t q = 0; q < r; ++q) y[static_cast<int64_t>(q) * count + c] = idx[q];
        ++c;
      }
      for (size_t q = r; q-- > 0;) {
        if (++idx[q] < d[q]) break;
        idx[q] = 0;
      }
    }
    return Status::Ok();
  }

 private:
  std::string who_;
};

}  // namespace

Result<std::unique_ptr<Op>> create_gather(const OpContext& ctx) {
  KILN_RETURN_IF_ERROR(check_input_count(ctx, 2, 2));
  KILN_RETURN_IF_ERROR(check_output_count(ctx, 1, 1));
  KILN_ASSIGN_OR_RETURN(int64_t axis, ctx.node.attr_int("axis", 0));
  return std::unique_ptr<Op>(new GatherOp(ctx.node.describe(), axis));
}

Result<std::unique_ptr<Op>> create_gather_elements(const OpContext& ctx) {
  KILN_RETURN_IF_ERROR(check_input_count(ctx, 2, 2));
  KILN_RETURN_IF_ERROR(check_output_count(ctx, 1, 1));
  KILN_ASSIGN_OR_RETURN(int64_t axis, ctx.node.attr_int("axis", 0));
  return std::unique_ptr<Op>(new GatherElementsOp(ctx.node.describe(), axis));
}

Result<std::unique_ptr<Op>> create_gather_nd(const OpContext& ctx) {
  KILN_RETURN_IF_ERROR(check_input_count(ctx, 2, 2));
  KILN_RETURN_IF_ERROR(check_output_count(ctx, 1, 1));
  KILN_ASSIGN_OR_RETURN(int64_t b, ctx.node.attr_int("batch_dims", 0));
  return std::unique_ptr<Op>(new GatherNDOp(ctx.node.describe(), b));
}

Result<std::unique_ptr<Op>> create_non_zero(const OpContext& ctx) {
  KILN_RETURN_IF_ERROR(check_input_count(ctx, 1, 1));
  KILN_RETURN_IF_ERROR(check_output_count(ctx, 1, 1));
  return std::unique_ptr<Op>(new NonZeroOp(ctx.node.describe()));
}

}  // namespace kiln
