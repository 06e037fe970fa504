// ScatterElements (and its old name Scatter) and ScatterND: output = data with updates
// written (or reduced: add/mul/max/min) at the given indices. Out-of-range indices are
// errors.
#include <cstring>

#include "ops/elementwise.h"

namespace kiln {
namespace {

enum class Reduction { kNone, kAdd, kMul, kMax, kMin };

// dst[0..n) = reduce(dst, src) for n elements.
using UpdateFn = void (*)(void* dst, const void* src, int64_t n);

template <class T, Reduction R>
void update(void* dv, const void* sv, int64_t n) {
  T* d = static_cast<T*>(dv);
  const T* s = static_cast<const T*>(sv);
  for (int64_t i = 0; i < n; ++i) {
    if constexpr (R == Reduction::kAdd) d[i] = wrap_add(d[i], s[i]);
    else if constexpr (R == Reduction::kMul) d[i] = wrap_mul(d[i], s[i]);
    else if constexpr (R == Reduction::kMax) d[i] = d[i] < s[i] ? s[i] : d[i];
    else d[i] = s[i] < d[i] ? s[i] : d[i];
  }
}

template <size_t kSize>
void copy_update(void* d, const void* s, int64_t n) {
  std::memcpy(d, s, static_cast<size_t>(n) * kSize);
}

UpdateFn pick_update(DType t, Reduction r) {
  if (r == Reduction::kNone) {
    switch (dtype_size(t)) {
      case 1: return &copy_update<1>;
      case 2: return &copy_update<2>;
      case 4: return &copy_update<4>;
      case 8: return &copy_update<8>;
      default: return nullptr;
    }
  }
  UpdateFn f = nullptr;
  visit_dtype(t, ArithTypes{}, [&](auto tag) {
    using T = decltype(tag);
    switch (r) {
      case Reduction::kAdd: f = &update<T, Reduction::kAdd>; break;
      case Reduction::kMul: f = &update<T, Reduction::kMul>; break;
      case Reduction::kMax: f = &update<T, Reduction::kMax>; break;
      case Reduction::kMin: f = &update<T, Reduction::kMin>; break;
      default: break;
    }
  });
  return f;
}

Result<int64_t> fix_index(int64_t idx, int64_t dim, const std::string& who) {
  const int64_t k = idx < 0 ? idx + dim : idx;
  if (k < 0 || k >= dim)
    return out_of_range(who + ": index " + std::to_string(idx) + " is out of range for an axis of size " +
                        std::to_string(dim));
  return k;
}

class ScatterOp final : public Op {
 public:
  ScatterOp(std::string who, bool nd, int64_t axis, Reduction r) : who_(std::move(who)), nd_(nd), axis_(axis), r_(r) {}

  Status infer(std::span<const TensorInfo> in, std::span<TensorInfo> out) override {
    for (size_t i = 0; i < 3; ++i)
      if (!has_in(in, i)) return invalid_model(who_ + ": inputs data, indices and updates are required");
    if (!pick_update(in[0].dtype, r_))
      return invalid_argument(who_ + ": unsupported data dtype " + std::string(dtype_name(in[0].dtype)) +
                              " for this reduction");
    KILN_RETURN_IF_ERROR(expect_dtype(in[1], {DType::kI64, DType::kI32}, who_ + ": indices"));
    if (in[2].dtype != in[0].dtype)
      return invalid_argument(who_ + ": updates are " + dtype_name(in[2].dtype) + " but data is " +
                              dtype_name(in[0].dtype));
    const Dims &d = in[0].dims, &id = in[1].dims, &ud = in[2].dims;
    if (nd_) {
      if (id.empty() || id.back() > static_cast<int64_t>(d.size()) || id.back() < 1)
        return invalid_argument(who_ + ": indices " + dims_to_string(id) + " do not fit data " + dims_to_string(d));
      Dims want(id.begin(), id.end() - 1);
      want.insert(want.end(), d.begin() + id.back(), d.end());
      if (ud != want)
        return invalid_argument(who_ + ": updates have shape " + dims_to_string(ud) + ", expected " +
                                dims_to_string(want));
    } else {
      KILN_ASSIGN_OR_RETURN(int64_t a, normalize_axis(axis_, static_cast<int64_t>(d.size()), who_));
      bool ok = id.size() == d.size() && ud == id;
      for (size_t i = 0; ok && i < d.size(); ++i) ok = static_cast<int64_t>(i) == a || id[i] <= d[i];
      if (!ok)
        return invalid_argument(who_ + ": indices " + dims_to_string(id) + " and updates " + dims_to_string(ud) +
                                " do not fit data " + dims_to_string(d));
    }
    out[0].dtype = in[0].dtype;
    out[0].dims = d;
    return Status::Ok();
  }

