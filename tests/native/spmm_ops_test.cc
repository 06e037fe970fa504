// The automatic sparse path of the GEMM-shaped ops: PackedGemmWeights (MatMul, Gemm)
// and NhwcConvKernels (pointwise Conv) pack pruned weights for the SpMM kernels when
// f32_spmm_preferred says so, keep dense weights dense, and compute the same results as
// the reference math either way (also transposed B, alpha / beta folding, clamping, many
// rows over the thread pool's split, strided / padded 1x1 through IGEMM). Runs natively
// and in WASM (kiln_kernel_tests_wasm).
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "conv_nhwc_oracle.h"
#include "kernels/reference/reference.h"
#include "ops/conv_nhwc_kernels.h"
#include "ops/packed_gemm.h"

namespace kiln {
namespace {

using testing_nhwc::conv2d;
using testing_nhwc::conv_nhwc_oracle;
using testing_nhwc::plane;
using testing_nhwc::random_floats;

// Zeros `sparsity` of w (deterministically, every element independently).
void prune(std::vector<float>& w, double sparsity, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  for (float& x : w)
    if (u(rng) < sparsity) x = 0.f;
}

void check_gemm(size_t m, size_t n, size_t k, double sparsity, bool trans_b, bool expect_sparse) {
  SCOPED_TRACE("m=" + std::to_string(m) + " n=" + std::to_string(n) + " k=" + std::to_string(k) + " sparsity=" +
               std::to_string(sparsity) + (trans_b ? " transB" : ""));
  std::vector<float> b = random_floats(k * n, static_cast<uint32_t>(n + k));
  prune(b, sparsity, 3);
  const std::vector<float> bias = random_floats(n, 5), a = random_floats(m * k, 7);
  const float alpha = 0.5f, beta = 2.f;
  PackedGemmWeights w;
  // transB: b holds [n][k]; the same logical B either way.
  w.pack(n, k, b.data(), trans_b ? 1 : static_cast<ptrdiff_t>(n), trans_b ? static_cast<ptrdiff_t>(k) : 1, alpha,
         bias.data(), 1, beta);
  EXPECT_EQ(w.sparse(), expect_sparse);
  std::vector<float> want(m * n);
  for (size_t i = 0; i < m; ++i)
    for (size_t j = 0; j < n; ++j) want[i * n + j] = beta * bias[j];
  f32_gemm_reference(m, n, k, a.data(), static_cast<ptrdiff_t>(k), 1, b.data(), trans_b ? 1 : static_cast<ptrdiff_t>(n),
                     trans_b ? static_cast<ptrdiff_t>(k) : 1, want.data(), static_cast<ptrdiff_t>(n), alpha, 1.f);
  std::vector<float> got(m * n, -777.f);
  w.multiply(m, a.data(), k, got.data(), n);
  for (size_t i = 0; i < got.size(); ++i) ASSERT_NEAR(got[i], want[i], 1e-5f * (1.f + static_cast<float>(k))) << "at " << i;
}

TEST(SparsePackedGemm, PrunedWeightsRunSparse) {
  for (size_t m : {size_t{1}, size_t{7}, size_t{33}, size_t{250}}) {
    check_gemm(m, 96, 128, 0.9, false, true);
    check_gemm(m, 96, 128, 0.9, true, true);
  }
  check_gemm(40, 360, 120, 0.8, false, true);
}

TEST(SparsePackedGemm, DenseWeightsStayDense) {
  check_gemm(9, 64, 64, 0.0, false, false);
  check_gemm(9, 64, 64, 0.2, true, false);
}

TEST(SparsePackedGemm, SwitchTurnsItOff) {
  set_sparse_kernels_enabled(false);
  check_gemm(20, 64, 64, 0.95, false, false);
  set_sparse_kernels_enabled(true);
  check_gemm(20, 64, 64, 0.95, false, true);
}

TEST(SparseNhwcConv, PointwisePrunedRunsSparse) {
  const size_t cin = 48, cout = 40;
  std::vector<float> w = random_floats(cout * cin, 11), bias = random_floats(cout, 12);
  prune(w, 0.9, 13);
  NhwcConvKernels k;
  ASSERT_TRUE(k.pack(1, cin, cout, 1, 1, w.data(), bias.data()));
  EXPECT_TRUE(k.sparse());
  // Pointwise (sparse), clamped, then the same layer strided and padded (IGEMM).
  for (const ConvGeometry& g : {conv2d(2, 1, cin, cout, 9, 7, 1, 1, 1, 1, 0, 0, 0, 0),
                                conv2d(1, 1, cin, cout, 5, 5, 1, 1, 2, 1, 0, 0, 0, 0),
                                conv2d(1, 1, cin, cout, 4, 4, 1, 1, 1, 1, 1, 0, 0, 1)})
    for (bool clamp : {false, true}) {
      const std::vector<float> x = random_floats(g.batch * plane(g, g.in) * cin, 17);
      std::vector<float> want = conv_nhwc_oracle(g, x.data(), w.data(), bias.data());
      F32MinMax mm;
      if (clamp) testing_nhwc::clamp_to_quartiles(want, &mm.min, &mm.max);
      std::vector<float> y(want.size(), -777.f);
      k.run(g, x.data(), y.data(), mm);
      for (size_t i = 0; i < y.size(); ++i) ASSERT_NEAR(y[i], want[i], 1e-4f) << "at " << i << (clamp ? " clamped" : "");
    }
  // Dense weights of the same layer keep the dense GEMM.
  NhwcConvKernels dense;
  const std::vector<float> wd = random_floats(cout * cin, 14);
  ASSERT_TRUE(dense.pack(1, cin, cout, 1, 1, wd.data(), bias.data()));
  EXPECT_FALSE(dense.sparse());
}

}  // namespace
}  // namespace kiln
