// Pad: constant / reflect / edge / wrap modes, negative pads crop. Pads and value are
// attributes before opset 11, inputs from 11; the axes input arrives in opset 18.
#include <algorithm>
#include <cstring>

#include "core/half.h"
#include "ops/elementwise.h"

namespace kiln {
namespace {

enum class PadMode { kConstant, kReflect, kEdge, kWrap };

// Source coordinate for output coordinate o of an axis padded by `begin`, or -1 for
// the constant value.
int64_t source_index(int64_t o, int64_t begin, int64_t dim, PadMode mode) {
  int64_t i = o - begin;
  if (i >= 0 && i < dim) return i;
  switch (mode) {
    case PadMode::kConstant: return -1;
    case PadMode::kEdge: return i < 0 ? 0 : dim - 1;
    case PadMode::kWrap: return ((i % dim) + dim) % dim;
    case PadMode::kReflect: {
      if (dim == 1) return 0;
      const int64_t period = 2 * (dim - 1);
      i = ((i % period) + period) % period;
      return i < dim ? i : period - i;
    }
  }
  return -1;
}

struct PadPlan {
  Dims out;
  std::vector<int64_t> begin;  // per axis (may be negative)
};

class PadOp final : public Op {
 public:
  PadOp(std::string who, PadMode mode, bool from_inputs, std::vector<int64_t> pads, float value)
      : who_(std::move(who)), mode_(mode), from_inputs_(from_inputs), pads_(std::move(pads)), value_(value) {}

  Status infer(std::span<const TensorInfo> in, std::span<TensorInfo> out) override {
    KILN_ASSIGN_OR_RETURN(PadPlan p, plan(in));
    out[0].dtype = in[0].dtype;
    out[0].dims = std::move(p.out);
    return Status::Ok();
  }

  Status run(std::span<const Tensor> in, std::span<Tensor> out) override {
    std::vector<TensorInfo> info = infos_of(in);
    KILN_ASSIGN_OR_RETURN(PadPlan p, plan(info));
    TensorInfo expect{in[0].dtype(), p.out, nullptr};
    KILN_RETURN_IF_ERROR(check_outputs(out, std::span<const TensorInfo>(&expect, 1), who_));
    if (out[0].size() == 0) return Status::Ok();
    const size_t es = dtype_size(in[0].dtype());
    uint8_t value[8] = {0};
    KILN_RETURN_IF_ERROR(fill_value(in, value));

    const Dims& d = in[0].dims();
    const size_t r = d.size();
    uint8_t* y = static_cast<uint8_t*>(out[0].mutable_raw());
    const uint8_t* x = static_cast<const uint8_t*>(in[0].raw());
    if (r == 0) {
      std::memcpy(y, x, es);
      return Status::Ok();
    }
    // Along the last axis, output [lo, hi) copies a contiguous run of the source row; the
    // padding on either side maps element by element (reflect / edge / wrap / constant).
    const int64_t n = p.out[r - 1], dl = d[r - 1], b = p.begin[r - 1];
    const int64_t lo = std::clamp<int64_t>(b, 0, n), hi = std::clamp<int64_t>(b + dl, lo, n);
    std::vector<int64_t> stride(r, 1);
    for (size_t a = r; a-- > 1;) stride[a - 1] = stride[a] * d[a];
    std::vector<int64_t> idx(r, 0);
    for (int64_t row = 0, rows = out[0].size() / n; row < rows; ++row) {
      uint8_t* yr = y + static_cast<size_t>(row * n) * es;
      int64_t base = 0;
      bool pad_row = false;
      for (size_t a = 0; a + 1 < r; ++a) {
        const int64_t s = source_index(idx[a], p.begin[a], d[a], mode_);
        if (s < 0) pad_row = true;
        base += s * stride[a];
      }
      auto put = [&](int64_t o) {
        const int64_t s = pad_row ? -1 : source_index(o, b, dl, mode_);
        std::memcpy(yr + static_cast<size_t>(o) * es, s < 0 ? value : x + static_cast<size_t>(base + s) * es, es);
      };
      if (pad_row) {
        for (int64_t o = 0; o < n; ++o) put(o);
      } else {
        for (int64_t o = 0; o < lo; ++o) put(o);
        if (hi > lo)
          std::memcpy(yr + static_cast<size_t>(lo) * es, x + static_cast<size_t>(base + lo - b) * es,
                      static_cast<size_t>(hi - lo) * es);
        for (int64_t o = hi; o < n; ++o) put(o);
      }
      for (size_t a = r - 1; a-- > 0;) {
        if (++idx[a] < p.out[a]) break;
        idx[a] = 0;
      }
    }
    return Status::Ok();
  }

 private:
  Result<std::vector<int64_t>> ints_input(std::span<const TensorInfo> in, size_t i, const char* name) const {
    if (!in[i].value) return needs_value(i);
    return read_ints(*in[i].value, who_ + ": " + name);
  }

