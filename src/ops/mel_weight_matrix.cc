// MelWeightMatrix: the [dft_length / 2 + 1, num_mel_bins] matrix of triangular filters
// that maps a one-sided spectrogram to mel bands, as ONNX defines it: num_mel_bins + 2
// points evenly spaced on the mel scale (2595 log10(1 + f / 700)) between the edge
// frequencies, mapped back to hertz and to spectrogram bins ((dft_length + 1) f /
// sample_rate, floored), each filter rising from its left point to its center and falling
// to its right point. Output dtype is output_datatype (default float32).
#include <cmath>

#include "core/half.h"
#include "ops/elementwise.h"

namespace kiln {
namespace {

class MelWeightMatrixOp final : public Op {
 public:
  MelWeightMatrixOp(std::string who, DType out) : who_(std::move(who)), out_(out) {}

  Status infer(std::span<const TensorInfo> in, std::span<TensorInfo> out) override {
    for (size_t i = 0; i < 5; ++i) {
      if (!has_in(in, i)) return invalid_model(who_ + ": all five inputs are required");
      if (!in[i].value) return needs_value(i);
    }
    Params p;
    KILN_RETURN_IF_ERROR(read(in, p));
    out[0] = {out_, Dims{p.dft_length / 2 + 1, p.mel_bins}, nullptr};
    return Status::Ok();
  }

  Status run(std::span<const Tensor> in, std::span<Tensor> out) override {
    KILN_ASSIGN_OR_RETURN(TensorInfo expect, infer_and_check(*this, in, out, who_));
    Params p;
    KILN_RETURN_IF_ERROR(read(infos_of(in), p));
    const int64_t rows = p.dft_length / 2 + 1, cols = p.mel_bins;
    std::vector<double> w(static_cast<size_t>(rows * cols), 0.0);
    auto mel = [](double f) { return 2595 * std::log10(1 + f / 700); };
    const double lo = mel(p.lower), hi = mel(p.upper);
    const double step = (hi - lo) / static_cast<double>(cols + 2);
    std::vector<int64_t> bin(static_cast<size_t>(cols + 2));
    for (int64_t i = 0; i < cols + 2; ++i) {
      const double hz = 700 * (std::pow(10.0, (static_cast<double>(i) * step + lo) / 2595) - 1);
      const double b = std::floor(static_cast<double>(p.dft_length + 1) * hz / static_cast<double>(p.sample_rate));
      // Clamped to just outside the rows (set() ignores those) so the conversion is defined.
      bin[static_cast<size_t>(i)] = static_cast<int64_t>(std::min(std::max(b, -1.0), static_cast<double>(rows + 1)));
    }
    auto set = [&](int64_t r, int64_t c, double v) {
      if (r >= 0 && r < rows) w[static_cast<size_t>(r * cols + c)] = v;
    };
    for (int64_t i = 0; i < cols; ++i) {
      const int64_t left = bin[static_cast<size_t>(i)], center = bin[static_cast<size_t>(i + 1)],
                    right = bin[static_cast<size_t>(i + 2)];
      if (center == left) set(center, i, 1);
      else
        for (int64_t j = left; j <= center; ++j)
          set(j, i, static_cast<double>(j - left) / static_cast<double>(center - left));
      if (right > center)
        for (int64_t j = center; j < right; ++j)
          set(j, i, static_cast<double>(right - j) / static_cast<double>(right - center));
    }
    for (int64_t i = 0; i < rows * cols; ++i) {
      const double v = w[static_cast<size_t>(i)];
      if (out_ == DType::kF16) out[0].mutable_data<uint16_t>()[i] = float_to_half(static_cast<float>(v));
      else visit_dtype(out_, NumericTypes{}, [&](auto t) { out[0].mutable_data<decltype(t)>()[i] = static_cast<decltype(t)>(v); });
    }
    return Status::Ok();
  }

 private:
  struct Params {
    int64_t mel_bins = 0, dft_length = 0, sample_rate = 0;
    double lower = 0, upper = 0;
  };
  Status read(std::span<const TensorInfo> in, Params& p) const {
    KILN_ASSIGN_OR_RETURN(p.mel_bins, read_scalar_i64(*in[0].value, who_ + ": num_mel_bins"));
    KILN_ASSIGN_OR_RETURN(p.dft_length, read_scalar_i64(*in[1].value, who_ + ": dft_length"));
    KILN_ASSIGN_OR_RETURN(p.sample_rate, read_scalar_i64(*in[2].value, who_ + ": sample_rate"));
    KILN_ASSIGN_OR_RETURN(p.lower, read_scalar_f64(*in[3].value, who_ + ": lower_edge_hertz"));
    KILN_ASSIGN_OR_RETURN(p.upper, read_scalar_f64(*in[4].value, who_ + ": upper_edge_hertz"));
    if (p.mel_bins < 1 || p.mel_bins > (1 << 16) || p.dft_length < 1 || p.dft_length > (1 << 24) || p.sample_rate < 1 ||
        !(p.lower >= 0 && p.lower <= p.upper && p.upper < 1e12))
      return invalid_argument(who_ + ": num_mel_bins, dft_length, sample_rate must be positive and 0 <= lower <= upper");
    return Status::Ok();
  }

  std::string who_;
  DType out_;
};

}  // namespace

Result<std::unique_ptr<Op>> create_mel_weight_matrix(const OpContext& ctx) {
  KILN_RETURN_IF_ERROR(check_input_count(ctx, 5, 5));
  KILN_RETURN_IF_ERROR(check_output_count(ctx, 1, 1));
  KILN_ASSIGN_OR_RETURN(int64_t dt, ctx.node.attr_int("output_datatype", 1));
  const DType out = static_cast<DType>(dt);  // kiln's DType codes are ONNX's
  if (out != DType::kF16 && !visit_dtype(out, NumericTypes{}, [](auto) {}))
    return invalid_model(ctx.node.describe() + ": output_datatype " + std::to_string(dt) + " is not a numeric type");
  return std::unique_ptr<Op>(new MelWeightMatrixOp(ctx.node.describe(), out));
}

}  // namespace kiln
