// DFT and STFT (opset 17): the discrete Fourier transform along one axis of a real
// ([..., 1]) or complex ([..., 2]) signal, and the short-time transform of windowed
// frames; one file because STFT is DFT over frames. A direct O(n^2) transform in double
// precision (reference quality, no FFT yet). Output is complex [..., 2]; `onesided` keeps
// the n/2 + 1 non-redundant bins of a real signal's transform; `inverse` divides by n.
#include <cmath>

#include "ops/elementwise.h"

namespace kiln {
namespace {

constexpr double kPi = 3.14159265358979323846;

// out[k] = sum_t in[t] * exp(-+2 pi i k t / n) for k < bins; in has `len` points (zero
// padded to n, or truncated), complex interleaved.
void dft_1d(const double* in, int64_t len, int64_t n, int64_t bins, bool inverse, double* out) {
  const double sign = inverse ? 1 : -1;
  for (int64_t k = 0; k < bins; ++k) {
    double re = 0, im = 0;
    for (int64_t t = 0; t < std::min(len, n); ++t) {
      const double a = sign * 2 * kPi * static_cast<double>((k * t) % n) / static_cast<double>(n);
      const double c = std::cos(a), s = std::sin(a);
      re += in[2 * t] * c - in[2 * t + 1] * s;
      im += in[2 * t] * s + in[2 * t + 1] * c;
    }
    out[2 * k] = inverse ? re / static_cast<double>(n) : re;
    out[2 * k + 1] = inverse ? im / static_cast<double>(n) : im;
  }
}

class DftOp final : public Op {
 public:
  DftOp(std::string who, int64_t axis, bool inverse, bool onesided)
      : who_(std::move(who)), axis_(axis), inverse_(inverse), onesided_(onesided) {}

  Status infer(std::span<const TensorInfo> in, std::span<TensorInfo> out) override {
    if (!has_in(in, 0)) return invalid_model(who_ + ": input is required");
    KILN_RETURN_IF_ERROR(expect_dtype(in[0], {DType::kF32, DType::kF64}, who_ + ": input"));
    const Dims& x = in[0].dims;
    if (x.size() < 3 || (x.back() != 1 && x.back() != 2))
      return invalid_argument(who_ + ": input must be [batch, ..., 1 or 2], got " + dims_to_string(x));
    KILN_ASSIGN_OR_RETURN(int64_t a, normalize_axis(axis_, static_cast<int64_t>(x.size()) - 1, who_));
    if (a == 0) return invalid_argument(who_ + ": axis must not be the batch axis");
    int64_t n = x[static_cast<size_t>(a)];
    if (has_in(in, 1)) {
      if (!in[1].value) return needs_value(1);
      KILN_ASSIGN_OR_RETURN(n, read_scalar_i64(*in[1].value, who_ + ": dft_length"));
      if (n < 1) return invalid_argument(who_ + ": dft_length must be positive, got " + std::to_string(n));
    }
    Dims o = x;
    o[static_cast<size_t>(a)] = onesided_ ? n / 2 + 1 : n;
    o.back() = 2;
    KILN_RETURN_IF_ERROR(checked_num_elements(o, who_).status());
    out[0] = {in[0].dtype, o, nullptr};
    return Status::Ok();
  }

  Status run(std::span<const Tensor> in, std::span<Tensor> out) override {
    KILN_ASSIGN_OR_RETURN(TensorInfo expect, infer_and_check(*this, in, out, who_));
    const Dims& x = in[0].dims();
    const int64_t a = axis_ < 0 ? axis_ + static_cast<int64_t>(x.size()) - 1 : axis_;
    const int64_t len = x[static_cast<size_t>(a)], comps = x.back();
    const int64_t bins = out[0].dims()[static_cast<size_t>(a)];
    const int64_t n = has_in(in, 1) ? in[1].get_i64(0) : len;
    int64_t outer = 1, inner = 1;
    for (int64_t i = 0; i < static_cast<int64_t>(x.size()) - 1; ++i)
      if (i < a) outer *= x[static_cast<size_t>(i)];
      else if (i > a) inner *= x[static_cast<size_t>(i)];
    std::vector<double> sig(static_cast<size_t>(2 * len)), spec(static_cast<size_t>(2 * bins));
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t j = 0; j < inner; ++j) {
        for (int64_t t = 0; t < len; ++t) {
          const int64_t e = ((o * len + t) * inner + j) * comps;
          sig[static_cast<size_t>(2 * t)] = in[0].get_f64(e);
          sig[static_cast<size_t>(2 * t + 1)] = comps == 2 ? in[0].get_f64(e + 1) : 0;
        }
        dft_1d(sig.data(), len, n, bins, inverse_, spec.data());
        for (int64_t k = 0; k < bins; ++k) {
          const int64_t e = ((o * bins + k) * inner + j) * 2;
          visit_dtype(out[0].dtype(), FloatTypes{}, [&](auto t) {
            using T = decltype(t);
            out[0].mutable_data<T>()[e] = static_cast<T>(spec[static_cast<size_t>(2 * k)]);
            out[0].mutable_data<T>()[e + 1] = static_cast<T>(spec[static_cast<size_t>(2 * k + 1)]);
          });
        }
      }
    return Status::Ok();
  }

 private:
  std::string who_;
  int64_t axis_;
  bool inverse_, onesided_;
};

// STFT: signal [batch, length, 1|2], frame_step, optional window [frame_length], optional
// frame_length -> [batch, frames, bins, 2], frames = (length - frame_length) / step + 1.
class StftOp final : public Op {
 public:
  StftOp(std::string who, bool onesided) : who_(std::move(who)), onesided_(onesided) {}

