// Reductions: ReduceSum Mean Max Min Prod L1 L2 SumSquare LogSum LogSumExp. Axes are an
// attribute until opset 18 (ReduceSum: 13), then optional input 1 together with
// noop_with_empty_axes. Float sums accumulate in double.
#include <cmath>
#include <limits>

#include "ops/elementwise.h"

namespace kiln {
namespace {

template <class T> bool nan_of(T x) {
  if constexpr (std::is_floating_point_v<T>) return std::isnan(x);
  else return false;
}

// A reduction: accumulator type, identity, per-element map, combine and finish.
template <class T> using WideAcc = std::conditional_t<std::is_floating_point_v<T>, double, int64_t>;

struct SumR {
  template <class T> using Acc = WideAcc<T>;
  template <class A> static A init() { return A{0}; }
  template <class A, class T> static A map(T x) { return static_cast<A>(x); }
  template <class A> static A combine(A a, A b) { return wrap_add(a, b); }
  template <class A, class T> static T finish(A a, int64_t) { return static_cast<T>(a); }
};
struct MeanR : SumR {
  template <class A, class T> static T finish(A a, int64_t n) {
    if constexpr (std::is_integral_v<A>) return n ? static_cast<T>(a / n) : T{0};
    else return static_cast<T>(a / static_cast<double>(n));
  }
};
struct ProdR : SumR {
  template <class A> static A init() { return A{1}; }
  template <class A> static A combine(A a, A b) { return wrap_mul(a, b); }
};
struct L1R : SumR {
  template <class A, class T>
  static A map(T x) {
    return x < 0 ? wrap_sub(A{0}, static_cast<A>(x)) : static_cast<A>(x);
  }
};
struct SumSquareR : SumR {
  template <class A, class T> static A map(T x) { return wrap_mul(static_cast<A>(x), static_cast<A>(x)); }
};
struct L2R : SumSquareR {
  template <class A, class T> static T finish(A a, int64_t) {
    return static_cast<T>(std::sqrt(static_cast<double>(a)));
  }
};
struct LogSumR : SumR {
  template <class A, class T> static T finish(A a, int64_t) { return static_cast<T>(std::log(static_cast<double>(a))); }
};
// Naive form: exp() of float inputs in double overflows only beyond x = 709.
struct LogSumExpR : SumR {
  template <class A, class T> static A map(T x) { return static_cast<A>(std::exp(static_cast<double>(x))); }
  template <class A, class T> static T finish(A a, int64_t) { return static_cast<T>(std::log(static_cast<double>(a))); }
};
struct MaxR {
  template <class T> using Acc = T;
  template <class A> static A init() {
    if constexpr (std::numeric_limits<A>::has_infinity) return -std::numeric_limits<A>::infinity();
    else return std::numeric_limits<A>::lowest();
  }
  template <class A, class T> static A map(T x) { return x; }
  template <class A> static A combine(A a, A b) { return nan_of(a) ? a : (nan_of(b) || a < b ? b : a); }
  template <class A, class T> static T finish(A a, int64_t) { return a; }
};
struct MinR : MaxR {
  template <class A> static A init() {
    if constexpr (std::numeric_limits<A>::has_infinity) return std::numeric_limits<A>::infinity();
    else return std::numeric_limits<A>::max();
  }
  template <class A> static A combine(A a, A b) { return nan_of(a) ? a : (nan_of(b) || b < a ? b : a); }
};

// Input dims collapsed into groups of adjacent dims that are all reduced or all kept.
struct Group {
  int64_t size;
  bool reduced;
};

using ReduceKernel = void (*)(const void* x, const std::vector<Group>& g, int64_t total, void* y, int64_t out_size,
                              int64_t count);

// One pass over the input in memory order, accumulating into a buffer of the output size.
template <class R, class T>
void reduce_kernel(const void* xv, const std::vector<Group>& g, int64_t total, void* yv, int64_t out_size,
                   int64_t count) {
  using A = typename R::template Acc<T>;
  std::vector<A> acc(static_cast<size_t>(out_size), R::template init<A>());
  const T* x = static_cast<const T*>(xv);
  const size_t m = g.size();
  std::vector<int64_t> out_stride(m, 0);
  for (size_t i = m, s = 1; i-- > 0;)
    if (!g[i].reduced) {
      out_stride[i] = static_cast<int64_t>(s);
      s *= static_cast<size_t>(g[i].size);
    }
  const int64_t n = g[m - 1].size;
  const bool inner_reduced = g[m - 1].reduced;
  std::vector<int64_t> idx(m, 0);
  int64_t off = 0;
  for (int64_t o = 0; o < total; o += n) {
    const T* xr = x + o;
    if (inner_reduced) {
      // 8 independent partial results: breaks the serial dependency (and vectorizes).
      A part[8];
      for (A& p : part) p = R::template init<A>();
      int64_t j = 0;
      for (; j + 8 <= n; j += 8)
        for (int k = 0; k < 8; ++k) part[k] = R::combine(part[k], R::template map<A>(xr[j + k]));
      for (; j < n; ++j) part[0] = R::combine(part[0], R::template map<A>(xr[j]));
      for (int k = 4; k > 0; k /= 2)
        for (int q = 0; q < k; ++q) part[q] = R::combine(part[q], part[q + k]);
      acc[static_cast<size_t>(off)] = R::combine(acc[static_cast<size_t>(off)], part[0]);
    } else {
      A* ar = acc.data() + off;
      for (int64_t j = 0; j < n; ++j) ar[j] = R::combine(ar[j], R::template map<A>(xr[j]));
    }
    for (size_t d = m - 1; d-- > 0;) {
      if (++idx[d] < g[d].size) {
        off += out_stride[d];
        break;
      }
      idx[d] = 0;
      off -= out_stride[d] * (g[d].size - 1);
    }
  }
  T* y = static_cast<T*>(yv);
  for (int64_t i = 0; i < out_size; ++i) y[i] = R::template finish<A, T>(acc[static_cast<size_t>(i)], count);
}

// L2, LogSum and LogSumExp are computed for float types only.
template <class R, class L = ArithTypes>
ReduceKernel pick_reduce(DType d) {
  ReduceKernel k = nullptr;
  visit_dtype(d, L{}, [&](auto t) { k = &reduce_kernel<R, decltype(t)>; });
  return k;
}

struct ReducePlan {
  Dims out;
  bool noop = false;
  std::vector<Group> groups;
  int64_t count = 1;  // elements reduced into each output
};

class ReduceOp final : public Op {
 public:
  ReduceOp(std::string who, ReduceKernel (*pick)(DType), bool keepdims, bool noop_empty, bool from_input,
           std::optional<std::vector<int64_t>> attr_axes)
      : who_(std::move(who)), pick_(pick), keepdims_(keepdims), noop_empty_(noop_empty), from_input_(from_input),
        attr_axes_(std::move(attr_axes)) {}

