// Every qs8-gavgpool sums kernel of this build against qs8_gavgpool_sums_reference, exactly:
// rows 1, 2, 255, 256, 257, 700 (the int16 accumulators flush every 256 rows; all -128 or
// all 127 inputs hit the int16 limits), channels 1 .. 2 tiles + 1 and 200, row strides wider
// than the channels, sums that start non-zero (the kernel adds), and sums past the channels
// left untouched. Runs natively and in WASM (kiln_kernel_tests_wasm).
#include <gtest/gtest.h>

#include <cstdint>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "kernels/qs8-gavgpool/qs8-gavgpool.h"

namespace kiln {

void PrintTo(const QS8GavgpoolKernel& k, std::ostream* os) { *os << k.name; }

namespace {

class QS8Gavgpool : public ::testing::TestWithParam<QS8GavgpoolKernel> {};

void check(const QS8GavgpoolKernel& k, size_t rows, size_t channels, size_t stride, int fill, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> dist(-128, 127);
  std::vector<int8_t> x(rows * stride + 1);
  for (auto& v : x) v = static_cast<int8_t>(fill >= -128 ? fill : dist(rng));
  std::vector<int32_t> want(channels + 9), got;
  for (size_t c = 0; c < want.size(); ++c) want[c] = static_cast<int32_t>(c * 1000) - 4321;
  got = want;
  qs8_gavgpool_sums_reference(rows, channels, x.data(), stride, want.data());
  k.fn(rows, channels, x.data(), stride, got.data());
  for (size_t c = 0; c < got.size(); ++c) {
    ASSERT_EQ(got[c], want[c]) << k.name << " rows=" << rows << " channels=" << channels << " stride=" << stride
                               << " fill=" << fill << " at " << c << (c >= channels ? " (past the channels)" : "");
  }
}

TEST_P(QS8Gavgpool, RowsChannelsStrides) {
  const QS8GavgpoolKernel& k = GetParam();
  const size_t t = k.channel_tile;
  for (size_t rows : {1, 2, 255, 256, 257, 700})
    for (size_t ch : {size_t{1}, size_t{7}, size_t{8}, size_t{9}, t - 1, t, t + 1, 2 * t + 1, size_t{200}})
      for (size_t extra : {0, 5}) check(k, rows, ch, ch + extra, -1000, static_cast<uint32_t>(rows * 31 + ch + extra));
}

TEST_P(QS8Gavgpool, Int16LimitsAcrossFlushes) {
  const QS8GavgpoolKernel& k = GetParam();
  for (int fill : {-128, 127})
    for (size_t rows : {256, 257, 513, 1000}) check(k, rows, 2 * k.channel_tile + 3, 2 * k.channel_tile + 3, fill, 1);
}

INSTANTIATE_TEST_SUITE_P(Kernels, QS8Gavgpool, ::testing::ValuesIn(qs8_gavgpool_kernels().begin(), qs8_gavgpool_kernels().end()),
                         [](const ::testing::TestParamInfo<QS8GavgpoolKernel>& info) { return std::string(info.param.name); });

TEST(QS8GavgpoolConfig, DefaultIsListed) {
  const QS8GavgpoolKernel& d = qs8_gavgpool_default_kernel();
  bool found = false;
  for (const auto& k : qs8_gavgpool_kernels()) found |= std::string(k.name) == d.name;
  EXPECT_TRUE(found) << d.name;
}

}  // namespace
}  // namespace kiln
