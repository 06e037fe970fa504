// Session::set_profiling / profile(): every node is counted, subgraph nodes included, only
// while profiling is on; turning it on clears; per-type totals leave control flow out.
#include <gtest/gtest.h>

#include "graph_optimizer_util.h"
#include "runtime/profile.h"

namespace kiln::opt_test {
namespace {

// y = If(cond, then: Relu(x + c), else: Neg(x)).
Model if_model() {
  Builder b(13);
  int cond = b.input("cond", Shape{}, DType::kBool);
  int x = b.input("x", Dims{2, 3});
  int add = b.node("Add", {x, b.c("c", {1, 2, 3}, {3})}, "add");
  int relu = b.node("Relu", {add}, "relu");
  auto then_g = std::make_shared<Graph>();
  then_g->nodes = std::move(b.m.graph.nodes);
  then_g->outputs = {relu};
  b.m.graph.nodes.clear();
  int neg = b.node("Neg", {x}, "neg");
  auto else_g = std::make_shared<Graph>();
  else_g->nodes = std::move(b.m.graph.nodes);
  else_g->outputs = {neg};
  b.m.graph.nodes.clear();
  Attribute ta, ea;
  ta.kind = ea.kind = Attribute::Kind::kGraph;
  ta.g = then_g;
  ea.g = else_g;
  int y = b.node("If", {cond}, "y", {{"then_branch", ta}, {"else_branch", ea}});
  return b.done({y});
}

const NodeTiming& find(const RunProfile& p, const std::string& op) {
  for (const NodeTiming& n : p.nodes)
    if (n.op_type == op) return n;
  static NodeTiming none;
  ADD_FAILURE() << "no " << op << " node in the profile";
  return none;
}

TEST(SessionProfile, CountsEveryNodeIncludingSubgraphsWhileOn) {
  auto s = Session::create(if_model());
  ASSERT_TRUE(s.ok()) << s.status().to_string();
  Tensor yes = Tensor::make(DType::kBool, {}).value();
  yes.mutable_data<uint8_t>()[0] = 1;
  const Tensor no = Tensor::make(DType::kBool, {}).value();
  const TensorMap then_feeds = {{"cond", yes}, {"x", random_tensor({2, 3}, 1)}};
  const TensorMap else_feeds = {{"cond", no}, {"x", random_tensor({2, 3}, 2)}};

  ASSERT_TRUE((*s)->run(then_feeds).ok());  // not profiled
  EXPECT_EQ((*s)->profile().runs, 0);
  (*s)->set_profiling(true);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE((*s)->run(then_feeds).ok());
  ASSERT_TRUE((*s)->run(else_feeds).ok());
  RunProfile p = (*s)->profile();
  EXPECT_EQ(p.runs, 4);
  EXPECT_GE(p.total_ms, 0.0);
  ASSERT_EQ(p.nodes.size(), 4u);  // If, then Add / Relu, else Neg
  EXPECT_EQ(p.nodes[0].op_type, "If");
  EXPECT_TRUE(p.nodes[0].control_flow);
  EXPECT_EQ(p.nodes[0].depth, 0);
  EXPECT_EQ(p.nodes[0].calls, 4);
  EXPECT_EQ(find(p, "Add").calls, 3);
  EXPECT_EQ(find(p, "Add").depth, 1);
  EXPECT_EQ(find(p, "Relu").calls, 3);
  EXPECT_EQ(find(p, "Neg").calls, 1);
  EXPECT_EQ(find(p, "Neg").name, "neg_node");  // the builder names a node after its output

  const std::vector<OpTypeTiming> types = profile_by_op_type(p);
  ASSERT_EQ(types.size(), 3u);  // If is left out: its time is its branches' nodes'
  for (const OpTypeTiming& t : types) {
    EXPECT_NE(t.op_type, "If");
    EXPECT_EQ(t.nodes, 1);
  }
  for (size_t i = 1; i < types.size(); ++i) EXPECT_GE(types[i - 1].total_ms, types[i].total_ms);
  const std::vector<NodeTiming> top = profile_top_nodes(p, 2);
  ASSERT_EQ(top.size(), 2u);
  EXPECT_GE(top[0].total_ms, top[1].total_ms);
  EXPECT_FALSE(top[0].control_flow);

  (*s)->set_profiling(true);  // clears
  p = (*s)->profile();
  EXPECT_EQ(p.runs, 0);
  EXPECT_EQ(find(p, "Add").calls, 0);
  (*s)->set_profiling(false);
  ASSERT_TRUE((*s)->run(then_feeds).ok());
  EXPECT_EQ((*s)->profile().runs, 0);
  EXPECT_EQ(find((*s)->profile(), "Add").calls, 0);
}

}  // namespace
}  // namespace kiln::opt_test
