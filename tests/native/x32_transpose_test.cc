// The transposition microkernels (src/kernels/x32-transposec) and the N-D driver.
// Every kernel of the build against plain loops on blocks of 1, tile-1, tile, tile+1,
// 2*tile+3 and 67 rows/columns with padded (strided) rows; the driver against an
// index-by-index transpose for ranks 1..6, size-1 dims, every element size (1, 2, 3, 4,
// 8, 12 bytes), every kernel of the element size and split tile ranges; and what the
// normalization leaves (merged / dropped dims). Runs natively and in WASM.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <numeric>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "kernels/x32-transposec/x32-transposec.h"

namespace kiln {

void PrintTo(const TransposecKernel& k, std::ostream* os) { *os << k.name; }

namespace {

std::vector<uint8_t> random_bytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> v(n);
  for (uint8_t& b : v) b = static_cast<uint8_t>(rng());
  return v;
}

class Transposec : public ::testing::TestWithParam<TransposecKernel> {};

TEST_P(Transposec, Blocks) {
  const TransposecKernel& k = GetParam();
  const size_t es = k.element_size, t = k.tile;
  const std::vector<size_t> sizes = {1, t - 1, t, t + 1, 2 * t + 3, 67};
  for (size_t bh : sizes)
    for (size_t bw : sizes) {
      if (bh == 0 || bw == 0) continue;
      SCOPED_TRACE("rows=" + std::to_string(bh) + " cols=" + std::to_string(bw));
      const size_t is = (bw + 3) * es, os = (bh + 5) * es;  // padded rows
      const std::vector<uint8_t> x = random_bytes(bh * is, static_cast<uint32_t>(bh * 100 + bw));
      std::vector<uint8_t> y(bw * os, 0xA5);
      k.fn(x.data(), y.data(), is, os, bw, bh);
      for (size_t j = 0; j < bw; ++j) {
        for (size_t i = 0; i < bh; ++i)
          ASSERT_EQ(0, std::memcmp(&y[j * os + i * es], &x[i * is + j * es], es)) << "out row " << j << " col " << i;
        for (size_t b = bh * es; b < os; ++b) ASSERT_EQ(y[j * os + b], 0xA5) << "wrote into the row padding";
      }
    }
}

INSTANTIATE_TEST_SUITE_P(All, Transposec, ::testing::ValuesIn(transposec_kernels().begin(), transposec_kernels().end()),
                         [](const auto& info) { return std::string(info.param.name); });

// Output element by element: out[j...] = in[idx with in dim perm[j] = j-th output index].
std::vector<uint8_t> naive_transpose(const std::vector<uint8_t>& x, size_t es, const std::vector<int64_t>& dims,
                                     const std::vector<int64_t>& perm) {
  const size_t r = dims.size();
  std::vector<int64_t> in_stride(r, 1);
  for (size_t i = r; i-- > 1;) in_stride[i - 1] = in_stride[i] * dims[i];
  const size_t n = x.size() / es;
  std::vector<uint8_t> y(x.size());
  std::vector<int64_t> idx(r, 0);
  for (size_t o = 0; o < n; ++o) {
    int64_t off = 0;
    for (size_t j = 0; j < r; ++j) off += idx[j] * in_stride[static_cast<size_t>(perm[j])];
    std::memcpy(&y[o * es], &x[static_cast<size_t>(off) * es], es);
    for (size_t j = r; j-- > 0;) {
      if (++idx[j] < dims[static_cast<size_t>(perm[j])]) break;
      idx[j] = 0;
    }
  }
  return y;
}

void check_nd(size_t es, const std::vector<int64_t>& dims, const std::vector<int64_t>& perm,
              const TransposecKernel* kernel = nullptr) {
  std::string what = "es=" + std::to_string(es) + " dims=";
  for (int64_t d : dims) what += std::to_string(d) + ",";
  what += " perm=";
  for (int64_t p : perm) what += std::to_string(p) + ",";
  if (kernel) what += std::string(" ") + kernel->name;
  SCOPED_TRACE(what);
  size_t n = 1;
  for (int64_t d : dims) n *= static_cast<size_t>(d);
  const std::vector<uint8_t> x = random_bytes(n * es, static_cast<uint32_t>(n + es));
  const std::vector<uint8_t> want = naive_transpose(x, es, dims, perm);
  std::vector<uint8_t> y(n * es + 7, 0x5A);
  transpose_nd(es, dims.size(), dims.data(), perm.data(), x.data(), y.data(), kernel);
  ASSERT_EQ(0, std::memcmp(y.data(), want.data(), want.size()));
  for (size_t i = want.size(); i < y.size(); ++i) ASSERT_EQ(y[i], 0x5A) << "wrote past the output";
  // Tiles in uneven ranges (what the thread pool does) give the same bytes.
  const TransposeNdPlan plan(es, dims.size(), dims.data(), perm.data(), kernel);
  std::vector<uint8_t> z(n * es, 0);
  for (size_t b = 0; b < plan.tiles(); b += 2) plan.run_tiles(x.data(), z.data(), b, std::min(plan.tiles(), b + 2));
  ASSERT_EQ(0, std::memcmp(z.data(), want.data(), want.size())) << "split tile ranges";
}

TEST(TransposeNd, ModelShapes) {
  for (size_t es : {size_t{1}, size_t{2}, size_t{4}, size_t{8}}) {
    check_nd(es, {1, 3, 17, 19}, {0, 2, 3, 1});     // NCHW -> NHWC, 3 channels
    check_nd(es, {1, 19, 17, 40}, {0, 3, 1, 2});    // NHWC -> NCHW
    check_nd(es, {2, 65, 70}, {0, 2, 1});           // batched matrix transpose, odd edges
    check_nd(es, {2, 5, 3, 8, 4}, {0, 2, 1, 3, 4});  // attention heads: innermost unchanged
    check_nd(es, {130, 67}, {1, 0});                // several kBlock tiles
  }
}

TEST(TransposeNd, RandomRanksPermsAndElementSizes) {
  std::mt19937 rng(7);
  for (int iter = 0; iter < 300; ++iter) {
    const size_t rank = 1 + rng() % 6;
    std::vector<int64_t> dims(rank), perm(rank);
    for (int64_t& d : dims) d = 1 + static_cast<int64_t>(rng() % 6);
    if (rng() % 4 == 0) dims[rng() % rank] = 1;
    std::iota(perm.begin(), perm.end(), 0);
    std::shuffle(perm.begin(), perm.end(), rng);
    const size_t sizes[] = {1, 2, 3, 4, 8, 12};
    check_nd(sizes[rng() % 6], dims, perm);
  }
}

TEST(TransposeNd, EveryKernelOfEachElementSize) {
  for (const TransposecKernel& k : transposec_kernels()) {
    check_nd(k.element_size, {3, 37, 41}, {0, 2, 1}, &k);
    check_nd(k.element_size, {1, 5, 9, 33}, {0, 2, 3, 1}, &k);
    check_nd(k.element_size, {100, 1}, {1, 0}, &k);
  }
}

TEST(TransposeNd, EmptyAndScalar) {
  check_nd(4, {0, 3}, {1, 0});
  check_nd(4, {}, {});
  check_nd(2, {1, 1, 1}, {2, 0, 1});
}

TEST(TransposeNd, NormalizesDims) {
  const int64_t nchw[] = {1, 3, 16, 20}, to_nhwc[] = {0, 2, 3, 1};
  const TransposeNdPlan a(4, 4, nchw, to_nhwc);
  ASSERT_EQ(a.rank(), 2u);  // N dropped, H and W merged: a 3 x 320 matrix transpose
  EXPECT_EQ(a.dims()[0], 3);
  EXPECT_EQ(a.dims()[1], 320);
  EXPECT_EQ(a.perm()[0], 1);
  EXPECT_FALSE(a.is_copy());
  const int64_t d5[] = {2, 5, 3, 8, 4}, p5[] = {0, 2, 1, 3, 4};
  const TransposeNdPlan b(4, 5, d5, p5);
  ASSERT_EQ(b.rank(), 4u);  // the last two merge and stay innermost: contiguous runs
  EXPECT_TRUE(b.is_copy());
  const int64_t d3[] = {4, 1, 6}, p3[] = {1, 0, 2};
  const TransposeNdPlan c(4, 3, d3, p3);
  EXPECT_EQ(c.rank(), 1u);  // only a size-1 dim moved: one copy
}

}  // namespace
}  // namespace kiln
