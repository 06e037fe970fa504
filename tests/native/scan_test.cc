// Scan in the executor, on IR models built here: opset 11 with a scan input on axis 1, a
// reversed scan input, scan outputs stacked on axis 1 and in reverse; opset 8 with a batch
// axis, reverse direction and a shorter sequence_lens entry (zero-padded scan output);
// and errors for a body that does not match the node.
#include <gtest/gtest.h>

#include "runtime/session.h"

namespace kiln {
namespace {

struct ScanModel {
  Model m;
  int add(const std::string& name, DType dt = DType::kUndefined) {
    Value v;
    v.name = name;
    v.dtype = dt;
    return m.add_value(std::move(v));
  }
  void input(const Dims& dims, int v) {
    m.values[static_cast<size_t>(v)].shape = shape_from_dims(dims);
    m.graph.inputs.push_back(v);
  }
  Node& node(Graph& g, const std::string& op, std::vector<int> ins, std::vector<int> outs) {
    Node n;
    n.name = op + "_" + std::to_string(g.nodes.size());
    n.op_type = op;
    n.inputs = std::move(ins);
    n.outputs = std::move(outs);
    g.nodes.push_back(std::move(n));
    return g.nodes.back();
  }
  static Attribute ints(std::vector<int64_t> v) {
    Attribute a;
    a.kind = Attribute::Kind::kInts;
    a.ints = std::move(v);
    return a;
  }
  static Attribute one(int64_t v) {
    Attribute a;
    a.kind = Attribute::Kind::kInt;
    a.i = v;
    return a;
  }
  static Attribute graph(std::shared_ptr<Graph> g) {
    Attribute a;
    a.kind = Attribute::Kind::kGraph;
    a.g = std::move(g);
    return a;
  }
};

// Opset 11: state s [2]; scan inputs A [2,3] along axis 1 and B [3,2] along axis 0 reversed.
// Body: s' = s + a, y = s' - b, z = a * b. y stacks on axis 1, z on axis 0 in reverse.
Model opset11_model() {
  ScanModel sm;
  sm.m.opset = 11;
  const int s = sm.add("s", DType::kF32), a = sm.add("A", DType::kF32), b = sm.add("B", DType::kF32);
  sm.input({2}, s);
  sm.input({2, 3}, a);
  sm.input({3, 2}, b);
  auto body = std::make_shared<Graph>();
  const int bs = sm.add("bs", DType::kF32), ba = sm.add("ba", DType::kF32), bb = sm.add("bb", DType::kF32);
  body->inputs = {bs, ba, bb};
  const int next = sm.add("next"), y = sm.add("y"), z = sm.add("z");
  sm.node(*body, "Add", {bs, ba}, {next});
  sm.node(*body, "Sub", {next, bb}, {y});
  sm.node(*body, "Mul", {ba, bb}, {z});
  body->outputs = {next, y, z};
  const int s_final = sm.add("s_final"), ys = sm.add("Y"), zs = sm.add("Z");
  const std::vector<int> outs = {s_final, ys, zs};
  Node& scan = sm.node(sm.m.graph, "Scan", {s, a, b}, outs);
  scan.attrs["body"] = ScanModel::graph(body);
  scan.attrs["num_scan_inputs"] = ScanModel::one(2);
  scan.attrs["scan_input_axes"] = ScanModel::ints({1, 0});
  scan.attrs["scan_input_directions"] = ScanModel::ints({0, 1});
  scan.attrs["scan_output_axes"] = ScanModel::ints({-1, 0});  // -1: the last of rank 2, axis 1
  scan.attrs["scan_output_directions"] = ScanModel::ints({0, 1});
  sm.m.graph.outputs = outs;
  return std::move(sm.m);
}

std::vector<float> values(const Tensor& t) { return std::vector<float>(t.data<float>(), t.data<float>() + t.size()); }

TEST(Scan, AxesAndDirectionsOpset11) {
  auto session = Session::create(opset11_model());
  ASSERT_TRUE(session.ok()) << session.status().to_string();
  auto r = (*session)->run({{"s", Tensor::from_f32({0, 100}, {2})},
                            {"A", Tensor::from_f32({1, 2, 3, 4, 5, 6}, {2, 3})},
                            {"B", Tensor::from_f32({10, 20, 30, 40, 50, 60}, {3, 2})}});
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  // Iterations read a = [1,4], [2,5], [3,6] and b = [50,60], [30,40], [10,20] (B reversed):
  // s = [1,104], [3,109], [6,115]; y = s - b = [-49,44], [-27,69], [-4,95]; z = a * b =
  // [50,240], [60,200], [30,120].
  EXPECT_EQ(values(r->at("s_final")), (std::vector<float>{6, 115}));
  EXPECT_EQ(r->at("Y").dims(), (Dims{2, 3}));  // iterations along axis 1
  EXPECT_EQ(values(r->at("Y")), (std::vector<float>{-49, -27, -4, 44, 69, 95}));
  EXPECT_EQ(r->at("Z").dims(), (Dims{3, 2}));  // reversed: last iteration first
  EXPECT_EQ(values(r->at("Z")), (std::vector<float>{30, 120, 60, 200, 50, 240}));
}

TEST(Scan, ScanInputsMustAgreeOnLength) {
  Model m = opset11_model();
  for (Value& v : m.values)
    if (v.name == "A" || v.name == "B") v.shape.reset();  // no declared shapes: the Scan itself checks
  auto session = Session::create(std::move(m));
  ASSERT_TRUE(session.ok()) << session.status().to_string();
  auto r = (*session)->run({{"s", Tensor::from_f32({0, 100}, {2})},
                            {"A", Tensor::from_f32({1, 2, 3, 4}, {2, 2})},
                            {"B", Tensor::from_f32({10, 20, 30, 40, 50, 60}, {3, 2})}});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("disagree on the sequence length"), std::string::npos) << r.status().to_string();
}

TEST(Scan, BodyOutputCountMustMatchTheNode) {
  Model m = opset11_model();
  m.graph.nodes[0].attrs["body"].g->outputs.pop_back();
  auto session = Session::create(std::move(m));
  ASSERT_TRUE(session.ok()) << session.status().to_string();
  auto r = (*session)->run({{"s", Tensor::from_f32({0, 100}, {2})},
                            {"A", Tensor::from_f32({1, 2, 3, 4, 5, 6}, {2, 3})},
                            {"B", Tensor::from_f32({10, 20, 30, 40, 50, 60}, {3, 2})}});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("body has 3 inputs and 2 outputs"), std::string::npos) << r.status().to_string();
}

