// Error-minimizing int4 block rounding (src/compress/int4_rounding.h): over random blocks
// (with outliers, all equal, zeros, tiny, short) the fitted scale / (scale, min) never has a
// larger block error than the absmax choice of the kernels' quantizers, the codes written are
// the ones the error was computed for, and on a graph the fitted form keeps the bytes and
// lowers the weight error, activation weighting changes the fit where it should (the op
// tests of the form itself are int4_block_test.cc).
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "compress/int4_block.h"
#include "compress/int4_rounding.h"
#include "core/half.h"
#include "graph_optimizer_util.h"
#include "kernels/qd8-f32-qb4w-gemm/qd8-f32-qb4w-gemm.h"

namespace kiln {
namespace {

// One block of `len` values of a kind: 0 gaussian, 1 gaussian + one outlier, 2 all equal,
// 3 zeros, 4 skewed positive, 5 below fp16's smallest step, 6 two outliers of opposite sign.
std::vector<float> make_block(int kind, size_t len, std::mt19937& rng) {
  std::normal_distribution<float> g(0.f, 0.05f);
  std::vector<float> w(len);
  for (float& v : w) v = g(rng);
  switch (kind) {
    case 1: w[rng() % len] = (rng() & 1 ? 1.f : -1.f) * 0.6f; break;
    case 2: std::fill(w.begin(), w.end(), 0.3125f); break;
    case 3: std::fill(w.begin(), w.end(), 0.f); break;
    case 4: for (float& v : w) v = 0.2f + std::fabs(v); break;
    case 5: for (float& v : w) v *= 1e-7f; break;
    case 6: w[0] = 0.5f, w[len - 1] = -0.45f; break;
    default: break;
  }
  return w;
}

TEST(Int4Rounding, FittedScaleNeverWorseThanAbsmax) {
  std::mt19937 rng(7);
  int better = 0, total = 0;
  for (int kind = 0; kind < 7; ++kind)
    for (size_t len : {size_t{1}, size_t{5}, size_t{31}, size_t{32}})
      for (int rep = 0; rep < 40; ++rep) {
        const std::vector<float> w = make_block(kind, len, rng);
        std::vector<float> imp(len);
        for (float& a : imp) a = static_cast<float>(rng() % 100) / 50.f;
        for (const float* importance : {static_cast<const float*>(nullptr), static_cast<const float*>(imp.data())}) {
          float amax = 0.f;
          for (float v : w) amax = std::max(amax, std::fabs(v));
          const float absmax_scale = half_to_float(float_to_half(amax / 7.f));
          const double e0 = int4_block_error(len, w.data(), 1, importance, absmax_scale);
          const uint16_t h = int4_fit_scale(len, w.data(), 1, importance);
          const double e1 = int4_block_error(len, w.data(), 1, importance, half_to_float(h));
          ASSERT_LE(e1, e0) << "kind " << kind << " len " << len;
          better += e1 < e0, ++total;
          if (kind == 3) EXPECT_EQ(e1, 0.0);
        }
      }
  EXPECT_GT(better, total / 4) << "fitting should improve many random blocks";
}

TEST(Int4Rounding, FittedScaleMinNeverWorseThanMinMax) {
  std::mt19937 rng(11);
  int better = 0, total = 0;
  for (int kind = 0; kind < 7; ++kind)
    for (size_t len : {size_t{1}, size_t{5}, size_t{31}, size_t{32}})
      for (int rep = 0; rep < 40; ++rep) {
        const std::vector<float> w = make_block(kind, len, rng);
        float lo = w[0], hi = w[0];
        for (float v : w) lo = std::min(lo, v), hi = std::max(hi, v);
        const float m0 = half_to_float(float_to_half(lo));
        const float s0 = half_to_float(float_to_half(std::max(hi - m0, 0.f) / 15.f));
        const double e0 = int4_block_error_min(len, w.data(), 1, nullptr, s0, m0);
        uint16_t sh, mh;
        int4_fit_scale_min(len, w.data(), 1, nullptr, &sh, &mh);
        const double e1 = int4_block_error_min(len, w.data(), 1, nullptr, half_to_float(sh), half_to_float(mh));
        ASSERT_LE(e1, e0) << "kind " << kind << " len " << len;
        better += e1 < e0, ++total;
        if (kind == 2 || kind == 3) EXPECT_EQ(e1, 0.0) << "a constant block is its min";
      }
  EXPECT_GT(better, total / 4);
}

// The quantizers write the codes the fitted scale implies, in the kernels' layout; a strided
// (column-major) matrix with a padded last block; the summed error is never above absmax's.
TEST(Int4Rounding, QuantizeBlocksMatchesTheFittedScales) {
  std::mt19937 rng(3);
  const size_t n = 5, k = 70, nb = qb4w_blocks(k), row = qb4w_row_bytes(k);
  std::vector<float> b(k * n);
  std::normal_distribution<float> g(0.f, 0.1f);
  for (float& v : b) v = g(rng);
  b[3 * n + 2] = 1.5f;  // an outlier in column 2, block 0
  for (bool asym : {false, true}) {
    std::vector<uint8_t> nib(n * row), nib0(n * row);
    std::vector<uint16_t> sc(n * nb), mn(n * nb), sc0(n * nb), mn0(n * nb);
    if (asym) {
      int4_quantize_blocks_min_fit(n, k, b.data(), static_cast<ptrdiff_t>(n), 1, nullptr, nib.data(), sc.data(), mn.data());
      qb4w_quantize_blocks_min(n, k, b.data(), static_cast<ptrdiff_t>(n), 1, nib0.data(), sc0.data(), mn0.data());
    } else {
      int4_quantize_blocks_fit(n, k, b.data(), static_cast<ptrdiff_t>(n), 1, nullptr, nib.data(), sc.data());
      qb4w_quantize_blocks(n, k, b.data(), static_cast<ptrdiff_t>(n), 1, nib0.data(), sc0.data());
    }
    double e = 0, e0 = 0;
    for (size_t j = 0; j < n; ++j) {
      for (size_t blk = 0; blk < nb; ++blk) {
        const size_t p0 = blk * 32, len = std::min(k, p0 + 32) - p0;
        const float s = half_to_float(sc[j * nb + blk]);
        const double be = asym ? int4_block_error_min(len, &b[p0 * n + j], static_cast<ptrdiff_t>(n), nullptr, s,
                                                      half_to_float(mn[j * nb + blk]))
                               : int4_block_error(len, &b[p0 * n + j], static_cast<ptrdiff_t>(n), nullptr, s);
        double direct = 0;
        for (size_t p = p0; p < p0 + len; ++p) {
          const float back = asym ? half_to_float(mn[j * nb + blk]) + s * qb4w_nibble_u(nib.data(), k, j, p)
                                  : s * qb4w_nibble(nib.data(), k, j, p);
          const float back0 = asym ? half_to_float(mn0[j * nb + blk]) +
                                         half_to_float(sc0[j * nb + blk]) * qb4w_nibble_u(nib0.data(), k, j, p)
                                   : half_to_float(sc0[j * nb + blk]) * qb4w_nibble(nib0.data(), k, j, p);
          direct += double(back - b[p * n + j]) * double(back - b[p * n + j]);
          e0 += double(back0 - b[p * n + j]) * double(back0 - b[p * n + j]);
        }
        EXPECT_NEAR(direct, be, 1e-9 + 1e-6 * be) << "column " << j << " block " << blk;
        e += direct;
      }
      EXPECT_EQ(nib[j * row + 35], 0) << "k 70, 71 are padding";
    }
    EXPECT_LT(e, e0) << (asym ? "min form" : "symmetric") << ": the outlier block gets a better fit";
  }
}

// On a graph: the same tensors and bytes as absmax, a smaller weight error.
TEST(Int4Rounding, GraphKeepsBytesLowersError) {
  opt_test::Builder bld;
  const int x = bld.input("x", {4, 96});
  const int h = bld.node("MatMul", {x, bld.random("w1", {96, 40}, 1)}, "mm1");
  const int y = bld.node("MatMul", {h, bld.random("w2", {40, 64}, 2)}, "mm2");
  const Model before = bld.done({y});
  for (bool asym : {false, true}) {
    Int4BlockOptions opt;
    opt.min_elements = 0;
    opt.asymmetric = asym;
    Model fitted = before, plain = before;
    auto sf = quantize_int4_block(fitted, opt);
    opt.fit_scales = false;
    auto sp = quantize_int4_block(plain, opt);
    ASSERT_TRUE(sf.ok() && sp.ok());
    EXPECT_EQ(sf->bytes_after, sp->bytes_after);
    EXPECT_GT(sp->weight_sq_sum, 0);
    EXPECT_DOUBLE_EQ(sf->weight_sq_sum, sp->weight_sq_sum);
    EXPECT_LT(sf->weight_sq_error, sp->weight_sq_error);
    for (const char* v : {"w1_int4", "w1_block_scale", "w2_int4", "w2_block_scale"}) {
      const int a = fitted.find_value(v), c = plain.find_value(v);
      ASSERT_GE(a, 0);
      ASSERT_GE(c, 0);
      EXPECT_EQ(fitted.values[size_t(a)].data->bytes(), plain.values[size_t(c)].data->bytes()) << v;
    }
  }
}

// Activation weighting (Int4BlockOptions::input_power, by the data input's name): the fit
// then minimizes the error weighted by each input channel's power (never above absmax's
// weighted error), picks other scales than the unweighted fit, and a power vector whose
// length does not fit the layer is ignored.
TEST(Int4Rounding, InputPowerWeightsTheFit) {
  opt_test::Builder bld;
  const int x = bld.input("x", {4, 96});
  const int y = bld.node("MatMul", {x, bld.random("w1", {96, 40}, 1)}, "mm1");
  const Model before = bld.done({y});
  std::vector<float> power(96, 1.f);
  for (size_t c = 0; c < 96; c += 7) power[c] = 300.f;  // outlier channels
  auto run = [&](bool fit, const std::map<std::string, std::vector<float>>& pw) {
    Model m = before;
    Int4BlockOptions opt;
    opt.min_elements = 0;
    opt.fit_scales = fit;
    opt.input_power = pw;
    EXPECT_TRUE(quantize_int4_block(m, opt).ok());
    const Tensor& q = *m.values[size_t(m.find_value("w1_int4"))].data;
    const Tensor& sc = *m.values[size_t(m.find_value("w1_block_scale"))].data;
    const Tensor& w = *before.values[size_t(before.find_value("w1"))].data;
    double weighted = 0;
    std::vector<uint16_t> scales(sc.data<uint16_t>(), sc.data<uint16_t>() + sc.size());
    for (size_t j = 0; j < 40; ++j)
      for (size_t p = 0; p < 96; ++p) {
        const double e = half_to_float(scales[j * 3 + p / 32]) * qb4w_nibble(q.data<uint8_t>(), 96, j, p) -
                         w.data<float>()[p * 40 + j];
        weighted += power[p] * e * e;
      }
    return std::make_pair(weighted, scales);
  };
  const auto absmax = run(false, {});
  const auto plain = run(true, {});
  const auto weighted = run(true, {{"x", power}});
  const auto wrong = run(true, {{"x", std::vector<float>(95, 1.f)}});  // 95 does not divide K = 96
  EXPECT_LE(weighted.first, absmax.first);
  EXPECT_LT(weighted.first, plain.first) << "the weighting should pay off on the outlier channels";
  EXPECT_NE(weighted.second, plain.second);
  EXPECT_EQ(wrong.second, plain.second);
}

// A per-layer mix: only the named node takes the min form.
TEST(Int4Rounding, AsymmetricNodesSelectTheMinFormPerLayer) {
  opt_test::Builder bld;
  const int x = bld.input("x", {4, 96});
  const int h = bld.node("MatMul", {x, bld.random("w1", {96, 40}, 1)}, "mm1");
  const int y = bld.node("MatMul", {h, bld.random("w2", {40, 64}, 2)}, "mm2");
  Model m = bld.done({y});
  Int4BlockOptions opt;
  opt.min_elements = 0;
  opt.asymmetric_nodes = {"mm2_node"};  // Builder names a node after its output
  ASSERT_TRUE(quantize_int4_block(m, opt).ok());
  EXPECT_LT(m.find_value("w1_block_min"), 0);
  EXPECT_GE(m.find_value("w2_block_min"), 0);
}

}  // namespace
}  // namespace kiln
