// The per-layer precision budget (src/compress/precision_budget.h): the greedy allocation on
// made-up measurements (cheapest start, noise removed per byte first, skipped precisions,
// free upgrades, the budget never exceeded, errors), and the whole measurement loop on a
// small graph with the int4 pass as its mode (the ratio met, a choice per layer, the
// model as the mode returned it). The CLI end to end: tests/js/precision-budget.test.mjs.
#include <gtest/gtest.h>

#include <set>

#include "compress/int4_block.h"
#include "compress/precision_budget.h"
#include "format/model_io.h"
#include "graph_optimizer_util.h"

namespace kiln {
namespace {

BudgetLayer layer(const std::string& name, std::array<int64_t, 4> bytes, std::array<double, 4> nsr) {
  BudgetLayer l;
  l.node = name;
  for (size_t i = 0; i < 4; ++i) l.at[i] = {bytes[i], nsr[i]};
  return l;
}

using P = WeightPrecision;

TEST(PrecisionBudget, CheapestWhenNothingFits) {
  const std::vector<BudgetLayer> ls = {layer("a", {10, 12, 20, 40}, {0.1, 0.05, 0.01, 0}),
                                       layer("b", {10, 12, 20, 40}, {0.2, 0.1, 0.01, 0})};
  auto a = allocate_precision(ls, 100, 120);  // exactly the cheapest
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE(a->met);
  EXPECT_EQ(a->bytes, 120);
  EXPECT_EQ(a->choice, (std::vector<P>{P::kInt4, P::kInt4}));
  auto over = allocate_precision(ls, 100, 119);
  ASSERT_TRUE(over.ok());
  EXPECT_FALSE(over->met);
  EXPECT_EQ(over->bytes, 120);
}

TEST(PrecisionBudget, MostNoisePerByteFirst) {
  // b gains 0.1 for 2 bytes (0.05 / byte), a 0.05 for 2 (0.025 / byte): b's min form first.
  const std::vector<BudgetLayer> ls = {layer("a", {10, 12, 20, 40}, {0.1, 0.05, 0.01, 0}),
                                       layer("b", {10, 12, 20, 40}, {0.2, 0.1, 0.01, 0})};
  auto a = allocate_precision(ls, 0, 22);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->choice, (std::vector<P>{P::kInt4, P::kInt4Min}));
  EXPECT_EQ(a->bytes, 22);
  EXPECT_DOUBLE_EQ(a->nsr, 0.1 + 0.1);
  // More room: b to int8 (0.09 / 8 bytes) beats a's min form (0.025 / byte)? No: 0.011 / byte.
  auto c = allocate_precision(ls, 0, 24);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->choice, (std::vector<P>{P::kInt4Min, P::kInt4Min}));
  // Everything fits: all float (exact).
  auto all = allocate_precision(ls, 0, 80);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->choice, (std::vector<P>{P::kFloat, P::kFloat}));
  EXPECT_EQ(all->nsr, 0);
}

TEST(PrecisionBudget, NeverOverBudgetOverManyBudgets) {
  std::vector<BudgetLayer> ls;
  for (int i = 0; i < 12; ++i) {
    const int64_t n = 100 + 37 * i;
    ls.push_back(layer("l" + std::to_string(i), {n, n + n / 8, 2 * n, 8 * n},
                       {0.01 * (i % 5 + 1), 0.004 * (i % 3 + 1), 0.0005, 0}));
  }
  double cheapest = 0;
  for (const BudgetLayer& l : ls) cheapest += l.at[0].nsr;
  for (int64_t budget = 4142; budget < 40000; budget += 997) {  // 4142: every layer int4
    auto a = allocate_precision(ls, 500, budget);
    ASSERT_TRUE(a.ok());
    EXPECT_LE(a->bytes, budget);
    int64_t sum = 500;
    double nsr = 0;
    for (size_t i = 0; i < ls.size(); ++i) sum += ls[i].at[size_t(a->choice[i])].bytes, nsr += ls[i].at[size_t(a->choice[i])].nsr;
    EXPECT_EQ(sum, a->bytes);
    EXPECT_DOUBLE_EQ(nsr, a->nsr);
    EXPECT_LE(a->nsr, cheapest);
    // Nothing left that would fit and lower the noise (the greedy stops only then).
    for (size_t i = 0; i < ls.size(); ++i)
      for (int l = 0; l < 4; ++l) {
        const auto& cur = ls[i].at[size_t(a->choice[i])];
        if (ls[i].at[size_t(l)].nsr < cur.nsr) EXPECT_GT(a->bytes + ls[i].at[size_t(l)].bytes - cur.bytes, budget);
      }
  }
}

