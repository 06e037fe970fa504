// Shared by kiln.BlockQuantMatMul and kiln.BlockQuantConv (qb4w_rows.h).
#include "ops/qb4w_rows.h"

#include <algorithm>

namespace kiln {

Status check_qb4w_constants(const std::string& who, const Tensor& w, const Tensor& scale, const Tensor* bias,
                            const char* w_shape, const Tensor* min) {
  const Dims& wd = w.dims();
  if (w.dtype() != DType::kU8 || wd.size() != 2 || wd[1] % 16 != 0)
    return invalid_model(who + "W must be a 2-D uint8 tensor " + w_shape + ", got " + std::string(dtype_name(w.dtype())) +
                         " " + dims_to_string(wd));
  if (scale.dtype() != DType::kF16 || scale.dims() != Dims{wd[0], wd[1] / 16})
    return invalid_model(who + "W_scale must be float16 [" + std::to_string(wd[0]) + ", " + std::to_string(wd[1] / 16) +
                         "], got " + dims_to_string(scale.dims()));
  if (bias && (bias->dtype() != DType::kF32 || bias->dims() != Dims{wd[0]}))
    return invalid_model(who + "bias must be float32 [" + std::to_string(wd[0]) + "], got " +
                         dims_to_string(bias->dims()));
  if (min && (min->dtype() != DType::kF16 || min->dims() != scale.dims()))
    return invalid_model(who + "W_min must be float16 [" + std::to_string(wd[0]) + ", " + std::to_string(wd[1] / 16) +
                         "] like W_scale, got " + std::string(dtype_name(min->dtype())) + " " +
                         dims_to_string(min->dims()));
  return Status::Ok();
}

std::vector<int32_t> pack_qb4w(const QB4WGemmKernel& kern, const Tensor& w, const Tensor& scale, const Tensor* bias,
                               const Tensor* min) {
  const size_t n = static_cast<size_t>(w.dim(0)), k = static_cast<size_t>(w.dim(1)) * 2;
  if (min) {
    std::vector<int32_t> packed((qb4w_min_gemm_packed_size(kern.nr, n, k) + 3) / 4, 0);
    qb4w_min_gemm_pack(kern.nr, n, k, w.data<uint8_t>(), scale.data<uint16_t>(), min->data<uint16_t>(),
                       bias ? bias->data<float>() : nullptr, packed.data());
    return packed;
  }
  std::vector<int32_t> packed((qb4w_gemm_packed_size(kern.nr, n, k) + 3) / 4, 0);
  qb4w_gemm_pack(kern.nr, n, k, w.data<uint8_t>(), scale.data<uint16_t>(), bias ? bias->data<float>() : nullptr,
                 packed.data());
  return packed;
}

void qb4w_rows(size_t m, size_t k, const float* x, const Tensor& w, const Tensor& scale, const Tensor* bias,
               const QB4WGemmKernel& kern, const int32_t* packed, F32MinMax minmax, float* y, bool reference,
               const Tensor* min) {
  // The weights are packed for K rounded up to the block: the quantized rows are that long too.
  const size_t n = static_cast<size_t>(w.dim(0)), kw = static_cast<size_t>(w.dim(1)) * 2, kp = qb4w_padded_k(kw);
  std::vector<int8_t> qa(m * kp);
  std::vector<QD8RowParams> params(m);
  // The min form sums each row over whole blocks (K is padded to them): pad with the zero point.
  auto pad_rows = [&] {
    if (min)
      for (size_t i = 0; i < m; ++i)
        std::fill(qa.begin() + static_cast<ptrdiff_t>(i * kp + k), qa.begin() + static_cast<ptrdiff_t>((i + 1) * kp),
                  static_cast<int8_t>(params[i].zero_point));
  };
  if (reference) {
    qd8_quantize_rows_reference(m, k, x, k, qa.data(), kp, params.data());
    pad_rows();
    if (min) {
      qd8_f32_qb4w_min_gemm_reference(m, n, kw, qa.data(), kp, params.data(), w.data<uint8_t>(),
                                      scale.data<uint16_t>(), min->data<uint16_t>(),
                                      bias ? bias->data<float>() : nullptr, y, n, minmax);
      return;
    }
    qd8_f32_qb4w_gemm_reference(m, n, kw, qa.data(), kp, params.data(), w.data<uint8_t>(), scale.data<uint16_t>(),
                                bias ? bias->data<float>() : nullptr, y, n, minmax);
    return;
  }
  qd8_quantize_rows(m, k, x, k, qa.data(), kp, params.data());
  pad_rows();
  QD8GemmArgs args;
  args.m = m, args.n = n, args.k = kw, args.qa = qa.data(), args.qa_stride = kp;
  args.row_params = params.data(), args.packed_w = packed;
  args.c = y, args.c_stride = n, args.minmax = minmax;
  qb4w_gemm(kern, args);
}

}  // namespace kiln
