// NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss: one computation (the second is
// the first applied to LogSoftmax over axis 1), so one file. Input [N, C, d1..dk], target
// [N, d1..dk] (int32/int64), optional per-class weight [C]. Each element's loss is
// -input[n, target, d] * weight[target]; targets equal to ignore_index contribute 0 and
// weigh 0. reduction "none" keeps [N, d1..dk]; "sum" sums; "mean" divides the sum by the
// sum of the weights (the count of non-ignored elements without weights), as ONNX does.
#include <cmath>
#include <optional>

#include "ops/elementwise.h"

namespace kiln {
namespace {

enum class Reduction { kNone, kSum, kMean };

class LossOp final : public Op {
 public:
  LossOp(std::string who, Reduction r, std::optional<int64_t> ignore, bool softmax)
      : who_(std::move(who)), reduction_(r), ignore_(ignore), softmax_(softmax) {}

  Status infer(std::span<const TensorInfo> in, std::span<TensorInfo> out) override {
    if (!has_in(in, 0) || !has_in(in, 1)) return invalid_model(who_ + ": inputs scores and labels are required");
    KILN_RETURN_IF_ERROR(expect_dtype(in[0], {DType::kF32, DType::kF64}, who_ + ": input 0"));
    KILN_RETURN_IF_ERROR(expect_dtype(in[1], {DType::kI32, DType::kI64}, who_ + ": input 1 (target)"));
    const Dims& x = in[0].dims;
    const Dims& t = in[1].dims;
    bool ok = x.size() >= 2 && t.size() == x.size() - 1 && t[0] == x[0];
    for (size_t i = 1; ok && i < t.size(); ++i) ok = t[i] == x[i + 1];
    if (!ok)
      return invalid_argument(who_ + ": input " + dims_to_string(x) + " and target " + dims_to_string(t) +
                              " must be [N, C, d1..dk] and [N, d1..dk]");
    if (has_in(in, 2)) {
      if (in[2].dtype != in[0].dtype || in[2].dims != Dims{x[1]})
        return invalid_argument(who_ + ": weight must be " + dtype_name(in[0].dtype) + "[" + std::to_string(x[1]) +
                                "], got " + dtype_name(in[2].dtype) + dims_to_string(in[2].dims));
    }
    out[0].dtype = in[0].dtype;
    out[0].dims = reduction_ == Reduction::kNone ? t : Dims{};
    if (out.size() > 1) {
      out[1].dtype = in[0].dtype;
      out[1].dims = x;
    }
    return Status::Ok();
  }

  Status run(std::span<const Tensor> in, std::span<Tensor> out) override {
    std::vector<TensorInfo> info = infos_of(in);
    std::vector<TensorInfo> expect(out.size());
    KILN_RETURN_IF_ERROR(infer(info, expect));
    KILN_RETURN_IF_ERROR(check_outputs(out, expect, who_));
    Status s;
    visit_dtype(in[0].dtype(), FloatTypes{}, [&](auto tag) { s = compute<decltype(tag)>(in, out); });
    return s;
  }

 private:
  template <class T>
  Status compute(std::span<const Tensor> in, std::span<Tensor> out) {
    const Dims& xd = in[0].dims();
    const int64_t n = xd[0], c = xd[1], inner = num_elements(xd) / std::max<int64_t>(1, n * c);
    const T* x = in[0].data<T>();
    std::vector<T> log_prob;
    if (softmax_) {
      // log_softmax over axis 1, in double for accuracy; stored in out[1] when wanted.
      T* lp = out.size() > 1 && out[1].defined() ? out[1].mutable_data<T>() : nullptr;
      if (!lp) {
        log_prob.resize(static_cast<size_t>(in[0].size()));
        lp = log_prob.data();
      }
      for (int64_t b = 0; b < n; ++b)
        for (int64_t d = 0; d < inner; ++d) {
          const T* xs = x + b * c * inner + d;
          T* ys = lp + b * c * inner + d;
          double m = -INFINITY, sum = 0;
          for (int64_t k = 0; k < c; ++k) m = std::max(m, static_cast<double>(xs[k * inner]));
          for (int64_t k = 0; k < c; ++k) sum += std::exp(static_cast<double>(xs[k * inner]) - m);
          const double lse = m + std::log(sum);
          for (int64_t k = 0; k < c; ++k) ys[k * inner] = static_cast<T>(static_cast<double>(xs[k * inner]) - lse);
        }
      x = lp;
    }
    const T* w = has_in(in, 2) ? in[2].data<T>() : nullptr;
    T* y = out[0].mutable_data<T>();
    double total = 0, weight_sum = 0;
    for (int64_t b = 0; b < n; ++b)
      for (int64_t d = 0; d < inner; ++d) {
        const int64_t e = b * inner + d;
        const int64_t label = in[1].get_i64(e);
        double loss = 0, weight = 0;
        if (!(ignore_ && label == *ignore_)) {
          if (label < 0 || label >= c)
            return out_of_range(who_ + ": target " + std::to_string(label) + " at index " + std::to_string(e) +
                                " is outside [0, " + std::to_string(c) + ")");
          weight = w ? static_cast<double>(w[label]) : 1.0;
          loss = -static_cast<double>(x[(b * c + label) * inner + d]) * weight;
        }
        if (reduction_ == Reduction::kNone) y[e] = static_cast<T>(loss);
        total += loss;
        weight_sum += weight;
      }
    if (reduction_ == Reduction::kSum) y[0] = static_cast<T>(total);
    if (reduction_ == Reduction::kMean) y[0] = static_cast<T>(total / weight_sum);
    return Status::Ok();
  }

  std::string who_;
  Reduction reduction_;
  std::optional<int64_t> ignore_;
  bool softmax_;
};

Result<std::unique_ptr<Op>> create(const OpContext& ctx, bool softmax) {
  KILN_RETURN_IF_ERROR(check_input_count(ctx, 2, 3));
  KILN_RETURN_IF_ERROR(check_output_count(ctx, 1, softmax ? 2 : 1));
  KILN_ASSIGN_OR_RETURN(std::string r, ctx.node.attr_string("reduction", "mean"));
  Reduction red;
  if (r == "none") red = Reduction::kNone;
  else if (r == "sum") red = Reduction::kSum;
  else if (r == "mean") red = Reduction::kMean;
  else return invalid_model(ctx.node.describe() + ": reduction must be none, sum or mean, got '" + r + "'");
  std::optional<int64_t> ignore;
  if (ctx.node.has_attr("ignore_index")) {
    KILN_ASSIGN_OR_RETURN(int64_t v, ctx.node.attr_int("ignore_index"));
    ignore = v;
  }
  return std::unique_ptr<Op>(new LossOp(ctx.node.describe(), red, ignore, softmax));
}

}  // namespace

Result<std::unique_ptr<Op>> create_negative_log_likelihood_loss(const OpContext& ctx) { return create(ctx, false); }
Result<std::unique_ptr<Op>> create_softmax_cross_entropy_loss(const OpContext& ctx) { return create(ctx, true); }

}  // namespace kiln
