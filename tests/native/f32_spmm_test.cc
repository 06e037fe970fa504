// Every f32 SpMM microkernel of this build (through the driver: A transposed per tile,
// blocks of columns, c_t transposed back) against the dense reference GEMM over the same
// pruned weights: sparsity 0, 50, 75, 90 and 100%, empty weight rows and columns, every
// row count 1..MR+1, column counts around the 64-column block, prime strides, clamping on
// and off, a large layer, and a tile split across "threads". Also the scalar reference
// microkernel, the packer's format and the sparse/dense choice. Runs natively (ctest) and
// in WASM under Node (kiln_kernel_tests_wasm).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "kernels/f32-spmm/f32-spmm.h"
#include "kernels/reference/reference.h"

namespace kiln {

void PrintTo(const F32SpmmKernel& k, std::ostream* os) { *os << k.name; }

namespace {

std::vector<float> random_floats(size_t count, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.f, 1.f);
  std::vector<float> v(count);
  for (float& x : v) x = dist(rng);
  return v;
}

// k x n weights with about `sparsity` of them zero (exactly all at 1), optionally with
// a whole weight row (input channel) and a whole column (output channel) zeroed.
std::vector<float> sparse_weights(size_t k, size_t n, double sparsity, bool empty_lines, uint32_t seed) {
  std::vector<float> w = random_floats(k * n, seed);
  std::mt19937 rng(seed + 7);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  for (float& x : w)
    if (sparsity >= 1.0 || u(rng) < sparsity) x = 0.f;
  if (empty_lines && k > 1 && n > 1) {
    for (size_t j = 0; j < n; ++j) w[(k / 2) * n + j] = 0.f;
    for (size_t p = 0; p < k; ++p) w[p * n + n / 3] = 0.f;
  }
  return w;
}

// Builder-style: SpmmTester().m(3).n(17).k(23).sparsity(0.75).Test(kernel).
class SpmmTester {
 public:
  SpmmTester& m(size_t v) { m_ = v; return *this; }
  SpmmTester& n(size_t v) { n_ = v; return *this; }
  SpmmTester& k(size_t v) { k_ = v; return *this; }
  SpmmTester& sparsity(double v) { sparsity_ = v; return *this; }
  SpmmTester& empty_lines(bool v) { empty_lines_ = v; return *this; }
  SpmmTester& a_stride(size_t v) { a_stride_ = v; return *this; }
  SpmmTester& c_stride(size_t v) { c_stride_ = v; return *this; }
  SpmmTester& clamp(bool v) { clamp_ = v; return *this; }
  SpmmTester& split(bool v) { split_ = v; return *this; }

  void Test(const F32SpmmKernel& kern) const {
    const size_t as = std::max(a_stride_, k_), cs = std::max(c_stride_, n_);
    SCOPED_TRACE(std::string(kern.name) + " m=" + std::to_string(m_) + " n=" + std::to_string(n_) + " k=" +
                 std::to_string(k_) + " sparsity=" + std::to_string(sparsity_) + " a_stride=" + std::to_string(as) +
                 " c_stride=" + std::to_string(cs) + (empty_lines_ ? " empty-lines" : "") +
                 (clamp_ ? " clamped" : "") + (split_ ? " split" : ""));
    const uint32_t seed = static_cast<uint32_t>(m_ * 1000003 + n_ * 1009 + k_ + static_cast<size_t>(sparsity_ * 100));
    const std::vector<float> a = random_floats(m_ == 0 ? 0 : (m_ - 1) * as + k_, seed);
    const std::vector<float> w = sparse_weights(k_, n_, sparsity_, empty_lines_, seed + 1);
    const std::vector<float> bias = random_floats(n_, seed + 2);

    std::vector<float> expected(m_ * n_);
    f32_gemm_reference(m_, n_, k_, a.data(), static_cast<ptrdiff_t>(as), 1, w.data(), static_cast<ptrdiff_t>(n_), 1,
                       expected.data(), static_cast<ptrdiff_t>(n_), 1.f, 0.f);
    for (size_t i = 0; i < m_; ++i)
      for (size_t j = 0; j < n_; ++j) expected[i * n_ + j] += bias[j];
    F32MinMax mm;
    if (clamp_ && !expected.empty()) {
      std::vector<float> sorted = expected;
      std::sort(sorted.begin(), sorted.end());
      mm.min = sorted[sorted.size() / 4];
      mm.max = sorted[sorted.size() * 3 / 4];
      if (mm.min == mm.max) mm.max = mm.min + 0.5f;  // a constant output (100% sparse): still a range
      for (float& v : expected) v = std::min(std::max(v, mm.min), mm.max);
    }

    const F32SpmmPacked packed = f32_spmm_pack(kern.mr, n_, k_, w.data(), static_cast<ptrdiff_t>(n_), 1, bias.data(), 1);
    size_t zeros = 0;
    for (float x : w) zeros += x == 0.f;
    ASSERT_EQ(packed.nonzeros, w.size() - zeros);

    const float sentinel = 12345.f;
    std::vector<float> c(m_ == 0 ? 0 : (m_ - 1) * cs + n_ + 3, sentinel);
    F32SpmmArgs args;
    args.m = m_, args.a = a.data(), args.a_stride = as, args.w = &packed, args.c = c.data(), args.c_stride = cs;
    args.minmax = mm;
    const size_t tiles = f32_spmm_row_tiles(kern, m_);
    std::vector<float> ws(f32_spmm_workspace_size(kern, packed), -777.f);  // garbage the kernel must not read
    if (split_ && tiles > 1) {
      f32_spmm_tiles(kern, args, 0, tiles / 2, ws.data());
      f32_spmm_tiles(kern, args, tiles / 2, tiles, ws.data());
    } else {
      f32_spmm_tiles(kern, args, 0, tiles, ws.data());
    }
    const float tol = 1e-5f + 2e-6f * static_cast<float>(k_);
    for (size_t i = 0; i < m_; ++i) {
      for (size_t j = 0; j < n_; ++j)
        ASSERT_NEAR(c[i * cs + j], expected[i * n_ + j], tol) << "at row " << i << ", column " << j;
      for (size_t j = n_; j < cs && i + 1 < m_; ++j) ASSERT_EQ(c[i * cs + j], sentinel) << "row " << i << " padding";
    }
    for (size_t j = 0; j < 3; ++j) ASSERT_EQ(c[c.size() - 1 - j], sentinel) << "past the end";
  }

