// The int8 elementwise ops fuse_qdq emits for static int8 graphs (ops/qlinear_elementwise.cc):
// kiln.QLinearAdd (residuals, numpy broadcast, fused activation), kiln.QLinearMul (the
// squeeze-excite gate x [N, H, W, C] * g [N, 1, 1, C]) and kiln.QLinearGlobalAveragePool
// (ReduceMean over H, W of NHWC). The unfused fake-quant graph is the reference: Add / Mul
// must match it exactly, the pool within one int8 step. Groups that do not meet the
// contract stay as they are.
#include <gtest/gtest.h>

#include <cmath>

#include "graph/kiln_extensions.h"
#include "graph/passes/pass_util.h"
#include "graph/passes/pipeline.h"
#include "graph_optimizer_util.h"
#include "ops/packed_gemm.h"  // set_use_reference_kernels
#include "qdq_graph_builder.h"
#include "runtime/session.h"

namespace kiln {
namespace {

using opt_test::attr_f;
using opt_test::attr_i;
using opt_test::attr_ints;
using opt_test::Builder;
using opt_test::count_op;

using nntest::attr_s;
using Qdq = qdq_test::QdqGraph;
using qdq_test::i8_scalar;

// Fuses, checks the pattern, compares with fake quant: at most `max_off` elements one step
// off (0: bit-exact), none more.
Model fuse_and_compare(const Model& before, const std::string& op, const std::string& label, int64_t max_off = 0) {
  Model after = before;
  auto rep = run_pass(after, "fuse_qdq");
  EXPECT_TRUE(rep.ok()) << rep.status().to_string();
  if (!rep.ok()) return after;
  EXPECT_EQ(rep->patterns[label], 1) << describe(*rep);
  EXPECT_EQ(count_op(after, op), 1) << describe(*rep);
  for (uint32_t seed : {3u, 21u}) {
    const TensorMap in = opt_test::random_inputs(before, seed, -3.f, 3.f);
    const TensorMap want = opt_test::run_model(before, in);
    const TensorMap got = opt_test::run_model(after, in);
    EXPECT_FALSE(want.empty());
    for (const auto& [name, w] : want) {
      auto it = got.find(name);
      if (it == got.end()) {
        ADD_FAILURE() << "no output " << name;
        continue;
      }
      const Tensor& g = it->second;
      EXPECT_EQ(g.dtype(), DType::kI8);
      EXPECT_EQ(dims_to_string(g.dims()), dims_to_string(w.dims()));
      if (g.dims() != w.dims() || g.dtype() != DType::kI8 || w.dtype() != DType::kI8) continue;
      int64_t off = 0;
      for (int64_t i = 0; i < w.size(); ++i) {
        const int d = std::abs(g.data<int8_t>()[i] - w.data<int8_t>()[i]);
        EXPECT_LE(d, 1) << name << " element " << i;
        off += d;
      }
      EXPECT_LE(off, max_off) << name << ": " << off << " of " << w.size() << " one step off";
    }
  }
  return after;
}

constexpr float kAS = 6.f / 255.f, kBS = 2.5f / 255.f;
constexpr int8_t kAZ = -7, kBZ = 12;

Model add_model(const Dims& a, const Dims& b, const char* act = nullptr, float alpha = 0, float beta = 0,
                const char* op = "Add", float ys = 7.f / 255.f) {
  Qdq q;
  const int x = q.act("a", a, kAS, kAZ);
  const int y = q.act("b", b, kBS, kBZ);
  std::map<std::string, Attribute> attrs;
  if (act) {
    attrs[ext::kActivation] = attr_s(act);
    if (std::string(act) == "Clip" || std::string(act) == "HardSigmoid") {
      attrs[ext::kActivationAlpha] = attr_f(alpha);
      attrs[ext::kActivationBeta] = attr_f(beta);
    }
  }
  const int s = q.b.node(op, {x, y}, "sum", attrs);
  return q.b.done({q.q(s, ys, -3, "y")});
}

TEST(QLinearElementwise, AddSameShapeIsExact) {
  const Model after = fuse_and_compare(add_model({2, 5, 7, 19}, {2, 5, 7, 19}), ext::kQLinearAdd, "QLinearAdd");
  EXPECT_EQ(count_op(after, "Add"), 0);
  EXPECT_EQ(count_op(after, "DequantizeLinear"), 0);
  EXPECT_EQ(count_op(after, "QuantizeLinear"), 2);  // the two float inputs'
  fuse_and_compare(add_model({1}, {1}), ext::kQLinearAdd, "QLinearAdd");
  fuse_and_compare(add_model({3, 700}, {3, 700}), ext::kQLinearAdd, "QLinearAdd");  // past one 256 chunk
}

TEST(QLinearElementwise, AddBroadcastPerChannelAndScalar) {
  fuse_and_compare(add_model({2, 4, 6, 17}, {1, 1, 1, 17}), ext::kQLinearAdd, "QLinearAdd");
  fuse_and_compare(add_model({17}, {2, 4, 6, 17}), ext::kQLinearAdd, "QLinearAdd");
  fuse_and_compare(add_model({2, 3, 5, 9}, {}), ext::kQLinearAdd, "QLinearAdd");
  fuse_and_compare(add_model({2, 3, 5, 1}, {2, 3, 5, 8}), ext::kQLinearAdd, "QLinearAdd");  // innermost broadcast
}

TEST(QLinearElementwise, AddWithFusedActivation) {
  fuse_and_compare(add_model({2, 5, 6, 16}, {2, 5, 6, 16}, "Relu"), ext::kQLinearAdd, "QLinearAdd");
  fuse_and_compare(add_model({2, 5, 6, 16}, {16}, "Clip", -0.5f, 1.25f), ext::kQLinearAdd, "QLinearAdd");
  fuse_and_compare(add_model({3, 4, 5, 11}, {3, 4, 5, 11}, "HardSwish"), ext::kQLinearAdd, "QLinearAdd");
  fuse_and_compare(add_model({3, 4, 5, 11}, {3, 1, 1, 11}, "Sigmoid", 0, 0, "Add", 1.f / 255.f), ext::kQLinearAdd,
                   "QLinearAdd");
}

TEST(QLinearElementwise, MulSqueezeExciteGate) {
  // x [N, H, W, C] * g [N, 1, 1, C] as the SE block; g in [0, 1] like HardSigmoid's output.
  for (int64_t c : {1, 8, 19, 300})
    for (bool gate_first : {false, true}) {  // gate first: the op swaps the operands
      Qdq q;
      const int x = q.act("x", {2, 4, 5, c}, kAS, kAZ);
      const int g = q.act("g", {2, 1, 1, c}, 1.f / 255.f, -128);
      const int y = q.b.node("Mul", gate_first ? std::vector<int>{g, x} : std::vector<int>{x, g}, "gated");
      const Model m = q.b.done({q.q(y, 5.f / 255.f, 0, "y")});
      // qs8-vmulrow folds the scales into one multiplier per channel: one step off where the
      // real value is within float rounding of a tie (rare), never more.
      const Model after = fuse_and_compare(m, ext::kQLinearMul, "QLinearMul", 2 * 4 * 5 * c / 100 + 1);
      EXPECT_EQ(count_op(after, "Mul"), 0);
    }
  fuse_and_compare(add_model({4, 9}, {4, 9}, nullptr, 0, 0, "Mul", 16.f / 255.f), ext::kQLinearMul, "QLinearMul");
}

// The qs8-vbinary / qs8-gavgpool kernel paths against the op's float loops
// (KILN_REFERENCE_KERNELS=1), and both against fake quant, on the broadcast forms the kernel
// path splits into runs: the SE gate with more channels than its 4096-byte pattern, runs where
// only the first operand or neither operand advances, odd shapes.
Model mean_model(const Dims& x, std::vector<int64_t> axes, int64_t keepdims, bool axes_input = false);

TEST(QLinearElementwise, KernelPathsMatchTheReferenceLoops) {
  // max_off: elements allowed one step apart (fake quant and the reference loops; the SE gate
  // Mul's folded multipliers), none more.
  auto both = [](const Model& m, const std::string& op, const std::string& label, int64_t max_off = 0) {
    const Model after = fuse_and_compare(m, op, label, max_off);
    const TensorMap in = opt_test::random_inputs(m, 5, -3.f, 3.f);
    const TensorMap fast = opt_test::run_model(after, in);
    set_use_reference_kernels(true);
    const TensorMap ref = opt_test::run_model(after, in);
    set_use_reference_kernels(false);
    ASSERT_EQ(fast.size(), ref.size());
    for (const auto& [name, r] : ref) {
      const Tensor& f = fast.at(name);
      ASSERT_EQ(f.size(), r.size());
      int64_t off = 0;
      for (int64_t i = 0; i < r.size(); ++i) {
        const int d = std::abs(f.data<int8_t>()[i] - r.data<int8_t>()[i]);
        ASSERT_LE(d, 1) << label << " " << name << " at " << i;
        off += d;
      }
      EXPECT_LE(off, max_off) << label << " " << name << ": " << off << " of " << r.size() << " one step off";
    }
  };
  {
    Qdq q;  // SE gate, C = 4100 > the 4096-byte pattern: one row per kernel call
    const int x = q.act("x", {2, 2, 3, 4100}, kAS, kAZ);
    const int g = q.act("g", {2, 1, 1, 4100}, 1.f / 255.f, -128);
    both(q.b.done({q.q(q.b.node("Mul", {x, g}, "gated"), 5.f / 255.f, 0, "y")}), ext::kQLinearMul, "QLinearMul", 500);
  }
  {
    Qdq q;  // SE gate with a batch-1 gate on batch 3 and C = 24: 170 pixels per pattern
    const int x = q.act("x", {3, 17, 23, 24}, kAS, kAZ);
    const int g = q.act("g", {1, 1, 1, 24}, 1.f / 255.f, -128);
    both(q.b.done({q.q(q.b.node("Mul", {g, x}, "gated"), 5.f / 255.f, 0, "y")}), ext::kQLinearMul, "QLinearMul", 280);
  }
  both(add_model({2, 5, 7, 19}, {2, 5, 7, 19}), ext::kQLinearAdd, "QLinearAdd");
  both(add_model({2, 5, 6, 16}, {2, 5, 6, 16}, "Relu"), ext::kQLinearAdd, "QLinearAdd");
  both(add_model({2, 5, 6, 33}, {33}, "Clip", -0.5f, 1.25f), ext::kQLinearAdd, "QLinearAdd");
  both(add_model({2, 3, 5, 1}, {2, 3, 5, 8}), ext::kQLinearAdd, "QLinearAdd");      // a repeats along runs
  both(add_model({2, 1, 5, 1}, {2, 3, 1, 1}), ext::kQLinearAdd, "QLinearAdd");      // runs of one repeated value
  both(add_model({4, 6, 1}, {1, 1, 8}), ext::kQLinearAdd, "QLinearAdd");            // the larger a repeats, b advances
  both(add_model({4, 6, 1}, {1, 1, 8}, nullptr, 0, 0, "Mul", 16.f / 255.f), ext::kQLinearMul, "QLinearMul");
  both(add_model({3, 1, 40}, {1, 4, 1}, nullptr, 0, 0, "Mul", 16.f / 255.f), ext::kQLinearMul, "QLinearMul");
  both(add_model({2, 3, 5, 9}, {}, nullptr, 0, 0, "Mul", 16.f / 255.f), ext::kQLinearMul, "QLinearMul");
  both(mean_model({2, 17, 19, 37}, {1, 2}, 1), ext::kQLinearGlobalAveragePool, "QLinearGlobalAveragePool", 4);
}

Model mean_model(const Dims& x, std::vector<int64_t> axes, int64_t keepdims, bool axes_input) {
  Qdq q;
  if (axes_input) q.b.m.opset = 18;  // axes became an input in opset 18
  const int xd = q.act("x", x, kAS, kAZ);
  std::map<std::string, Attribute> attrs = {{"keepdims", attr_i(keepdims)}};
  std::vector<int> ins = {xd};
  if (axes_input) {
    auto t = Tensor::make(DType::kI64, {static_cast<int64_t>(axes.size())});
    std::copy(axes.begin(), axes.end(), t->mutable_data<int64_t>());
    ins.push_back(q.b.constant("axes", std::move(t).value()));
  } else {
    attrs["axes"] = attr_ints(axes);
  }
  const int y = q.b.node("ReduceMean", ins, "mean", attrs);
  return q.b.done({q.q(y, 1.5f / 255.f, 4, "y")});
}

TEST(QLinearElementwise, GlobalAveragePoolWithinOneStep) {
  // Means land on rounding ties rarely; int32 sums vs double float sums may differ there.
  for (int64_t keep : {1, 0}) {
    Model after = fuse_and_compare(mean_model({2, 6, 24, 19}, {1, 2}, keep), ext::kQLinearGlobalAveragePool,
                                   "QLinearGlobalAveragePool", 2);
    EXPECT_EQ(count_op(after, "ReduceMean"), 0);
  }
  fuse_and_compare(mean_model({1, 1, 1, 5}, {2, 1}, 1), ext::kQLinearGlobalAveragePool, "QLinearGlobalAveragePool", 1);
  fuse_and_compare(mean_model({1, 48, 48, 3}, {-3, -2}, 1, true), ext::kQLinearGlobalAveragePool,
                   "QLinearGlobalAveragePool", 1);
  // Rank 3 (axes 1, 2 of [N, A, B]) and rank 5: the same reduction ReduceMean does.
  fuse_and_compare(mean_model({3, 5, 7}, {1, 2}, 1), ext::kQLinearGlobalAveragePool, "QLinearGlobalAveragePool", 1);
  fuse_and_compare(mean_model({2, 3, 4, 5, 6}, {1, 2}, 0), ext::kQLinearGlobalAveragePool, "QLinearGlobalAveragePool",
                   2);
}

TEST(QLinearElementwise, LeftAloneWhenTheContractDoesNotHold) {
  auto unchanged = [](Model m, const char* why) {
    auto rep = run_pass(m, "fuse_qdq");
    ASSERT_TRUE(rep.ok()) << rep.status().to_string();
    EXPECT_EQ(rep->rewrites, 0) << why << ": " << describe(*rep);
  };
  unchanged(mean_model({2, 4, 4, 8}, {3}, 1), "mean over channels");
  unchanged(mean_model({2, 4, 4, 8}, {1, 2, 3}, 1), "mean over three axes");
  unchanged(mean_model({6, 8}, {1}, 1), "rank 2");
  {
    Qdq q;  // one float operand (no DequantizeLinear)
    const int x = q.act("a", {2, 3, 3, 4}, kAS, kAZ);
    const int y = q.b.node("Add", {x, q.b.input("b", {2, 3, 3, 4})}, "sum");
    unchanged(q.b.done({q.q(y, 0.05f, 0, "y")}), "float operand");
  }
  {
    Qdq q;  // the float sum has a second reader
    const int x = q.act("a", {2, 3, 3, 4}, kAS, kAZ);
    const int s = q.b.node("Add", {x, q.act("b", {2, 3, 3, 4}, kBS, kBZ)}, "sum");
    const int r = q.b.node("Relu", {s}, "r");
    unchanged(q.b.done({q.q(s, 0.05f, 0, "y"), r}), "second reader");
  }
}

TEST(QLinearElementwise, OpRejectsBadInputsWithAMessage) {
  // A QLinearAdd of shapes that do not broadcast: an error naming the node, not a crash.
  Builder b;
  const int a = b.input("a", shape_from_dims({2, 3}), DType::kI8);
  const int c = b.input("c", shape_from_dims({4}), DType::kI8);
  const int s = b.scalar("s", 0.1f);
  const int z = b.constant("z", i8_scalar(0));
  b.node(ext::kQLinearAdd, {a, s, z, c, s, z, s, z}, "y");
  b.m.graph.nodes.back().domain = ext::kDomain;
  b.m.graph.outputs = {static_cast<int>(b.m.values.size()) - 1};
  auto session = Session::create(b.m);
  if (session.ok()) {
    auto ta = Tensor::make(DType::kI8, {2, 3});
    auto tc = Tensor::make(DType::kI8, {4});
    auto out = (*session)->run({{"a", std::move(ta).value()}, {"c", std::move(tc).value()}});
    ASSERT_FALSE(out.ok());
    EXPECT_NE(out.status().to_string().find("broadcast"), std::string::npos) << out.status().to_string();
  } else {
    EXPECT_NE(session.status().to_string().find("broadcast"), std::string::npos) << session.status().to_string();
  }
}

}  // namespace
}  // namespace kiln
