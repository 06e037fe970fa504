// Unique: the distinct elements of the flattened input (or distinct slices along `axis`),
// sorted ascending (sorted = 1, lexicographic for slices) or in order of first
// occurrence. Outputs: Y, the index of each one's first occurrence, the inverse indices
// (for every input element/slice, its position in Y) and the counts.
#include <algorithm>
#include <cstring>
#include <numeric>
#include <optional>

#include "ops/elementwise.h"

namespace kiln {
namespace {

struct Plan {
  int64_t outer = 1, extent = 0, inner = 1;  // slices along the axis: [outer, extent, inner]
  std::vector<int64_t> first;                // per unique slice (in output order), its first index
  std::vector<int64_t> inverse, counts;
};

class UniqueOp final : public Op {
 public:
  UniqueOp(std::string who, std::optional<int64_t> axis, bool sorted)
      : who_(std::move(who)), axis_(axis), sorted_(sorted) {}

  Status infer(std::span<const TensorInfo> in, std::span<TensorInfo> out) override {
    if (!has_in(in, 0)) return invalid_model(who_ + ": input is required");
    if (dtype_size(in[0].dtype) == 0) return invalid_argument(who_ + ": unsupported input dtype");
    if (!in[0].value) return needs_value(0);
    Plan p;
    KILN_RETURN_IF_ERROR(plan(*in[0].value, p));
    const int64_t u = static_cast<int64_t>(p.first.size());
    Dims y{u};
    if (axis_) {
      y = in[0].dims;
      y[static_cast<size_t>(*axis_ < 0 ? *axis_ + static_cast<int64_t>(y.size()) : *axis_)] = u;
    }
    out[0] = {in[0].dtype, y, nullptr};
    if (out.size() > 1) out[1] = {DType::kI64, Dims{u}, nullptr};
    if (out.size() > 2) out[2] = {DType::kI64, Dims{p.extent}, nullptr};
    if (out.size() > 3) out[3] = {DType::kI64, Dims{u}, nullptr};
    return Status::Ok();
  }

  Status run(std::span<const Tensor> in, std::span<Tensor> out) override {
    std::vector<TensorInfo> info = infos_of(in);
    std::vector<TensorInfo> expect(out.size());
    KILN_RETURN_IF_ERROR(infer(info, expect));
    KILN_RETURN_IF_ERROR(check_outputs(out, expect, who_));
    Plan p;
    KILN_RETURN_IF_ERROR(plan(in[0], p));
    const size_t es = dtype_size(in[0].dtype()), run = static_cast<size_t>(p.inner) * es;
    const uint8_t* x = static_cast<const uint8_t*>(in[0].raw());
    uint8_t* y = static_cast<uint8_t*>(out[0].mutable_raw());
    const int64_t u = static_cast<int64_t>(p.first.size());
    for (int64_t o = 0; o < p.outer; ++o)
      for (int64_t k = 0; k < u; ++k)
        std::memcpy(y + static_cast<size_t>(o * u + k) * run,
                    x + static_cast<size_t>(o * p.extent + p.first[static_cast<size_t>(k)]) * run, run);
    auto put = [](Tensor& t, const std::vector<int64_t>& v) {
      if (t.defined()) std::copy(v.begin(), v.end(), t.mutable_data<int64_t>());
    };
    if (out.size() > 1) put(out[1], p.first);
    if (out.size() > 2) put(out[2], p.inverse);
    if (out.size() > 3) put(out[3], p.counts);
    return Status::Ok();
  }

 private:
  Status plan(const Tensor& x, Plan& p) const {
    const Dims& d = x.dims();
    if (axis_) {
      KILN_ASSIGN_OR_RETURN(int64_t a, normalize_axis(*axis_, static_cast<int64_t>(d.size()), who_));
      for (int64_t i = 0; i < static_cast<int64_t>(d.size()); ++i)
        if (i < a) p.outer *= d[static_cast<size_t>(i)];
        else if (i > a) p.inner *= d[static_cast<size_t>(i)];
      p.extent = d[static_cast<size_t>(a)];
    } else {
      p.extent = x.size();
    }
    // Slice s, in element order: outer o, then inner i.
    auto at = [&](int64_t s, int64_t j) { return (j / p.inner * p.extent + s) * p.inner + j % p.inner; };
    const int64_t len = p.outer * p.inner;
    const bool is_float = x.dtype() == DType::kF32 || x.dtype() == DType::kF64 || x.dtype() == DType::kF16;
    auto cmp = [&](int64_t a, int64_t b) {  // <0, 0, >0
      for (int64_t j = 0; j < len; ++j) {
        if (is_float) {
          const double va = x.get_f64(at(a, j)), vb = x.get_f64(at(b, j));
          if (va != vb) return va < vb ? -1 : 1;
        } else {
          const int64_t va = x.get_i64(at(a, j)), vb = x.get_i64(at(b, j));
          if (va != vb) return va < vb ? -1 : 1;
        }
      }
      return 0;
    };
    std::vector<int64_t> order(static_cast<size_t>(p.extent));
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return cmp(a, b) < 0; });
    // Groups of equal slices in sorted order; the first of each is its first occurrence.
    std::vector<int64_t> group_of(static_cast<size_t>(p.extent));
    std::vector<int64_t> firsts, counts;
    for (size_t i = 0; i < order.size(); ++i) {
      if (i == 0 || cmp(order[i - 1], order[i]) != 0) {
        firsts.push_back(order[i]);
        counts.push_back(0);
      }
      group_of[static_cast<size_t>(order[i])] = static_cast<int64_t>(firsts.size()) - 1;
      ++counts.back();
    }
    std::vector<int64_t> pos(firsts.size());  // group -> output position
    std::iota(pos.begin(), pos.end(), 0);
    if (!sorted_)
      std::sort(pos.begin(), pos.end(), [&](int64_t a, int64_t b) { return firsts[static_cast<size_t>(a)] < firsts[static_cast<size_t>(b)]; });
    // pos now lists groups in output order; invert it.
    std::vector<int64_t> rank(firsts.size());
    for (size_t k = 0; k < pos.size(); ++k) rank[static_cast<size_t>(pos[k])] = static_cast<int64_t>(k);
    p.first.resize(firsts.size());
    p.counts.resize(firsts.size());
    for (size_t g = 0; g < firsts.size(); ++g) {
      p.first[static_cast<size_t>(rank[g])] = firsts[g];
      p.counts[static_cast<size_t>(rank[g])] = counts[g];
    }
    p.inverse.resize(static_cast<size_t>(p.extent));
    for (int64_t s = 0; s < p.extent; ++s)
      p.inverse[static_cast<size_t>(s)] = rank[static_cast<size_t>(group_of[static_cast<size_t>(s)])];
    return Status::Ok();
  }

  std::string who_;
  std::optional<int64_t> axis_;
  bool sorted_;
};

}  // namespace

Result<std::unique_ptr<Op>> create_unique(const OpContext& ctx) {
  KILN_RETURN_IF_ERROR(check_input_count(ctx, 1, 1));
  KILN_RETURN_IF_ERROR(check_output_count(ctx, 1, 4));
  std::optional<int64_t> axis;
  if (ctx.node.has_attr("axis")) {
    KILN_ASSIGN_OR_RETURN(int64_t a, ctx.node.attr_int("axis"));
    axis = a;
  }
  KILN_ASSIGN_OR_RETURN(int64_t sorted, ctx.node.attr_int("sorted", 1));
  return std::unique_ptr<Op>(new UniqueOp(ctx.node.describe(), axis, sorted != 0));
}

}  // namespace kiln