  Status infer(std::span<const TensorInfo> in, std::span<TensorInfo> out) override {
    KILN_ASSIGN_OR_RETURN(ReducePlan p, plan(in));
    out[0].dtype = in[0].dtype;
    out[0].dims = std::move(p.out);
    return Status::Ok();
  }

  Status run(std::span<const Tensor> in, std::span<Tensor> out) override {
    std::vector<TensorInfo> info = infos_of(in);
    KILN_ASSIGN_OR_RETURN(ReducePlan p, plan(info));
    TensorInfo expect{in[0].dtype(), p.out, nullptr};
    KILN_RETURN_IF_ERROR(check_outputs(out, std::span<const TensorInfo>(&expect, 1), who_));
    if (p.noop) {
      if (in[0].bytes()) std::memcpy(out[0].mutable_raw(), in[0].raw(), in[0].bytes());
      return Status::Ok();
    }
    pick_(in[0].dtype())(in[0].raw(), p.groups, in[0].size(), out[0].mutable_raw(), out[0].size(), p.count);
    return Status::Ok();
  }

 private:
  Result<ReducePlan> plan(std::span<const TensorInfo> in) const {
    if (!has_in(in, 0)) return invalid_model(who_ + ": input data is missing");
    if (!pick_(in[0].dtype))
      return invalid_argument(who_ + ": unsupported input dtype " + dtype_name(in[0].dtype));
    std::vector<int64_t> axes;
    if (attr_axes_) axes = *attr_axes_;
    if (from_input_ && has_in(in, 1)) {
      if (!in[1].value) return needs_value(1);
      KILN_ASSIGN_OR_RETURN(axes, read_ints(*in[1].value, who_ + ": axes"));
    }
    const Dims& d = in[0].dims;
    ReducePlan p;
    if (axes.empty() && noop_empty_) {
      p.out = d;
      p.noop = true;
      return p;
    }
    std::vector<bool> reduced(d.size(), axes.empty());
    KILN_ASSIGN_OR_RETURN(std::vector<int64_t> ax,
                          normalize_axes(axes, static_cast<int64_t>(d.size()), who_ + ": axes"));
    for (int64_t a : ax) reduced[static_cast<size_t>(a)] = true;
    for (size_t i = 0; i < d.size(); ++i) {
      if (reduced[i]) {
        p.count *= d[i];
        if (keepdims_) p.out.push_back(1);
      } else {
        p.out.push_back(d[i]);
      }
      if (d[i] == 1) continue;
      if (!p.groups.empty() && p.groups.back().reduced == reduced[i]) p.groups.back().size *= d[i];
      else p.groups.push_back({d[i], reduced[i]});
    }
    if (p.groups.empty()) p.groups.push_back({1, false});
    return p;
  }

