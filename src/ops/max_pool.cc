// MaxPool (opsets 1..22): N-D, strides, pads / auto_pad, dilations and ceil_mode (10+).
// float32 without Indices runs the reference kernel; other dtypes (int8/uint8/float64) and
// the optional Indices output (flat positions in the input, row-major or, with
// storage_order 1, column-major over the spatial dims) take a plain generic loop. The
// float32 path splits planes over the session's threads.
#include "kernels/reference/index_util.h"
#include "ops/conv_util.h"
#include "ops/elementwise.h"
#include "ops/op.h"
#include "platform/thread_pool.h"

namespace kiln {

using namespace nn;  // NOLINT: this file's helpers (ops/nn_util.h)
namespace {

class MaxPoolOp final : public Op {
 public:
  MaxPoolOp(std::string who, WindowAttrs attrs, bool ceil_mode, bool column_major)
      : who_(std::move(who)), attrs_(std::move(attrs)), ceil_mode_(ceil_mode), column_major_(column_major) {}

  Status infer(std::span<const TensorInfo> in, std::span<TensorInfo> out) override {
    KILN_RETURN_IF_ERROR(check_arity(in.size(), 1, out.size(), 1, who_));
    KILN_RETURN_IF_ERROR(expect_dtype(in[0], {DType::kF32, DType::kF64, DType::kI8, DType::kU8}, who_ + "input X"));
    KILN_ASSIGN_OR_RETURN(PoolGeometry g, pool_geometry(attrs_, in[0].dims, ceil_mode_, who_));
    out[0].dtype = in[0].dtype;
    out[0].dims = output_dims(in[0].dims, g);
    if (out.size() > 1) out[1] = {DType::kI64, out[0].dims, nullptr};
    return Status::Ok();
  }

  Status run(std::span<const Tensor> in, std::span<Tensor> out) override {
    KILN_RETURN_IF_ERROR(check_arity(in.size(), 1, out.size(), 1, who_));
    KILN_ASSIGN_OR_RETURN(PoolGeometry g, pool_geometry(attrs_, in[0].dims(), ceil_mode_, who_));
    const Dims od = output_dims(in[0].dims(), g);
    const bool indices = out.size() > 1 && out[1].defined();
    if (in[0].dtype() == DType::kF32 && !indices) {
      KILN_RETURN_IF_ERROR(check_output(out[0], od, who_));
      // Planes (batch x channels) split over the session's threads.
      const int64_t in_plane = refk::product(g.in, g.rank), out_plane = refk::product(g.out, g.rank);
      const float* x = in[0].data<float>();
      float* y = out[0].mutable_data<float>();
      parallel_for(g.planes, [&](size_t begin, size_t end) {
        PoolGeometry part = g;
        part.planes = end - begin;
        f32_maxpool_reference(part, x + static_cast<int64_t>(begin) * in_plane,
                              y + static_cast<int64_t>(begin) * out_plane);
      });
      return Status::Ok();
    }
    if (out[0].dtype() != in[0].dtype() || out[0].dims() != od || (indices && out[1].dims() != od))
      return internal_error(who_ + "output buffers do not match the inferred shapes");
    visit_dtype(in[0].dtype(), TypeList<float, double, int8_t, uint8_t>{}, [&](auto tag) {
      using T = decltype(tag);
      generic<T>(g, in[0].data<T>(), out[0].mutable_data<T>(), indices ? out[1].mutable_data<int64_t>() : nullptr);
    });
    return Status::Ok();
  }

 private:
  static Dims output_dims(const Dims& x, const PoolGeometry& g) {
    Dims d = {x[0], x[1]};
    for (size_t i = 0; i < g.rank; ++i) d.push_back(g.out[i]);
    return d;
  }
  // Max and its flat input index per window; the first maximum wins, NaN propagates.
  template <class T>
  void generic(const PoolGeometry& g, const T* x, T* y, int64_t* idx) const {
    const size_t r = g.rank;
    const int64_t in_plane = refk::product(g.in, r), out_plane = refk::product(g.out, r);
    if (out_plane == 0) return;
    for (size_t p = 0; p < g.planes; ++p) {
      int64_t o = 0, oi[kMaxSpatialDims] = {};
      do {
        double best = 0;
        int64_t best_at = -1;
        int64_t k[kMaxSpatialDims] = {};
        do {
          int64_t flat = 0, col = 0, col_stride = 1;
          bool inside = true;
          for (size_t d = 0; d < r; ++d) {
            const int64_t c = oi[d] * g.stride[d] - g.pad_begin[d] + k[d] * g.dilation[d];
            if (c < 0 || c >= g.in[d]) inside = false;
            flat = flat * g.in[d] + c;
            col += c * col_stride;
            col_stride *= g.in[d];
          }
          if (!inside) continue;
          const double v = static_cast<double>(x[static_cast<int64_t>(p) * in_plane + flat]);
          if (best_at < 0 || v > best || (v != v && best == best)) {
            best = v;
            best_at = column_major_ ? col : flat;
          }
        } while (refk::next_index(k, g.kernel, r));
        y[static_cast<int64_t>(p) * out_plane + o] = static_cast<T>(best);
        if (idx) idx[static_cast<int64_t>(p) * out_plane + o] = static_cast<int64_t>(p) * in_plane + best_at;
        ++o;
      } while (refk::next_index(oi, g.out, r));
    }
  }

  std::string who_;
  WindowAttrs attrs_;
  bool ceil_mode_, column_major_;
};

}  // namespace

Result<std::unique_ptr<Op>> create_max_pool(const OpContext& ctx) {
  KILN_RETURN_IF_ERROR(check_input_count(ctx, 1, 1));
  const std::string who = prefix(ctx.node);
  KILN_ASSIGN_OR_RETURN(WindowAttrs attrs, parse_window_attrs(ctx.node));
  if (attrs.kernel_shape.empty()) return invalid_model(who + "required attribute 'kernel_shape' is missing");
  KILN_ASSIGN_OR_RETURN(int64_t ceil_mode, ctx.node.attr_int("ceil_mode", 0));
  KILN_ASSIGN_OR_RETURN(int64_t storage_order, ctx.node.attr_int("storage_order", 0));
  return std::unique_ptr<Op>(new MaxPoolOp(who, std::move(attrs), ceil_mode != 0, storage_order == 1));
}

}  // namespace kiln