  Result<PadPlan> plan(std::span<const TensorInfo> in) const {
    if (!has_in(in, 0)) return invalid_model(who_ + ": input data is missing");
    const size_t es = dtype_size(in[0].dtype);
    if (es == 0 || es > 8) return invalid_argument(who_ + ": unsupported dtype " + dtype_name(in[0].dtype));
    const Dims& d = in[0].dims;
    const int64_t r = static_cast<int64_t>(d.size());
    std::vector<int64_t> pads = pads_;
    std::vector<int64_t> axes;
    if (from_inputs_) {
      if (!has_in(in, 1)) return invalid_model(who_ + ": input pads is missing");
      KILN_ASSIGN_OR_RETURN(pads, ints_input(in, 1, "pads"));
      if (has_in(in, 2)) {
        if (in[2].dtype != in[0].dtype)
          return invalid_argument(who_ + ": constant_value is " + dtype_name(in[2].dtype) + " but data is " +
                                  dtype_name(in[0].dtype));
        if (num_elements(in[2].dims) != 1)
          return invalid_argument(who_ + ": constant_value must be a scalar, got shape " + dims_to_string(in[2].dims));
      }
      if (has_in(in, 3)) {
        KILN_ASSIGN_OR_RETURN(std::vector<int64_t> raw, ints_input(in, 3, "axes"));
        KILN_ASSIGN_OR_RETURN(axes, normalize_axes(raw, r, who_ + ": axes"));
      }
    }
    if (axes.empty() && !(from_inputs_ && has_in(in, 3)))
      for (int64_t a = 0; a < r; ++a) axes.push_back(a);
    const size_t k = axes.size();
    if (pads.size() != 2 * k)
      return invalid_argument(who_ + ": pads has " + std::to_string(pads.size()) + " entries, expected " +
                              std::to_string(2 * k) + " for " + std::to_string(k) + " axes");
    PadPlan p;
    p.out = d;
    p.begin.assign(d.size(), 0);
    for (size_t i = 0; i < k; ++i) {
      const size_t a = static_cast<size_t>(axes[i]);
      const int64_t b = pads[i], e = pads[i + k];
      constexpr int64_t kLimit = int64_t{1} << 40;  // keeps the sum below from overflowing
      if (b > kLimit || b < -kLimit || e > kLimit || e < -kLimit)
        return out_of_range(who_ + ": pads " + dims_to_string(pads) + " are too large");
      const int64_t o = d[a] + b + e;
      if (o < 0)
        return invalid_argument(who_ + ": pads " + dims_to_string(pads) + " crop axis " + std::to_string(a) + " of " +
                                dims_to_string(d) + " below zero");
      if (mode_ != PadMode::kConstant && d[a] == 0 && o > 0)
        return invalid_argument(who_ + ": cannot pad the empty axis " + std::to_string(a) + " in this mode");
      p.out[a] = o;
      p.begin[a] = b;
    }
    KILN_RETURN_IF_ERROR(checked_num_elements(p.out, who_).status());
    return p;
  }

  // The pad value in the data dtype's bytes.
  Status fill_value(std::span<const Tensor> in, uint8_t* value) const {
    const DType t = in[0].dtype();
    if (from_inputs_) {
      if (has_in(in, 2)) std::memcpy(value, in[2].raw(), dtype_size(t));
      return Status::Ok();
    }
    if (t == DType::kF16) {
      const uint16_t h = float_to_half(value_);
      std::memcpy(value, &h, 2);
    } else if (t == DType::kBool) {
      value[0] = value_ != 0;
    } else if (!visit_dtype(t, NumericTypes{}, [&](auto tag) {
                 const auto v = static_cast<decltype(tag)>(value_);
                 std::memcpy(value, &v, sizeof(v));
               })) {
      return invalid_argument(who_ + ": unsupported dtype " + dtype_name(t));
    }
    return Status::Ok();
  }

  std::string who_;
  PadMode mode_;
  bool from_inputs_;
  std::vector<int64_t> pads_;
  float value_;
};

}  // namespace

Result<std::unique_ptr<Op>> create_pad(const OpContext& ctx) {
  KILN_ASSIGN_OR_RETURN(std::string m, ctx.node.attr_string("mode", std::string("constant")));
  PadMode mode;
  if (m == "constant") mode = PadMode::kConstant;
  else if (m == "reflect") mode = PadMode::kReflect;
  else if (m == "edge") mode = PadMode::kEdge;
  else if (m == "wrap") mode = PadMode::kWrap;
  else return invalid_model(ctx.node.describe() + ": unknown mode '" + m + "'");
  if (ctx.opset >= 11) {
    KILN_RETURN_IF_ERROR(check_input_count(ctx, 2, ctx.opset >= 18 ? 4 : 3));
    KILN_RETURN_IF_ERROR(check_output_count(ctx, 1, 1));
    return std::unique_ptr<Op>(new PadOp(ctx.node.describe(), mode, true, {}, 0.f));
  }
  KILN_RETURN_IF_ERROR(check_input_count(ctx, 1, 1));
  KILN_RETURN_IF_ERROR(check_output_count(ctx, 1, 1));
  KILN_ASSIGN_OR_RETURN(std::vector<int64_t> pads, ctx.node.attr_ints("pads"));
  KILN_ASSIGN_OR_RETURN(float value, ctx.node.attr_float("value", 0.f));
  return std::unique_ptr<Op>(new PadOp(ctx.node.describe(), mode, false, std::move(pads), value));
}

}  // namespace kiln