TEST(PrecisionBudget, UnavailableAndFreeUpgrades) {
  // a has no int4-min (-1) and int8 costs no more than int4 here: a free upgrade, taken first.
  // b has only float.
  const std::vector<BudgetLayer> ls = {layer("a", {10, -1, 10, 40}, {0.3, 0, 0.01, 0}),
                                       layer("b", {-1, -1, -1, 16}, {0, 0, 0, 0})};
  auto a = allocate_precision(ls, 0, 26);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->choice, (std::vector<P>{P::kInt8, P::kFloat}));
  EXPECT_EQ(a->bytes, 26);
  const std::vector<BudgetLayer> none = {layer("c", {-1, -1, -1, -1}, {0, 0, 0, 0})};
  auto e = allocate_precision(none, 0, 100);
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find("'c'"), std::string::npos) << e.status().to_string();
  EXPECT_FALSE(allocate_precision(ls, -1, 100).ok());
}

// The measurement loop on a small graph: the mode is the int4 pass (min form per choice;
// int8 / float layers left float, int8 standing in as "float" here), a ratio between all-int4
// and all-float is met, and the noisiest layer gets the upgrade.
TEST(PrecisionBudget, MeasuresAndMeetsTheRatio) {
  opt_test::Builder b;
  const int x = b.input("x", {4, 128});
  int h = b.node("MatMul", {x, b.random("w1", {128, 96}, 1)}, "h1");
  h = b.node("MatMul", {h, b.random("w2", {96, 96}, 2, -0.05f, 0.4f)}, "h2");  // skewed: min form helps
  h = b.node("MatMul", {h, b.random("w3", {96, 64}, 3)}, "h3");
  const Model original = b.done({h});
  const std::vector<std::string> layers = {"h1_node", "h2_node", "h3_node"};
  MixedMode mode = [](const Model& m, const std::map<std::string, WeightPrecision>& choice) -> Result<MixedModel> {
    MixedModel mm{m, {}};
    Int4BlockOptions io;
    io.min_elements = 0;
    for (const auto& [n, p] : choice) {
      if (p == WeightPrecision::kInt4Min) io.asymmetric_nodes.push_back(n);
      if (p == WeightPrecision::kInt8 || p == WeightPrecision::kFloat) io.exclude.push_back(n);
    }
    KILN_ASSIGN_OR_RETURN(Int4BlockStats s, quantize_int4_block(mm.model, io));
    for (const std::string& n : s.converted_nodes)
      mm.converted[size_t(choice.at(n) == WeightPrecision::kInt4Min ? 1 : 0)].push_back(n);
    for (const auto& [n, p] : choice)
      if (p == WeightPrecision::kFloat) mm.converted[3].push_back(n);
    return mm;
  };
  const int64_t orig = int64_t(write_model(original).value().size());
  PrecisionBudgetOptions o;
  o.original_bytes = orig;
  o.eval.data.count = 2;
  o.eval.data.input_dims = {{"x", {4, 128}}};
  // All int4 is ~6x on the weights; ask for 4x: room for some upgrades, not all float.
  o.target_ratio = 4;
  auto r = precision_budget(original, layers, mode, o);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_TRUE(r->met);
  EXPECT_LE(r->file_bytes, r->budget_bytes);
  EXPECT_EQ(r->budget_bytes, orig / 4);
  EXPECT_EQ(r->measurements, 6);  // int4 and int4-min for 3 layers (int8 is not this mode's)
  ASSERT_EQ(r->layers.size(), 3u);
  int upgraded = 0;
  for (const BudgetedLayer& l : r->layers) {
    EXPECT_TRUE(std::isfinite(l.snr_db[0])) << l.node;
    EXPECT_GT(l.bytes, 0);
    upgraded += l.precision != WeightPrecision::kInt4;
  }
  EXPECT_GE(upgraded, 1);
  EXPECT_EQ(int64_t(write_model(r->compressed.model).value().size()), r->file_bytes);
  // Impossible: 100x.
  o.target_ratio = 100;
  auto tight = precision_budget(original, layers, mode, o);
  ASSERT_TRUE(tight.ok());
  EXPECT_FALSE(tight->met);
  for (const BudgetedLayer& l : tight->layers) EXPECT_EQ(l.precision, WeightPrecision::kInt4) << l.node;
  o.target_ratio = 0.5;
  EXPECT_FALSE(precision_budget(original, layers, mode, o).ok());
}

}  // namespace
}  // namespace kiln