  Status run(std::span<const Tensor> in, std::span<Tensor> out) override {
    KILN_ASSIGN_OR_RETURN(TensorInfo expect, infer_and_check(*this, in, out, who_));
    if (in[0].bytes()) std::memcpy(out[0].mutable_raw(), in[0].raw(), in[0].bytes());
    const UpdateFn fn = pick_update(in[0].dtype(), r_);
    const Dims& d = in[0].dims();
    const size_t r = d.size(), es = dtype_size(in[0].dtype());
    std::vector<int64_t> stride(r, 1);
    for (size_t i = r; i-- > 1;) stride[i - 1] = stride[i] * d[i];
    uint8_t* y = static_cast<uint8_t*>(out[0].mutable_raw());
    const uint8_t* u = static_cast<const uint8_t*>(in[2].raw());
    const Tensor& idx = in[1];
    if (nd_) {
      const int64_t k = idx.dims().back(), tuples = k ? idx.size() / k : 0;
      int64_t slice = 1;
      for (size_t i = static_cast<size_t>(k); i < r; ++i) slice *= d[i];
      for (int64_t t = 0; t < tuples; ++t) {
        int64_t off = 0;
        for (int64_t j = 0; j < k; ++j) {
          KILN_ASSIGN_OR_RETURN(int64_t c, fix_index(idx.get_i64(t * k + j), d[static_cast<size_t>(j)], who_));
          off += c * stride[static_cast<size_t>(j)];
        }
        fn(y + static_cast<size_t>(off) * es, u + static_cast<size_t>(t * slice) * es, slice);
      }
      return Status::Ok();
    }
    const size_t a = static_cast<size_t>(axis_ < 0 ? axis_ + in[0].rank() : axis_);
    const Dims& id = idx.dims();
    std::vector<int64_t> pos(r, 0);
    int64_t base = 0;  // offset of pos with the axis coordinate taken as 0
    for (int64_t j = 0, n = idx.size(); j < n; ++j) {
      KILN_ASSIGN_OR_RETURN(int64_t c, fix_index(idx.get_i64(j), d[a], who_));
      fn(y + static_cast<size_t>(base + c * stride[a]) * es, u + static_cast<size_t>(j) * es, 1);
      for (size_t q = r; q-- > 0;) {
        if (++pos[q] < id[q]) {
          if (q != a) base += stride[q];
          break;
        }
        if (q != a) base -= stride[q] * (id[q] - 1);
        pos[q] = 0;
      }
    }
    return Status::Ok();
  }

 private:
  std::string who_;
  bool nd_;
  int64_t axis_;
  Reduction r_;
};

Result<std::unique_ptr<Op>> make_scatter(const OpContext& ctx, bool nd) {
  KILN_RETURN_IF_ERROR(check_input_count(ctx, 3, 3));
  KILN_RETURN_IF_ERROR(check_output_count(ctx, 1, 1));
  KILN_ASSIGN_OR_RETURN(std::string red, ctx.node.attr_string("reduction", std::string("none")));
  Reduction r;
  if (red == "none") r = Reduction::kNone;
  else if (red == "add") r = Reduction::kAdd;
  else if (red == "mul") r = Reduction::kMul;
  else if (red == "max") r = Reduction::kMax;
  else if (red == "min") r = Reduction::kMin;
  else return invalid_model(ctx.node.describe() + ": unknown reduction '" + red + "'");
  int64_t axis = 0;
  if (!nd) {
    KILN_ASSIGN_OR_RETURN(axis, ctx.node.attr_int("axis", 0));
  }
  return std::unique_ptr<Op>(new ScatterOp(ctx.node.describe(), nd, axis, r));
}

}  // namespace

Result<std::unique_ptr<Op>> create_scatter_elements(const OpContext& ctx) { return make_scatter(ctx, false); }
Result<std::unique_ptr<Op>> create_scatter(const OpContext& ctx) { return make_scatter(ctx, false); }
Result<std::unique_ptr<Op>> create_scatter_nd(const OpContext& ctx) { return make_scatter(ctx, true); }

}  // namespace kiln