  std::string who_;
  ReduceKernel (*pick_)(DType);
  bool keepdims_, noop_empty_, from_input_;
  std::optional<std::vector<int64_t>> attr_axes_;
};

// axes_input_opset: the opset from which axes is input 1 instead of an attribute.
Result<std::unique_ptr<Op>> make_reduce(const OpContext& ctx, ReduceKernel (*pick)(DType), int64_t axes_input_opset) {
  const bool from_input = ctx.opset >= axes_input_opset;
  KILN_RETURN_IF_ERROR(check_input_count(ctx, 1, from_input ? 2 : 1));
  KILN_RETURN_IF_ERROR(check_output_count(ctx, 1, 1));
  KILN_ASSIGN_OR_RETURN(int64_t keepdims, ctx.node.attr_int("keepdims", 1));
  int64_t noop = 0;
  if (from_input) {
    KILN_ASSIGN_OR_RETURN(noop, ctx.node.attr_int("noop_with_empty_axes", 0));
  }
  std::optional<std::vector<int64_t>> axes;
  if (!from_input && ctx.node.has_attr("axes")) {
    KILN_ASSIGN_OR_RETURN(axes, ctx.node.attr_ints("axes"));
  }
  return std::unique_ptr<Op>(
      new ReduceOp(ctx.node.describe(), pick, keepdims != 0, noop != 0, from_input, std::move(axes)));
}

}  // namespace

Result<std::unique_ptr<Op>> create_reduce_sum(const OpContext& ctx) { return make_reduce(ctx, &pick_reduce<SumR>, 13); }
Result<std::unique_ptr<Op>> create_reduce_mean(const OpContext& ctx) {
  return make_reduce(ctx, &pick_reduce<MeanR>, 18);
}
Result<std::unique_ptr<Op>> create_reduce_max(const OpContext& ctx) { return make_reduce(ctx, &pick_reduce<MaxR>, 18); }
Result<std::unique_ptr<Op>> create_reduce_min(const OpContext& ctx) { return make_reduce(ctx, &pick_reduce<MinR>, 18); }
Result<std::unique_ptr<Op>> create_reduce_prod(const OpContext& ctx) {
  return make_reduce(ctx, &pick_reduce<ProdR>, 18);
}
Result<std::unique_ptr<Op>> create_reduce_l1(const OpContext& ctx) { return make_reduce(ctx, &pick_reduce<L1R>, 18); }
Result<std::unique_ptr<Op>> create_reduce_l2(const OpContext& ctx) {
  return make_reduce(ctx, &pick_reduce<L2R, FloatTypes>, 18);
}
Result<std::unique_ptr<Op>> create_reduce_sum_square(const OpContext& ctx) {
  return make_reduce(ctx, &pick_reduce<SumSquareR>, 18);
}
Result<std::unique_ptr<Op>> create_reduce_log_sum(const OpContext& ctx) {
  return make_reduce(ctx, &pick_reduce<LogSumR, FloatTypes>, 18);
}
Result<std::unique_ptr<Op>> create_reduce_log_sum_exp(const OpContext& ctx) {
  return make_reduce(ctx, &pick_reduce<LogSumExpR, FloatTypes>, 18);
}

}  // namespace kiln
