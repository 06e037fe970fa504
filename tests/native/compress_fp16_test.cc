// fp16 weight storage (src/compress/fp16_weights.h): which weights convert, the file
// halves, loading folds the Casts back (runtime/stored_weights.h) so ops get float32
// constants, and outputs stay within float16 rounding of the original.
#include <gtest/gtest.h>

#include "compress/compare.h"
#include "compress/fp16_weights.h"
#include "core/half.h"
#include "graph_optimizer_util.h"
#include "runtime/stored_weights.h"

namespace kiln {
namespace {

using namespace opt_test;

// Conv -> Relu -> MatMul, with a large conv weight, a small bias, a shape constant and a
// weight beyond float16's range.
Model small_net(float big = 1.f) {
  Builder b;
  int x = b.input("x", Dims{1, 8, 6, 6});
  int w = b.random("conv.w", {16, 8, 3, 3}, 1);  // 1152 values
  int bias = b.random("conv.b", {16}, 2);
  int y = b.node("Conv", {x, w, bias}, "y", {{"pads", attr_ints({1, 1, 1, 1})}});
  int r = b.node("Relu", {y}, "r");
  int shape = b.constant("shape", Tensor::from_i64({1, 576}, {2}));
  int f = b.node("Reshape", {r, shape}, "f");
  std::vector<float> mw = random_values(576 * 10, 3);
  mw[7] = big;
  int m = b.c("fc.w", mw, {576, 10});
  int out = b.node("MatMul", {f, m}, "out");
  return b.done({out});
}

TEST(CompressFp16, ConvertsLargeFloatWeightsOnly) {
  Model m = small_net();
  auto st = store_weights_fp16(m);
  ASSERT_TRUE(st.ok()) << st.status().to_string();
  EXPECT_EQ(st->converted, 2);  // conv.w and fc.w; not the bias (16) nor the int64 shape
  EXPECT_EQ(st->bytes_before, (1152 + 5760) * 4u);
  EXPECT_EQ(st->bytes_after, (1152 + 5760) * 2u);
  EXPECT_GT(st->max_rounding, 0);
  EXPECT_LT(st->max_rounding, 1.0 / 2048);  // half an ulp of fp16 below 1
  EXPECT_EQ(count_op(m, "Cast"), 2);
  EXPECT_FALSE(m.values[static_cast<size_t>(m.find_value("conv.w"))].is_constant());
  EXPECT_TRUE(m.values[static_cast<size_t>(m.find_value("conv.b"))].is_constant());
  EXPECT_EQ(m.values[static_cast<size_t>(m.find_value("conv.w.fp16"))].data->dtype(), DType::kF16);
}

TEST(CompressFp16, FileHalvesAndOutputsStayClose) {
  Model ref = small_net();
  Model half = small_net();
  ASSERT_TRUE(store_weights_fp16(half).ok());
  auto a = write_model(ref), b = write_model(half);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_LT(double(b->size()), 0.6 * double(a->size()));
  SessionOptions so;
  so.num_threads = 1;  // as kiln compress times them: thread CPU time
  auto sa = Session::create(std::make_shared<const std::vector<uint8_t>>(std::move(a).value()), so);
  auto sb = Session::create(std::make_shared<const std::vector<uint8_t>>(std::move(b).value()), so);
  ASSERT_TRUE(sa.ok() && sb.ok()) << sb.status().to_string();
  CompareOptions co;
  co.latency_runs = 3;
  auto rep = compare_sessions(**sa, **sb, co);
  ASSERT_TRUE(rep.ok()) << rep.status().to_string();
  EXPECT_EQ(rep->latency.runs, 3);
  EXPECT_EQ(rep->latency.threads, 1u);
  EXPECT_TRUE(rep->latency.cpu_time);
  EXPECT_GT(rep->latency.ref_ms, 0);
  EXPECT_GT(rep->latency.test_ms, 0);
  ASSERT_EQ(rep->outputs.size(), 1u);
  EXPECT_GT(rep->outputs[0].max_abs, 0);      // the weights really changed
  EXPECT_LT(rep->outputs[0].max_abs, 0.05);   // by float16 rounding only
  EXPECT_GT(rep->outputs[0].snr_db, 50);
  EXPECT_EQ(rep->outputs[0].count, 4 * 10);
}

TEST(CompressFp16, LoadingFoldsCastsIntoFloatConstants) {
  Model m = small_net();
  ASSERT_TRUE(store_weights_fp16(m).ok());
  auto folded = expand_stored_weights(m);
  ASSERT_TRUE(folded.ok());
  EXPECT_EQ(*folded, 2);
  EXPECT_EQ(count_op(m, "Cast"), 0);
  const Value& w = m.values[static_cast<size_t>(m.find_value("conv.w"))];
  ASSERT_TRUE(w.is_constant());
  EXPECT_EQ(w.data->dtype(), DType::kF32);
  // Exactly the float16 value of the original weight.
  const float orig = random_values(1152, 1)[5];
  EXPECT_EQ(w.data->data<float>()[5], half_to_float(float_to_half(orig)));
}

TEST(CompressFp16, KeepsOutOfRangeAndExcludedWeights) {
  Model m = small_net(1e6f);
  Fp16Options o;
  o.exclude = {"conv.*"};
  auto st = store_weights_fp16(m, o);
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->converted, 0);
  EXPECT_EQ(st->out_of_range, 1);  // fc.w holds 1e6
  EXPECT_EQ(count_op(m, "Cast"), 0);
}

// --exclude by node name (as --int8 and --prune take it): the node's weights stay float32.
TEST(CompressFp16, ExcludesByNodeName) {
  Model m = small_net(0.5f);
  Fp16Options o;
  o.exclude = {"y_node"};  // the Conv
  auto st = store_weights_fp16(m, o);
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->converted, 1);  // fc.w only
  EXPECT_EQ(m.values[static_cast<size_t>(m.find_value("conv.w"))].data->dtype(), DType::kF32);
  EXPECT_EQ(count_op(m, "Cast"), 1);
}

TEST(CompressFp16, CompareNamesUnsupportedInputs) {
  auto in = make_inputs({TensorDesc{"s", DType::kF64, {}}}, {}, 1);
  ASSERT_FALSE(in.ok());
  EXPECT_NE(in.status().to_string().find("input 's'"), std::string::npos);
}

}  // namespace
}  // namespace kiln
