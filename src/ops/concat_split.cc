// Concat and Split along one axis (any dtype; copies whole inner blocks).
#include "ops/elementwise.h"

namespace kiln {
namespace {

// outer = prod(dims[:axis]), inner = prod(dims[axis+1:]).
void outer_inner(const Dims& d, int64_t axis, int64_t* outer, int64_t* inner) {
  *outer = 1;
  *inner = 1;
  for (size_t i = 0; i < d.size(); ++i) {
    if (static_cast<int64_t>(i) < axis) *outer *= d[i];
    else if (static_cast<int64_t>(i) > axis) *inner *= d[i];
  }
}

class ConcatOp final : public Op {
 public:
  ConcatOp(std::string who, int64_t axis) : who_(std::move(who)), axis_(axis) {}

  Status infer(std::span<const TensorInfo> in, std::span<TensorInfo> out) override {
    if (in.empty() || !has_in(in, 0)) return invalid_model(who_ + ": needs at least one input");
    const Dims& d0 = in[0].dims;
    if (dtype_size(in[0].dtype) == 0) return invalid_argument(who_ + ": unsupported dtype " + dtype_name(in[0].dtype));
    KILN_ASSIGN_OR_RETURN(int64_t a, normalize_axis(axis_, static_cast<int64_t>(d0.size()), who_));
    Dims d = d0;
    d[static_cast<size_t>(a)] = 0;
    for (size_t i = 0; i < in.size(); ++i) {
      if (!in[i].present()) return invalid_model(who_ + ": input " + std::to_string(i) + " is missing");
      if (in[i].dtype != in[0].dtype)
        return invalid_argument(who_ + ": input " + std::to_string(i) + " is " + dtype_name(in[i].dtype) +
                                " but input 0 is " + dtype_name(in[0].dtype));
      bool ok = in[i].dims.size() == d0.size();
      for (size_t k = 0; ok && k < d0.size(); ++k) ok = static_cast<int64_t>(k) == a || in[i].dims[k] == d0[k];
      if (!ok)
        return invalid_argument(who_ + ": input " + std::to_string(i) + " has shape " + dims_to_string(in[i].dims) +
                                ", incompatible with input 0 " + dims_to_string(d0) + " for concatenation on axis " +
                                std::to_string(a));
      d[static_cast<size_t>(a)] += in[i].dims[static_cast<size_t>(a)];
    }
    out[0].dtype = in[0].dtype;
    out[0].dims = std::move(d);
    return Status::Ok();
  }

  Status run(std::span<const Tensor> in, std::span<Tensor> out) override {
    KILN_ASSIGN_OR_RETURN(TensorInfo expect, infer_and_check(*this, in, out, who_));
    const int64_t a = axis_ < 0 ? axis_ + in[0].rank() : axis_;
    const size_t es = dtype_size(in[0].dtype());
    int64_t outer, inner;
    outer_inner(out[0].dims(), a, &outer, &inner);
    uint8_t* y = static_cast<uint8_t*>(out[0].mutable_raw());
    for (int64_t o = 0; o < outer; ++o) {
      for (const Tensor& t : in) {
        const size_t block = static_cast<size_t>(t.dim(a) * inner) * es;
        if (block == 0) continue;
        std::memcpy(y, static_cast<const uint8_t*>(t.raw()) + static_cast<size_t>(o) * block, block);
        y += block;
      }
    }
    return Status::Ok();
  }

 private:
  std::string who_;
  int64_t axis_;
};

class SplitOp final : public Op {
 public:
  SplitOp(std::string who, int64_t axis, bool from_input, std::optional<std::vector<int64_t>> split,
          std::optional<int64_t> num_outputs)
      : who_(std::move(who)),
        axis_(axis),
        from_input_(from_input),
        split_(std::move(split)),
        num_outputs_(num_outputs) {}

  Status infer(std::span<const TensorInfo> in, std::span<TensorInfo> out) override {
    if (!has_in(in, 0)) return invalid_model(who_ + ": input is missing");
    if (dtype_size(in[0].dtype) == 0) return invalid_argument(who_ + ": unsupported dtype " + dtype_name(in[0].dtype));
    KILN_ASSIGN_OR_RETURN(std::vector<int64_t> sizes, sizes_for(in, out.size()));
    const int64_t a = axis_ < 0 ? axis_ + static_cast<int64_t>(in[0].dims.size()) : axis_;
    for (size_t i = 0; i < out.size(); ++i) {
      out[i].dtype = in[0].dtype;
      out[i].dims = in[0].dims;
      out[i].dims[static_cast<size_t>(a)] = sizes[i];
    }
    return Status::Ok();
  }

