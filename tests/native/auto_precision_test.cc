// Automatic per-layer precision (src/compress/auto_precision.h) on small graphs with the
// int8 dynamic mode: a layer made sensitive on purpose is the one kept float, the layers
// after it (whose SNR drops only because of it) are not, and the options and errors behave.
#include <gtest/gtest.h>

#include <cmath>

#include "compress/auto_precision.h"
#include "compress/int8_dynamic.h"
#include "graph_optimizer_util.h"

namespace kiln {
namespace {

using opt_test::Builder;
using opt_test::count_op;
using opt_test::random_tensor;

// x[8,64] -> MatMul w1 -> h1 -> MatMul w2 -> h2 -> MatMul w3 -> h3 -> MatMul w4 -> y.
// w1's column `dead` is zero, so h1[:, dead] is always 0; w2's row `dead` holds a huge weight
// that multiplies only those zeros. It does not change h2 in float, but it sets the int8
// scale of every column of w2, so w2's real weights all round to 0 in int8: layer 2 alone
// is sensitive (an outlier weight on a dead channel, as pruned or ReLU-dead units leave).
Model sensitive_chain(bool outlier) {
  constexpr int64_t kDead = 5;
  Builder b;
  const int x = b.input("x", {8, 64});
  Tensor w1 = random_tensor({64, 64}, 1);
  for (int64_t r = 0; r < 64; ++r) w1.mutable_data<float>()[r * 64 + kDead] = 0.f;
  Tensor w2 = random_tensor({64, 64}, 2);
  if (outlier)
    for (int64_t c = 0; c < 64; ++c) w2.mutable_data<float>()[kDead * 64 + c] = 5000.f;
  const int h1 = b.node("MatMul", {x, b.constant("w1", std::move(w1))}, "h1");
  const int h2 = b.node("MatMul", {h1, b.constant("w2", std::move(w2))}, "h2");
  const int h3 = b.node("MatMul", {h2, b.random("w3", {64, 64}, 3)}, "h3");
  const int y = b.node("MatMul", {h3, b.random("w4", {64, 32}, 4)}, "y");
  return b.done({y});
}

CompressMode int8_mode() {
  return [](const Model& m, const std::vector<std::string>& exclude) -> Result<CompressedModel> {
    CompressedModel cm{m, {}};
    Int8DynamicOptions o;
    o.exclude = exclude;
    KILN_ASSIGN_OR_RETURN(Int8DynamicStats s, quantize_int8_dynamic(cm.model, o));
    cm.layers = s.converted_nodes;
    return cm;
  };
}

AutoPrecisionOptions options(double db) {
  AutoPrecisionOptions o;
  o.threshold_db = db;
  o.eval.data.count = 3;
  return o;
}

TEST(AutoPrecision, KeepsExactlyTheSensitiveLayerFloat) {
  const Model m = sensitive_chain(true);
  auto r = auto_precision(m, int8_mode(), options(25));
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  ASSERT_EQ(r->kept.size(), 1u);
  EXPECT_EQ(r->kept[0].node, "h2_node");
  EXPECT_EQ(r->kept[0].output, "h2");
  EXPECT_LT(r->kept[0].snr_db, 10.0);
  EXPECT_LT(r->kept[0].own_snr_db, 10.0);
  EXPECT_TRUE(r->met);
  EXPECT_EQ(r->rounds, 2);
  EXPECT_LT(r->worst_db_before, 10.0);
  EXPECT_GE(r->worst_db_after, 25.0);
  EXPECT_EQ(r->exclude, std::vector<std::string>{"h2_node"});
  // h1, h3 and y in int8, h2 float.
  EXPECT_EQ(count_op(r->compressed.model, "DynamicQuantMatMul"), 3);
  EXPECT_EQ(count_op(r->compressed.model, "MatMul"), 1);
  EXPECT_EQ(r->compressed.layers.size(), 3u);
  // The final measurement is of the final model: its output is close to float's.
  ASSERT_EQ(r->last.outputs.size(), 1u);
  EXPECT_GT(r->last.outputs[0].stats.snr_db(), 25.0);
  EXPECT_LT(r->first.outputs[0].stats.snr_db(), 10.0);
}

TEST(AutoPrecision, WellBehavedModelStaysAllInt8) {
  auto r = auto_precision(sensitive_chain(false), int8_mode(), options(25));
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_TRUE(r->kept.empty());
  EXPECT_TRUE(r->met);
  EXPECT_EQ(r->rounds, 1);
  EXPECT_EQ(count_op(r->compressed.model, "DynamicQuantMatMul"), 4);
  EXPECT_GE(r->worst_db_before, 25.0);
  EXPECT_EQ(r->worst_db_before, r->worst_db_after);
}

TEST(AutoPrecision, UnreachableThresholdStopsAtTheLimit) {
  AutoPrecisionOptions o = options(119);  // int8 cannot reach this on any layer
  o.max_kept = 2;
  int calls = 0;
  o.progress = [&](int round, int kept, double) {
    EXPECT_EQ(round, calls++);
    EXPECT_EQ(kept, round);
  };
  auto r = auto_precision(sensitive_chain(true), int8_mode(), o);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->kept.size(), 2u);
  EXPECT_EQ(r->kept[0].node, "h2_node");  // the worst one first
  EXPECT_FALSE(r->met);
  EXPECT_EQ(r->rounds, 3);
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(count_op(r->compressed.model, "DynamicQuantMatMul"), 2);
}

TEST(AutoPrecision, UserExclusionsArePassedOn) {
  AutoPrecisionOptions o = options(25);
  o.exclude = {"w4"};  // by weight name
  auto r = auto_precision(sensitive_chain(true), int8_mode(), o);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->exclude, (std::vector<std::string>{"w4", "h2_node"}));
  EXPECT_EQ(count_op(r->compressed.model, "DynamicQuantMatMul"), 2);
  EXPECT_EQ(count_op(r->compressed.model, "MatMul"), 2);
}

TEST(AutoPrecision, Errors) {
  const Model m = sensitive_chain(false);
  EXPECT_FALSE(auto_precision(m, nullptr, options(25)).ok());
  auto bad = auto_precision(m, int8_mode(), options(NAN));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().to_string().find("threshold"), std::string::npos);
  AutoPrecisionOptions o = options(25);
  o.max_kept = -1;
  EXPECT_FALSE(auto_precision(m, int8_mode(), o).ok());
  // A failing mode names itself in the error.
  CompressMode failing = [](const Model&, const std::vector<std::string>&) -> Result<CompressedModel> {
    return invalid_argument("mode broke");
  };
  auto f = auto_precision(m, failing, options(25));
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.status().to_string().find("mode broke"), std::string::npos);
}

}  // namespace
}  // namespace kiln
