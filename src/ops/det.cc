// Det: determinant of each trailing [M, M] matrix, by LU decomposition with partial
// pivoting in double precision. Input [*, M, M] -> output [*].
#include <cmath>
#include <utility>

#include "ops/elementwise.h"

namespace kiln {
namespace {

double determinant(std::vector<double>& a, int64_t m) {
  double det = 1;
  for (int64_t k = 0; k < m; ++k) {
    int64_t p = k;
    for (int64_t i = k + 1; i < m; ++i)
      if (std::fabs(a[i * m + k]) > std::fabs(a[p * m + k])) p = i;
    if (a[p * m + k] == 0) return 0;
    if (p != k) {
      for (int64_t j = 0; j < m; ++j) std::swap(a[k * m + j], a[p * m + j]);
      det = -det;
    }
    det *= a[k * m + k];
    for (int64_t i = k + 1; i < m; ++i) {
      const double f = a[i * m + k] / a[k * m + k];
      for (int64_t j = k; j < m; ++j) a[i * m + j] -= f * a[k * m + j];
    }
  }
  return det;
}

class DetOp final : public Op {
 public:
  explicit DetOp(std::string who) : who_(std::move(who)) {}

  Status infer(std::span<const TensorInfo> in, std::span<TensorInfo> out) override {
    if (!has_in(in, 0)) return invalid_model(who_ + ": input is required");
    KILN_RETURN_IF_ERROR(expect_dtype(in[0], {DType::kF32, DType::kF64}, who_ + ": input"));
    const Dims& x = in[0].dims;
    if (x.size() < 2 || x[x.size() - 1] != x[x.size() - 2])
      return invalid_argument(who_ + ": input must be [*, M, M], got " + dims_to_string(x));
    out[0] = {in[0].dtype, Dims(x.begin(), x.end() - 2), nullptr};
    return Status::Ok();
  }

  Status run(std::span<const Tensor> in, std::span<Tensor> out) override {
    KILN_ASSIGN_OR_RETURN(TensorInfo expect, infer_and_check(*this, in, out, who_));
    const int64_t m = in[0].dims().back();
    std::vector<double> a(static_cast<size_t>(m * m));
    visit_dtype(in[0].dtype(), FloatTypes{}, [&](auto tag) {
      using T = decltype(tag);
      const T* x = in[0].data<T>();
      T* y = out[0].mutable_data<T>();
      for (int64_t b = 0, n = out[0].size(); b < n; ++b) {
        for (int64_t i = 0; i < m * m; ++i) a[static_cast<size_t>(i)] = static_cast<double>(x[b * m * m + i]);
        y[b] = static_cast<T>(determinant(a, m));
      }
    });
    return Status::Ok();
  }

 private:
  std::string who_;
};

}  // namespace

Result<std::unique_ptr<Op>> create_det(const OpContext& ctx) {
  KILN_RETURN_IF_ERROR(check_input_count(ctx, 1, 1));
  KILN_RETURN_IF_ERROR(check_output_count(ctx, 1, 1));
  return std::unique_ptr<Op>(new DetOp(ctx.node.describe()));
}

}  // namespace kiln
