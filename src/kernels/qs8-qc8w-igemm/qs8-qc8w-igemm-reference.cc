// The oracle of the qs8-qc8w IGEMM family: plain loops over the indirection buffer and
// unpacked int8 weights, the zero point subtracted per element (the kernels fold it into
// the packed bias instead), requantized by qs8_requantize like the qs8 GEMM reference, or
// by qs8_act_requantize (the activation epilogue).
#include "kernels/qs8-qc8w-igemm/qs8-qc8w-igemm.h"

namespace kiln {

namespace {

// The int32 sums of output (p, j), handed to `out` with the output's address.
template <class Out>
void igemm_sums(size_t m, size_t n, size_t kc, size_t ks, size_t mr, const int8_t* const* a, size_t a_offset,
                const int8_t* zero, int32_t a_zero_point, const int8_t* w, const int32_t* bias, int8_t* c,
                size_t c_stride, Out out) {
  for (size_t p = 0; p < m; ++p)
    for (size_t j = 0; j < n; ++j) {
      int32_t acc = bias ? bias[j] : 0;
      for (size_t s = 0; s < ks; ++s) {
        const int8_t* row = a[(p / mr * ks + s) * mr + p % mr];
        if (row != zero) row += a_offset;  // wraps like the kernels for a "negative" offset
        for (size_t k = 0; k < kc; ++k) acc += (int32_t{row[k]} - a_zero_point) * int32_t{w[(j * kc + k) * ks + s]};
      }
      out(acc, j, c + p * c_stride + j);
    }
}

}  // namespace

void qs8_qc8w_igemm_reference(size_t m, size_t n, size_t kc, size_t ks, size_t mr, const int8_t* const* a,
                              size_t a_offset, const int8_t* zero, int32_t a_zero_point, const int8_t* w,
                              const float* scale, const int32_t* bias, int8_t* c, size_t c_stride,
                              const QS8RequantParams& params) {
  igemm_sums(m, n, kc, ks, mr, a, a_offset, zero, a_zero_point, w, bias, c, c_stride,
             [&](int32_t acc, size_t j, int8_t* y) { *y = qs8_requantize(acc, scale[j], params); });
}

void qs8_qc8w_igemm_act_reference(QS8Act act, size_t m, size_t n, size_t kc, size_t ks, size_t mr,
                                  const int8_t* const* a, size_t a_offset, const int8_t* zero, int32_t a_zero_point,
                                  const int8_t* w, const float* scale, const int32_t* bias, int8_t* c,
                                  size_t c_stride, const QS8ActParams& params) {
  igemm_sums(m, n, kc, ks, mr, a, a_offset, zero, a_zero_point, w, bias, c, c_stride,
             [&](int32_t acc, size_t j, int8_t* y) { *y = qs8_act_requantize(act, acc, scale[j], params); });
}

}  // namespace kiln