  Status run(std::span<const Tensor> in, std::span<Tensor> out) override {
    std::vector<TensorInfo> info = infos_of(in);
    std::vector<TensorInfo> expect(out.size());
    KILN_RETURN_IF_ERROR(infer(info, expect));
    KILN_RETURN_IF_ERROR(check_outputs(out, expect, who_));
    const int64_t a = axis_ < 0 ? axis_ + in[0].rank() : axis_;
    const size_t es = dtype_size(in[0].dtype());
    int64_t outer, inner;
    outer_inner(in[0].dims(), a, &outer, &inner);
    const uint8_t* x = static_cast<const uint8_t*>(in[0].raw());
    for (int64_t o = 0; o < outer; ++o) {
      for (Tensor& t : out) {
        const size_t block = static_cast<size_t>(t.dim(a) * inner) * es;
        if (block == 0) continue;
        std::memcpy(static_cast<uint8_t*>(t.mutable_raw()) + static_cast<size_t>(o) * block, x, block);
        x += block;
      }
    }
    return Status::Ok();
  }

 private:
  Result<std::vector<int64_t>> sizes_for(std::span<const TensorInfo> in, size_t n) const {
    const Dims& d = in[0].dims;
    KILN_ASSIGN_OR_RETURN(int64_t a, normalize_axis(axis_, static_cast<int64_t>(d.size()), who_));
    const int64_t len = d[static_cast<size_t>(a)];
    if (n == 0) return invalid_model(who_ + ": has no outputs");
    std::optional<std::vector<int64_t>> split = split_;
    if (from_input_ && has_in(in, 1)) {
      if (!in[1].value) return needs_value(1);
      auto s = read_ints(*in[1].value, who_ + ": split");
      if (!s.ok()) return s.status();
      split = std::move(s).value();
    }
    std::vector<int64_t> sizes;
    if (split) {
      if (split->size() != n)
        return invalid_argument(who_ + ": split has " + std::to_string(split->size()) + " entries for " +
                                std::to_string(n) + " outputs");
      int64_t sum = 0;
      for (int64_t s : *split) {
        if (s < 0 || s > len)
          return invalid_argument(who_ + ": split " + dims_to_string(*split) + " has an entry outside [0, " +
                                  std::to_string(len) + "]");
        sum += s;
      }
      if (sum != len)
        return invalid_argument(who_ + ": split " + dims_to_string(*split) + " sums to " + std::to_string(sum) +
                                " but axis " + std::to_string(a) + " of " + dims_to_string(d) + " has size " +
                                std::to_string(len));
      return *split;
    }
    const int64_t k = static_cast<int64_t>(n);
    if (num_outputs_) {
      if (*num_outputs_ != k)
        return invalid_model(who_ + ": num_outputs is " + std::to_string(*num_outputs_) + " but the node has " +
                             std::to_string(k) + " outputs");
      // Chunks of ceil(len / k); the last one is smaller when len does not divide.
      const int64_t chunk = (len + k - 1) / k;
      if (chunk * (k - 1) > len)
        return invalid_argument(who_ + ": cannot split size " + std::to_string(len) + " into " + std::to_string(k) +
                                " chunks of " + std::to_string(chunk));
      sizes.assign(n, chunk);
      sizes.back() = len - chunk * (k - 1);
      return sizes;
    }
    if (len % k != 0)
      return invalid_argument(who_ + ": axis " + std::to_string(a) + " of " + dims_to_string(d) +
                              " does not split evenly into " + std::to_string(k) + " outputs");
    sizes.assign(n, len / k);
    return sizes;
  }

  std::string who_;
  int64_t axis_;
  bool from_input_;
  std::optional<std::vector<int64_t>> split_;
  std::optional<int64_t> num_outputs_;
};

}  // namespace

Result<std::unique_ptr<Op>> create_concat(const OpContext& ctx) {
  KILN_RETURN_IF_ERROR(check_input_count(ctx, 1, 1 << 20));
  KILN_RETURN_IF_ERROR(check_output_count(ctx, 1, 1));
  KILN_ASSIGN_OR_RETURN(int64_t axis, ctx.node.attr_int("axis"));
  return std::unique_ptr<Op>(new ConcatOp(ctx.node.describe(), axis));
}

Result<std::unique_ptr<Op>> create_split(const OpContext& ctx) {
  const bool from_input = ctx.opset >= 13;
  KILN_RETURN_IF_ERROR(check_input_count(ctx, 1, from_input ? 2 : 1));
  KILN_RETURN_IF_ERROR(check_output_count(ctx, 1, 1 << 20));
  KILN_ASSIGN_OR_RETURN(int64_t axis, ctx.node.attr_int("axis", 0));
  std::optional<std::vector<int64_t>> split;
  if (!from_input && ctx.node.has_attr("split")) {
    KILN_ASSIGN_OR_RETURN(split, ctx.node.attr_ints("split"));
  }
  std::optional<int64_t> num_outputs;
  if (ctx.opset >= 18 && ctx.node.has_attr("num_outputs")) {
    KILN_ASSIGN_OR_RETURN(num_outputs, ctx.node.attr_int("num_outputs"));
    if (*num_outputs < 1) return invalid_model(ctx.node.describe() + ": num_outputs must be >= 1");
    if (ctx.has_input(1))
      return invalid_model(ctx.node.describe() + ": give either the split input or num_outputs, not both");
  }
  return std::unique_ptr<Op>(new SplitOp(ctx.node.describe(), axis, from_input, std::move(split), num_outputs));
}

}  // namespace kiln