// Opset 8: sequence_lens, state [batch, 1], X [batch, 3, 1] scanned in reverse; body s' = s + x, y = s'.
TEST(Scan, Opset8BatchReverseAndShortSequence) {
  ScanModel sm;
  sm.m.opset = 8;
  const int lens = sm.add("lens", DType::kI64), s = sm.add("s", DType::kF32), x = sm.add("X", DType::kF32);
  sm.input({2}, lens);
  sm.input({2, 1}, s);
  sm.input({2, 3, 1}, x);
  auto body = std::make_shared<Graph>();
  const int bs = sm.add("bs", DType::kF32), bx = sm.add("bx", DType::kF32);
  body->inputs = {bs, bx};
  const int next = sm.add("next"), y = sm.add("y");
  sm.node(*body, "Add", {bs, bx}, {next});
  sm.node(*body, "Identity", {next}, {y});
  body->outputs = {next, y};
  const int s_final = sm.add("s_final"), ys = sm.add("Y");
  Node& scan = sm.node(sm.m.graph, "Scan", {lens, s, x}, {s_final, ys});
  scan.attrs["body"] = ScanModel::graph(body);
  scan.attrs["num_scan_inputs"] = ScanModel::one(1);
  scan.attrs["directions"] = ScanModel::ints({1});
  sm.m.graph.outputs = {s_final, ys};
  auto session = Session::create(std::move(sm.m));
  ASSERT_TRUE(session.ok()) << session.status().to_string();
  auto r = (*session)->run({{"lens", Tensor::from_i64({3, 2}, {2})},
                            {"s", Tensor::from_f32({0, 10}, {2, 1})},
                            {"X", Tensor::from_f32({1, 2, 3, 4, 5, 6}, {2, 3, 1})}});
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  // Entry 0 reads 3, 2, 1: s = 3, 5, 6. Entry 1 (length 2) reads 5, 4: s = 15, 19, then a zero pad.
  EXPECT_EQ(values(r->at("s_final")), (std::vector<float>{6, 19}));
  EXPECT_EQ(r->at("Y").dims(), (Dims{2, 3, 1}));
  EXPECT_EQ(values(r->at("Y")), (std::vector<float>{3, 5, 6, 15, 19, 0}));
  // A sequence length past the scan axis is an error.
  r = (*session)->run({{"lens", Tensor::from_i64({4, 2}, {2})},
                       {"s", Tensor::from_f32({0, 10}, {2, 1})},
                       {"X", Tensor::from_f32({1, 2, 3, 4, 5, 6}, {2, 3, 1})}});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("sequence length 4"), std::string::npos) << r.status().to_string();
}

}  // namespace
}  // namespace kiln
