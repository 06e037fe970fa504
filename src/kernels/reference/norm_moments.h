// Statistics shared by the normalization reference kernels (internal). Accumulated in
// double: these kernels are the oracle, and long rows in float lose digits.
#pragma once
#include <cmath>
#include <cstddef>

namespace kiln {
namespace refk {

// Mean and 1/sqrt(population variance + epsilon) of n values.
inline void moments(const float* x, size_t n, float epsilon, double* mean, double* inv_std) {
  double sum = 0;
  for (size_t i = 0; i < n; ++i) sum += x[i];
  const double m = n ? sum / static_cast<double>(n) : 0.0;
  double sq = 0;
  for (size_t i = 0; i < n; ++i) sq += (x[i] - m) * (x[i] - m);
  const double var = n ? sq / static_cast<double>(n) : 0.0;
  *mean = m;
  *inv_std = 1.0 / std::sqrt(var + static_cast<double>(epsilon));
}

}  // namespace refk
}  // namespace kiln