 private:
  size_t m_ = 1, n_ = 1, k_ = 1, a_stride_ = 0, c_stride_ = 0;
  double sparsity_ = 0.75;
  bool empty_lines_ = false, clamp_ = false, split_ = false;
};

class F32Spmm : public testing::TestWithParam<F32SpmmKernel> {};

TEST_P(F32Spmm, EveryRowCount) {
  const F32SpmmKernel& kern = GetParam();
  for (size_t m = 1; m <= kern.mr + 1; ++m) SpmmTester().m(m).n(19).k(23).sparsity(0.5).Test(kern);
  SpmmTester().m(2 * kern.mr + 3).n(5).k(9).Test(kern);
}

TEST_P(F32Spmm, Sparsities) {
  const F32SpmmKernel& kern = GetParam();
  for (double s : {0.0, 0.5, 0.75, 0.9, 1.0})
    for (size_t m : {size_t{1}, kern.mr - 1, kern.mr, kern.mr + 1}) SpmmTester().m(m).n(37).k(41).sparsity(s).Test(kern);
}

TEST_P(F32Spmm, EmptyRowsAndColumns) {
  const F32SpmmKernel& kern = GetParam();
  for (double s : {0.0, 0.75, 0.9}) SpmmTester().m(kern.mr + 5).n(29).k(17).sparsity(s).empty_lines(true).Test(kern);
  // Mostly empty 64-column blocks (k = 3 at 95%): blocks starting at later rows or with no nonzero.
  SpmmTester().m(kern.mr).n(200).k(3).sparsity(0.95).empty_lines(true).Test(kern);
}

TEST_P(F32Spmm, ColumnBlocks) {
  const F32SpmmKernel& kern = GetParam();
  for (size_t n : {size_t{1}, size_t{63}, size_t{64}, size_t{65}, size_t{129}})
    SpmmTester().m(kern.mr + 3).n(n).k(13).sparsity(0.75).Test(kern);
}

TEST_P(F32Spmm, SmallK) {
  const F32SpmmKernel& kern = GetParam();
  for (size_t k : {size_t{1}, size_t{2}, size_t{5}}) SpmmTester().m(kern.mr).n(11).k(k).sparsity(0.5).Test(kern);
}

TEST_P(F32Spmm, Strides) {
  const F32SpmmKernel& kern = GetParam();
  SpmmTester().m(kern.mr + 7).n(23).k(31).a_stride(37).c_stride(29).Test(kern);
  SpmmTester().m(3).n(70).k(19).a_stride(23).c_stride(73).sparsity(0.9).Test(kern);
}

TEST_P(F32Spmm, Clamping) {
  const F32SpmmKernel& kern = GetParam();
  for (double s : {0.0, 0.75, 1.0})
    for (size_t m : {size_t{1}, kern.mr, kern.mr + 1}) SpmmTester().m(m).n(21).k(33).sparsity(s).clamp(true).Test(kern);
}

TEST_P(F32Spmm, LargeAndSplit) {
  const F32SpmmKernel& kern = GetParam();
  SpmmTester().m(197).n(300).k(256).sparsity(0.75).Test(kern);
  SpmmTester().m(5 * kern.mr + 2).n(130).k(96).sparsity(0.9).clamp(true).split(true).Test(kern);
}

// The microkernel alone against the scalar reference microkernel on the same packed data.
TEST_P(F32Spmm, MatchesReferenceMicrokernel) {
  const F32SpmmKernel& kern = GetParam();
  const size_t k = 29, n = 40;
  const std::vector<float> w = sparse_weights(k, n, 0.75, true, 99), bias = random_floats(n, 98);
  const F32SpmmPacked p = f32_spmm_pack(kern.mr, n, k, w.data(), static_cast<ptrdiff_t>(n), 1, bias.data(), 1);
  const std::vector<float> a_t = random_floats(kern.mr * k, 97);
  F32MinMax mm;
  mm.min = -0.7f, mm.max = 0.9f;
  for (size_t mc : {size_t{1}, kern.mr / 2 + 1, kern.mr}) {
    std::vector<float> got(kern.mr * n, 0.f), want(kern.mr * n, 0.f);
    const float* start = a_t.data() + p.blocks[0].first_k * kern.mr;
    kern.fn(mc, n, start, p.values.data(), p.dmap.data(), p.nnzmap.data(), got.data(), &mm);
    f32_spmm_ukernel_reference(kern.mr, mc, n, start, p.values.data(), p.dmap.data(), p.nnzmap.data(), want.data(), &mm);
    for (size_t j = 0; j < n; ++j)
      for (size_t i = 0; i < mc; ++i)
        ASSERT_NEAR(got[j * kern.mr + i], want[j * kern.mr + i], 1e-5f) << kern.name << " mc=" << mc << " row " << i << " col " << j;
  }
}

INSTANTIATE_TEST_SUITE_P(Kernels, F32Spmm, testing::ValuesIn(f32_spmm_kernels().begin(), f32_spmm_kernels().end()),
                         [](const testing::TestParamInfo<F32SpmmKernel>& info) { return std::string(info.param.name); });

TEST(F32SpmmPack, Format) {
  // k = 4, n = 3: column 0 rows {1, 3}, column 1 empty, column 2 rows {0}.
  const float w[] = {0, 0, 5,  //
                     1, 0, 0,  //
                     0, 0, 0,  //
                     2, 0, 0};
  const float bias[] = {10, 20, 30};
  const F32SpmmPacked p = f32_spmm_pack(8, 3, 4, w, 3, 1, bias, 1, 2.f, 0.5f);
  EXPECT_EQ(p.nonzeros, 3u);
  EXPECT_EQ(p.values, (std::vector<float>{5, 2, 4, 10, 15, 10}));
  EXPECT_EQ(p.nnzmap, (std::vector<uint32_t>{2, 0, 1}));
  const int32_t row = 8 * sizeof(float);
  EXPECT_EQ(p.dmap, (std::vector<int32_t>{2 * row, -3 * row, 1 * row}));  // 1 -> 3 -> 0 -> wraps to 1
  ASSERT_EQ(p.blocks.size(), 1u);
  EXPECT_EQ(p.blocks[0].first_k, 1u);
  // Transposed storage (stride_k 1, stride_n k) packs the same matrix.
  float wt[12];
  for (size_t r = 0; r < 4; ++r)
    for (size_t j = 0; j < 3; ++j) wt[j * 4 + r] = w[r * 3 + j];
  const F32SpmmPacked q = f32_spmm_pack(8, 3, 4, wt, 1, 4, bias, 1, 2.f, 0.5f);
  EXPECT_EQ(q.values, p.values);
  EXPECT_EQ(q.dmap, p.dmap);
}

TEST(F32SpmmConfig, DefaultAndChoice) {
  const F32SpmmKernel& def = f32_spmm_default_kernel();
  EXPECT_GT(def.mr, 0u);
  EXPECT_FALSE(f32_spmm_preferred(64, 64, 0));             // dense stays dense
  EXPECT_TRUE(f32_spmm_preferred(64, 64, 64 * 64 * 9 / 10));  // 90% zeros goes sparse
  EXPECT_FALSE(f32_spmm_preferred(64, 16, 64 * 16));         // k = 16: the transposes dominate
  EXPECT_FALSE(f32_spmm_preferred(0, 64, 0));
  const double be = f32_spmm_break_even(256, 256);
  EXPECT_GT(be, 0.0);
  EXPECT_LT(be, 1.0);
  const float w[] = {0, 1, 0, 0, 2, 0};
  EXPECT_EQ(f32_count_zeros(3, 2, w, 3, 1), 4u);
}

}  // namespace
}  // namespace kiln