  Status infer(std::span<const TensorInfo> in, std::span<TensorInfo> out) override {
    int64_t step, frame, frames, bins;
    KILN_RETURN_IF_ERROR(plan(in, &step, &frame, &frames, &bins));
    out[0] = {in[0].dtype, Dims{in[0].dims[0], frames, bins, 2}, nullptr};
    return Status::Ok();
  }

  Status run(std::span<const Tensor> in, std::span<Tensor> out) override {
    std::vector<TensorInfo> info = infos_of(in);
    int64_t step, frame, frames, bins;
    KILN_RETURN_IF_ERROR(plan(info, &step, &frame, &frames, &bins));
    TensorInfo expect{in[0].dtype(), Dims{in[0].dims()[0], frames, bins, 2}, nullptr};
    KILN_RETURN_IF_ERROR(check_outputs(out, std::span<const TensorInfo>(&expect, 1), who_));
    const int64_t batch = in[0].dims()[0], len = in[0].dims()[1], comps = in[0].dims()[2];
    std::vector<double> sig(static_cast<size_t>(2 * frame)), spec(static_cast<size_t>(2 * bins));
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t f = 0; f < frames; ++f) {
        for (int64_t t = 0; t < frame; ++t) {
          const double w = has_in(in, 2) ? in[2].get_f64(t) : 1.0;
          const int64_t e = (b * len + f * step + t) * comps;
          sig[static_cast<size_t>(2 * t)] = in[0].get_f64(e) * w;
          sig[static_cast<size_t>(2 * t + 1)] = comps == 2 ? in[0].get_f64(e + 1) * w : 0;
        }
        dft_1d(sig.data(), frame, frame, bins, false, spec.data());
        visit_dtype(out[0].dtype(), FloatTypes{}, [&](auto tag) {
          using T = decltype(tag);
          T* y = out[0].mutable_data<T>() + (b * frames + f) * bins * 2;
          for (int64_t k = 0; k < 2 * bins; ++k) y[k] = static_cast<T>(spec[static_cast<size_t>(k)]);
        });
      }
    return Status::Ok();
  }

 private:
  Status plan(std::span<const TensorInfo> in, int64_t* step, int64_t* frame, int64_t* frames, int64_t* bins) const {
    if (!has_in(in, 0) || !has_in(in, 1)) return invalid_model(who_ + ": inputs signal and frame_step are required");
    KILN_RETURN_IF_ERROR(expect_dtype(in[0], {DType::kF32, DType::kF64}, who_ + ": signal"));
    const Dims& x = in[0].dims;
    if (x.size() != 3 || (x[2] != 1 && x[2] != 2))
      return invalid_argument(who_ + ": signal must be [batch, length, 1 or 2], got " + dims_to_string(x));
    if (!in[1].value) return needs_value(1);
    KILN_ASSIGN_OR_RETURN(*step, read_scalar_i64(*in[1].value, who_ + ": frame_step"));
    if (has_in(in, 3)) {
      if (!in[3].value) return needs_value(3);
      KILN_ASSIGN_OR_RETURN(*frame, read_scalar_i64(*in[3].value, who_ + ": frame_length"));
    } else if (has_in(in, 2)) {
      if (in[2].dims.size() != 1) return invalid_argument(who_ + ": window must be 1-D");
      *frame = in[2].dims[0];
    } else {
      return invalid_model(who_ + ": one of window and frame_length is required");
    }
    if (has_in(in, 2) && in[2].dims != Dims{*frame})
      return invalid_argument(who_ + ": window must be [" + std::to_string(*frame) + "], got " + dims_to_string(in[2].dims));
    if (*step < 1 || *frame < 1 || *frame > x[1])
      return invalid_argument(who_ + ": frame_step " + std::to_string(*step) + " / frame_length " +
                              std::to_string(*frame) + " do not fit a signal of " + std::to_string(x[1]));
    if (onesided_ && x[2] == 2) return invalid_argument(who_ + ": onesided needs a real signal");
    *frames = (x[1] - *frame) / *step + 1;
    *bins = onesided_ ? *frame / 2 + 1 : *frame;
    return Status::Ok();
  }

  std::string who_;
  bool onesided_;
};

}  // namespace

Result<std::unique_ptr<Op>> create_dft(const OpContext& ctx) {
  KILN_RETURN_IF_ERROR(check_input_count(ctx, 1, 2));
  KILN_RETURN_IF_ERROR(check_output_count(ctx, 1, 1));
  KILN_ASSIGN_OR_RETURN(int64_t axis, ctx.node.attr_int("axis", 1));
  KILN_ASSIGN_OR_RETURN(int64_t inverse, ctx.node.attr_int("inverse", 0));
  KILN_ASSIGN_OR_RETURN(int64_t onesided, ctx.node.attr_int("onesided", 0));
  return std::unique_ptr<Op>(new DftOp(ctx.node.describe(), axis, inverse != 0, onesided != 0));
}

Result<std::unique_ptr<Op>> create_stft(const OpContext& ctx) {
  KILN_RETURN_IF_ERROR(check_input_count(ctx, 2, 4));
  KILN_RETURN_IF_ERROR(check_output_count(ctx, 1, 1));
  KILN_ASSIGN_OR_RETURN(int64_t onesided, ctx.node.attr_int("onesided", 1));
  return std::unique_ptr<Op>(new StftOp(ctx.node.describe(), onesided != 0));
}

}  // namespace kiln
