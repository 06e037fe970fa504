// import_qdq_weights (graph/passes/import_qdq_weights.cc): weight-only QDQ
// DequantizeLinear(int8 W) into MatMul / Gemm / Conv -> kiln.DynamicQuantMatMul /
// kiln.DynamicQuantConv on the same int8 values (bit-exact), per-tensor scales broadcast,
// and what must stay untouched (zero point, other axis, a reader that cannot convert).
#include <gtest/gtest.h>

#include <cmath>

#include "graph/kiln_extensions.h"
#include "graph/passes/pass_util.h"
#include "graph/passes/pipeline.h"
#include "graph_optimizer_util.h"

namespace kiln {
namespace {

using opt_test::Builder;
using opt_test::count_op;

Tensor random_int8(const Dims& d, uint32_t seed) {
  auto t = Tensor::make(DType::kI8, d);
  EXPECT_TRUE(t.ok());
  const std::vector<float> v = opt_test::random_values(static_cast<size_t>(num_elements(d)), seed, -127.f, 127.f);
  for (size_t i = 0; i < v.size(); ++i) t->mutable_data<int8_t>()[i] = static_cast<int8_t>(std::lround(v[i]));
  return std::move(t).value();
}

Tensor int8_zeros(const Dims& d) {
  auto t = Tensor::make(DType::kI8, d);
  EXPECT_TRUE(t.ok());
  for (int64_t i = 0; i < t->size(); ++i) t->mutable_data<int8_t>()[i] = 0;
  return std::move(t).value();
}

std::vector<float> positive_scales(size_t n, uint32_t seed) { return opt_test::random_values(n, seed, 0.002f, 0.02f); }

// |got - want| within tol of the outputs' range (the activations are quantized at run time).
void expect_close(const TensorMap& got, const TensorMap& want, float tol = 0.02f) {
  ASSERT_EQ(got.size(), want.size());
  for (const auto& [name, w] : want) {
    auto it = got.find(name);
    ASSERT_NE(it, got.end()) << name;
    ASSERT_EQ(dims_to_string(it->second.dims()), dims_to_string(w.dims())) << name;
    double range = 0, worst = 0;
    for (int64_t i = 0; i < w.size(); ++i) range = std::max(range, std::fabs(w.get_f64(i)));
    for (int64_t i = 0; i < w.size(); ++i) worst = std::max(worst, std::fabs(it->second.get_f64(i) - w.get_f64(i)));
    EXPECT_LE(worst, tol * range) << name << " (range " << range << ")";
  }
}

const Node* find_op(const Model& m, const std::string& op) {
  for (const Node& n : m.graph.nodes)
    if (n.op_type == op) return &n;
  return nullptr;
}

void expect_same_int8(const Tensor& got, const Tensor& want) {
  ASSERT_EQ(got.dtype(), DType::kI8);
  ASSERT_EQ(dims_to_string(got.dims()), dims_to_string(want.dims()));
  for (int64_t i = 0; i < want.size(); ++i) ASSERT_EQ(got.data<int8_t>()[i], want.data<int8_t>()[i]) << i;
}

TEST(ImportQdqWeights, MatMulPerChannelBecomesDynamicQuantMatMulBitExact) {
  Builder b;
  const int x = b.input("x", {5, 32});
  const Tensor q = random_int8({32, 24}, 1);
  const std::vector<float> scale = positive_scales(24, 2);
  const int w = b.node("DequantizeLinear", {b.constant("w_q", q), b.c("w_s", scale, {24}), b.constant("w_z", int8_zeros({24}))},
                       "w", {{"axis", opt_test::attr_i(1)}});
  const Model before = b.done({b.node("MatMul", {x, w}, "y")});
  Model after = before;
  auto rep = run_pass(after, "import_qdq_weights");
  ASSERT_TRUE(rep.ok()) << rep.status().to_string();
  EXPECT_EQ(rep->rewrites, 1);
  EXPECT_EQ(count_op(after, "DequantizeLinear"), 0);
  const Node* n = find_op(after, ext::kDynamicQuantMatMul);
  ASSERT_NE(n, nullptr);
  EXPECT_EQ(n->domain, ext::kDomain);
  expect_same_int8(*constant_of(after, n->inputs[1]), q);
  const Tensor* s = constant_of(after, n->inputs[2]);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(floats_of(*s), scale);
  const TensorMap in = opt_test::random_inputs(before, 3);
  expect_close(opt_test::run_model(after, in), opt_test::run_model(before, in));
}

TEST(ImportQdqWeights, GemmTransBPerTensorScaleBroadcastWithAlphaAndBias) {
  Builder b;
  const int x = b.input("x", {4, 40});
  const Tensor q = random_int8({16, 40}, 4);  // [N, K] (transB)
  const int w = b.node("DequantizeLinear", {b.constant("w_q", q), b.scalar("w_s", 0.01f)}, "w");
  const int y = b.node("Gemm", {x, w, b.random("c", {16}, 5)}, "y",
                       {{"transB", opt_test::attr_i(1)}, {"alpha", opt_test::attr_f(0.5f)}, {"beta", opt_test::attr_f(2.f)}});
  const Model before = b.done({y});
  Model after = before;
  auto rep = run_pass(after, "import_qdq_weights");
  ASSERT_TRUE(rep.ok()) << rep.status().to_string();
  EXPECT_EQ(rep->rewrites, 1);
  const Node* n = find_op(after, ext::kDynamicQuantMatMul);
  ASSERT_NE(n, nullptr);
  const Tensor* wq = constant_of(after, n->inputs[1]);
  ASSERT_NE(wq, nullptr);
  ASSERT_EQ(dims_to_string(wq->dims()), dims_to_string(Dims{40, 16}));
  for (int64_t k = 0; k < 40; ++k)
    for (int64_t c = 0; c < 16; ++c) ASSERT_EQ(wq->data<int8_t>()[k * 16 + c], q.data<int8_t>()[c * 40 + k]);
  EXPECT_EQ(floats_of(*constant_of(after, n->inputs[2])), std::vector<float>(16, 0.005f));  // scale * alpha
  ASSERT_EQ(n->inputs.size(), 4u);
  const TensorMap in = opt_test::random_inputs(before, 6);
  expect_close(opt_test::run_model(after, in), opt_test::run_model(before, in));
}

// Conv through the whole optimizer: folding keeps the DequantizeLinear (it would grow the
// file), nhwc_layout makes kiln.NhwcConv, this pass the kiln.DynamicQuantConv.
TEST(ImportQdqWeights, ConvThroughOptimizerBecomesDynamicQuantConv) {
  Builder b;
  const int x = b.input("x", {2, 8, 9, 7});
  const Tensor q = random_int8({12, 8, 3, 3}, 7);
  const std::vector<float> scale = positive_scales(12, 8);
  const int w = b.node("DequantizeLinear", {b.constant("w_q", q), b.c("w_s", scale, {12})}, "w",
                       {{"axis", opt_test::attr_i(0)}});
  const int y = b.node("Conv", {x, w, b.random("bias", {12}, 9)}, "y",
                       {{"kernel_shape", opt_test::attr_ints({3, 3})}, {"pads", opt_test::attr_ints({1, 1, 1, 1})}});
  const Model before = b.done({b.node("Relu", {y}, "z")});
  Model after = before;
  std::vector<PassReport> reports;
  ASSERT_TRUE(optimize(after, {}, &reports).ok());
  int imported = 0;
  for (const PassReport& r : reports)
    if (r.pass == "import_qdq_weights") imported += r.rewrites;
  EXPECT_EQ(imported, 1);
  EXPECT_EQ(count_op(after, "DequantizeLinear"), 0);
  const Node* n = find_op(after, ext::kDynamicQuantConv);
  ASSERT_NE(n, nullptr);
  expect_same_int8(*constant_of(after, n->inputs[1]), q);
  EXPECT_EQ(floats_of(*constant_of(after, n->inputs[2])), scale);
  const TensorMap in = opt_test::random_inputs(before, 10);
  expect_close(opt_test::run_model(after, in), opt_test::run_model(before, in));
}

// One case each that must stay as imported: the DequantizeLinear keeps running.
void expect_untouched(const Model& before) {
  Model after = before;
  auto rep = run_pass(after, "import_qdq_weights");
  ASSERT_TRUE(rep.ok()) << rep.status().to_string();
  EXPECT_EQ(rep->rewrites, 0);
  EXPECT_EQ(count_op(after, "DequantizeLinear"), 1);
  EXPECT_EQ(count_op(after, ext::kDynamicQuantMatMul), 0);
  EXPECT_EQ(count_op(after, ext::kDynamicQuantConv), 0);
}

TEST(ImportQdqWeights, NonZeroZeroPointStays) {
  Builder b;
  const int x = b.input("x", {3, 32});
  auto z = int8_zeros({24});
  z.mutable_data<int8_t>()[5] = 3;
  const int w = b.node("DequantizeLinear", {b.constant("w_q", random_int8({32, 24}, 11)),
                                             b.c("w_s", positive_scales(24, 12), {24}), b.constant("w_z", std::move(z))},
                       "w");
  expect_untouched(b.done({b.node("MatMul", {x, w}, "y")}));
}

TEST(ImportQdqWeights, ScalesAlongTheInputAxisStay) {
  Builder b;
  const int x = b.input("x", {3, 32});
  const int w = b.node("DequantizeLinear",
                       {b.constant("w_q", random_int8({32, 24}, 13)), b.c("w_s", positive_scales(32, 14), {32})}, "w",
                       {{"axis", opt_test::attr_i(0)}});
  expect_untouched(b.done({b.node("MatMul", {x, w}, "y")}));
}

TEST(ImportQdqWeights, VectorTimesMatrixStays) {
  Builder b;
  const int x = b.input("x", Dims{32});
  const int w = b.node("DequantizeLinear",
                       {b.constant("w_q", random_int8({32, 24}, 20)), b.c("w_s", positive_scales(24, 21), {24})}, "w");
  expect_untouched(b.done({b.node("MatMul", {x, w}, "y")}));
}

// Strided, no kernel_shape attribute (taken from the weights), per-tensor scale.
TEST(ImportQdqWeights, StridedConvPerTensorScale) {
  Builder b;
  const int x = b.input("x", {1, 16, 11, 8});
  const Tensor q = random_int8({8, 16, 3, 3}, 22);
  const int w = b.node("DequantizeLinear", {b.constant("w_q", q), b.scalar("w_s", 0.004f)}, "w");
  const Model before = b.done({b.node("Conv", {x, w}, "y", {{"strides", opt_test::attr_ints({2, 2})}})});
  Model after = before;
  ASSERT_TRUE(optimize(after).ok());
  EXPECT_EQ(count_op(after, "DequantizeLinear"), 0);
  const Node* n = find_op(after, ext::kDynamicQuantConv);
  ASSERT_NE(n, nullptr);
  expect_same_int8(*constant_of(after, n->inputs[1]), q);
  EXPECT_EQ(floats_of(*constant_of(after, n->inputs[2])), std::vector<float>(8, 0.004f));
  const TensorMap in = opt_test::random_inputs(before, 23);
  expect_close(opt_test::run_model(after, in), opt_test::run_model(before, in));
}

TEST(ImportQdqWeights, SharedWithAnotherReaderStays) {
  Builder b;
  const int x = b.input("x", {32, 24});
  const int w = b.node("DequantizeLinear",
                       {b.constant("w_q", random_int8({24, 24}, 15)), b.c("w_s", positive_scales(24, 16), {24})}, "w");
  const int y = b.node("MatMul", {x, w}, "y");
  expect_untouched(b.done({y, b.node("Add", {w, w}, "w2")}));
}

TEST(ImportQdqWeights, WeightSharedByTwoMatMulsIsImportedOnce) {
  Builder b;
  const int x = b.input("x", {3, 32});
  const int x2 = b.input("x2", {2, 32});
  const Tensor q = random_int8({32, 24}, 17);
  const int w = b.node("DequantizeLinear", {b.constant("w_q", q), b.c("w_s", positive_scales(24, 18), {24})}, "w");
  const Model before = b.done({b.node("MatMul", {x, w}, "y"), b.node("MatMul", {x2, w}, "y2")});
  Model after = before;
  auto rep = run_pass(after, "import_qdq_weights");
  ASSERT_TRUE(rep.ok()) << rep.status().to_string();
  EXPECT_EQ(rep->rewrites, 1);
  EXPECT_EQ(count_op(after, ext::kDynamicQuantMatMul), 2);
  const TensorMap in = opt_test::random_inputs(before, 19);
  expect_close(opt_test::run_model(after, in), opt_test::run_model(before, in));
}

}  // namespace
}  // namespace kiln
