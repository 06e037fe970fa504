#include "backends/xnnpack/delegate.h"

#include <mutex>

#include "backends/xnnpack/xnn_op.h"
#include "kernels/reference/reference.h"

namespace kiln::xnnpack {

Status initialize() {
  static std::once_flag once;
  static xnn_status status = xnn_status_uninitialized;
  std::call_once(once, [] { status = xnn_initialize(/*allocator=*/nullptr); });
  if (status == xnn_status_success) return Status::Ok();
  if (status == xnn_status_unsupported_hardware)
    return unsupported("XNNPACK does not support this CPU (xnn_initialize: unsupported hardware)");
  return internal_error("xnn_initialize failed with XNNPACK status " + std::to_string(static_cast<int>(status)));
}

Status xnn_error(xnn_status s, const std::string& who, const char* call) {
  return internal_error(who + ": " + call + " failed with XNNPACK status " + std::to_string(static_cast<int>(s)));
}

OutputClamp split_activation(const FusedActivation& act) {
  OutputClamp c;
  if (act.kind == FusedActivation::Kind::kRelu) {
    c.min = 0.f;
  } else if (act.kind == FusedActivation::Kind::kClip) {
    c.min = act.alpha;
    c.max = act.beta;
  } else {
    c.rest = act;
  }
  return c;
}

void nchw_to_nhwc(const float* x, float* y, size_t batch, size_t channels, size_t pixels) {
  for (size_t b = 0; b < batch; ++b)
    f32_transpose_reference(channels, pixels, x + b * channels * pixels, pixels, y + b * channels * pixels, channels);
}

void nhwc_to_nchw(const float* x, float* y, size_t batch, size_t channels, size_t pixels) {
  for (size_t b = 0; b < batch; ++b)
    f32_transpose_reference(pixels, channels, x + b * channels * pixels, channels, y + b * channels * pixels, pixels);
}

bool to_window2d(const nn::Window& w, const Dims& in, Window2d* out) {
  if (w.rank != in.size() || (w.rank != 1 && w.rank != 2)) return false;
  const size_t o = 2 - w.rank;  // 1-D windows run as height 1
  int64_t v[2][7] = {{1, 1, 1, 0, 0, 1, 1}, {1, 1, 1, 0, 0, 1, 1}};  // in, kernel, stride, begin, end, dilation, out
  for (size_t d = 0; d < w.rank; ++d) {
    int64_t* r = v[d + o];
    r[0] = in[d];
    r[1] = w.kernel[d];
    r[2] = w.stride[d];
    r[3] = w.pad_begin[d];
    r[4] = w.pad_end[d];
    r[5] = w.dilation[d];
    r[6] = w.out[d];
  }
  constexpr int64_t kMax = int64_t{1} << 30;
  for (auto& r : v) {
    for (int64_t x : r)
      if (x < 0 || x > kMax) return false;
    const int64_t eff = (r[1] - 1) * r[5] + 1, padded = r[0] + r[3] + r[4];
    if (padded < eff || (padded - eff) / r[2] + 1 != r[6]) return false;
  }
  auto u = [](int64_t x) { return static_cast<uint32_t>(x); };
  *out = Window2d{u(v[0][3]), u(v[1][4]), u(v[0][4]), u(v[1][3]), u(v[0][1]), u(v[1][1]), u(v[0][2]), u(v[1][2]),
                  u(v[0][5]), u(v[1][5]), static_cast<size_t>(v[0][0]), static_cast<size_t>(v[1][0]),
                  static_cast<size_t>(v[0][6]), static_cast<size_t>(v[1][6])};
  return true;
}

Status XnnOp::run(std::span<const Tensor> in, std::span<Tensor> out) {
  KILN_ASSIGN_OR_RETURN(bool done, try_run(in, out));
  if (done) {
    ++xnnpack_runs_;
    return Status::Ok();
  }
  ++fallback_runs_;
  return kiln_op_->run(in, out);
}

Delegation delegate(const OpContext& ctx, std::unique_ptr<Op> kiln_op) {
  if (!initialize().ok() || !kiln_op || kiln_op->is_view()) return {std::move(kiln_op), false};
  using Factory = std::unique_ptr<XnnOp> (*)(const OpContext&, std::unique_ptr<Op>&);
  for (Factory f : {&make_conv, &make_fully_connected, &make_pooling, &make_binary, &make_unary}) {
    std::unique_ptr<XnnOp> op = f(ctx, kiln_op);
    if (op) return {std::move(op), true};
  }
  return {std::move(kiln_op), false};
}

}  // namespace kiln::xnnpack
