// What the XNNPACK ops share: the base class that keeps the node's kiln op (for infer and as
// the run-time fallback), an owning handle for xnn_operator_t, status mapping, the split of a
// fused activation into XNNPACK's output clamp plus what kiln applies afterwards, and NCHW <->
// NHWC transposes (kiln's graph tensors are NCHW; XNNPACK's convolution and pooling are NHWC).
//
// XNNPACK may read up to XNN_EXTRA_BYTES past the end of an input (never using those values).
// kiln's tensors are heap blocks rounded up to 64 bytes, so such reads stay in mapped memory;
// buffers this backend allocates itself carry the extra bytes explicitly.
#pragma once
#include <xnnpack.h>

#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "ops/conv_util.h"
#include "ops/fused_activation.h"
#include "ops/op.h"

namespace kiln::xnnpack {

struct OperatorDeleter {
  void operator()(xnn_operator_t op) const { xnn_delete_operator(op); }
};
using Operator = std::unique_ptr<xnn_operator, OperatorDeleter>;

// An error naming the node and the XNNPACK call, for failures after a successful create.
Status xnn_error(xnn_status s, const std::string& who, const char* call);

// Float scratch with XNN_EXTRA_BYTES of slack, reused across runs.
class Scratch {
 public:
  float* get(size_t n) {
    buf_.resize(n + XNN_EXTRA_BYTES / sizeof(float));
    return buf_.data();
  }

 private:
  std::vector<float> buf_;
};

// Relu and Clip become XNNPACK's output [min, max]; other activations stay for kiln to
// apply after the XNNPACK operator (apply_fused_activation).
struct OutputClamp {
  float min = -std::numeric_limits<float>::infinity();
  float max = std::numeric_limits<float>::infinity();
  FusedActivation rest;
};
OutputClamp split_activation(const FusedActivation& act);

// x [batch, channels, pixels] -> y [batch, pixels, channels], and back.
void nchw_to_nhwc(const float* x, float* y, size_t batch, size_t channels, size_t pixels);
void nhwc_to_nchw(const float* x, float* y, size_t batch, size_t channels, size_t pixels);

// A sliding window over 1 or 2 spatial dims as XNNPACK's 2-D parameters (1-D: height 1).
struct Window2d {
  uint32_t pad_top = 0, pad_right = 0, pad_bottom = 0, pad_left = 0;
  uint32_t kernel_h = 1, kernel_w = 1, stride_h = 1, stride_w = 1, dilation_h = 1, dilation_w = 1;
  size_t in_h = 1, in_w = 1, out_h = 1, out_w = 1;
  bool operator==(const Window2d&) const = default;
};
// From kiln's resolved window for spatial input dims `in`; false when the rank is not 1 or 2,
// a value does not fit XNNPACK's types, or XNNPACK's output size (floor division over the
// padded input) would differ from kiln's.
bool to_window2d(const nn::Window& w, const Dims& in, Window2d* out);

class XnnOp : public Op {
 public:
  XnnOp(std::unique_ptr<Op> kiln_op, std::string who) : kiln_op_(std::move(kiln_op)), who_(std::move(who)) {}
  Status infer(std::span<const TensorInfo> in, std::span<TensorInfo> out) final { return kiln_op_->infer(in, out); }
  Status run(std::span<const Tensor> in, std::span<Tensor> out) final;
  // How many runs XNNPACK computed and how many went to the kiln op (tests check both paths).
  size_t xnnpack_runs() const { return xnnpack_runs_; }
  size_t fallback_runs() const { return fallback_runs_; }

 protected:
  // Computes out with XNNPACK and returns true, or returns false (before touching out)
  // when these inputs are not a case XNNPACK takes.
  virtual Result<bool> try_run(std::span<const Tensor> in, std::span<Tensor> out) = 0;
  const std::string& who() const { return who_; }

 private:
  std::unique_ptr<Op> kiln_op_;
  std::string who_;
  size_t xnnpack_runs_ = 0, fallback_runs_ = 0;
};

// Factories per op family; each returns nullptr when the node stays on kiln.
std::unique_ptr<XnnOp> make_conv(const OpContext& ctx, std::unique_ptr<Op>& kiln_op);
std::unique_ptr<XnnOp> make_fully_connected(const OpContext& ctx, std::unique_ptr<Op>& kiln_op);
std::unique_ptr<XnnOp> make_pooling(const OpContext& ctx, std::unique_ptr<Op>& kiln_op);
std::unique_ptr<XnnOp> make_binary(const OpContext& ctx, std::unique_ptr<Op>& kiln_op);
std::unique_ptr<XnnOp> make_unary(const OpContext& ctx, std::unique_ptr<Op>& kiln_op);

}  // namespace kiln::xnnpack
