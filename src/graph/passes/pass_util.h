// Graph-editing helpers shared by the optimizer passes (src/graph/passes/*).
//
// Protocol of a rewrite: the pass edits nodes in place (the last node of a matched
// pattern usually becomes the fused node and keeps its output value, so graph output
// names never change) and kills the nodes it replaces (kill(): no inputs, no outputs).
// The pipeline then drops killed nodes and unused values (eliminate_dead), re-sorts and
// re-infers shapes. Node vectors never grow or shrink during a pass, so Node pointers
// stay valid; GraphView::refresh() recounts uses after each rewrite.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "graph/graph.h"

namespace kiln {

// What one pass changed: rewrites by pattern label ("Conv+Relu" -> 15).
struct PassResult {
  int rewrites = 0;
  std::map<std::string, int> patterns;
  void add(const std::string& label) {
    ++rewrites;
    ++patterns[label];
  }
};

class GraphView {
 public:
  explicit GraphView(Model& m) : m_(m) { refresh(); }
  void refresh();

  // The main graph and every subgraph, outermost first.
  const std::vector<Graph*>& graphs() const { return graphs_; }
  // Reads of v by node inputs anywhere plus appearances among any graph's outputs.
  int uses(int v) const;
  bool is_graph_output(int v) const;  // an output of the main graph or of a subgraph
  Node* producer(int v) const;        // nullptr for inputs, constants, unknown
  // The node that produced v, when it has type op_type and v is its only output read
  // by exactly one reader (the node being matched) and is no graph output.
  Node* sole_producer(int v, const char* op_type) const;
  std::vector<Node*> consumers(int v) const;  // nodes reading v (in any graph)

 private:
  Model& m_;
  std::vector<Graph*> graphs_;
  std::vector<int> uses_;
  std::vector<bool> output_;
  std::vector<Node*> producer_;
};

// Value helpers (index must be valid or kNoValue).
const Tensor* constant_of(const Model& m, int v);
// The single float of a constant with one element (any rank), if it is float32.
std::optional<float> scalar_of(const Model& m, int v);
// Whether v is float32 or of unknown type. Shape inference leaves types unknown below
// symbolic dims, so passes accept unknown types where the matched pattern itself proves
// float32: an ONNX binary op with a float32 constant operand, or a producer kiln runs in
// float32 only (Conv, Gemm, MatMul, ...).
bool may_be_f32(const Model& m, int v);
// Dims of a value whose shape is fully known (constants included), or nullopt.
std::optional<Dims> known_dims(const Model& m, int v);
// Rank of a value when known (symbolic dims count), or -1.
int known_rank(const Model& m, int v);
// Whether a constant of dims `c` broadcast against a value of dims/rank `x` leaves the
// shape unchanged (c's rank <= x's and each dim 1 or equal). x's dims may be unknown
// (-1) as long as c's dim there is 1.
bool broadcasts_into(const Dims& c, const Model& m, int x);
bool near(float a, float b, float tol = 1e-6f);  // relative

// Adds a float32 constant value; returns its index.
int add_constant(Model& m, const std::string& name, Tensor t);
// A fresh float32 copy of a constant's data.
std::vector<float> floats_of(const Tensor& t);

// Edits.
void kill(Node& n);
// Replaces reads of `from` by `to` in every node of every graph (graph outputs untouched).
void replace_uses(GraphView& view, int from, int to);
// Removes node n, whose output y equals its input x: readers of y read x instead. When y
// is a graph output its name must stay, so x's producer is renamed to produce y (only
// if that producer is in the same graph and x has no other reader); false when neither
// works (the node then stays).
bool bypass(GraphView& view, Graph& g, Node& n, int x, int y);
// Folds y * s[c] + t[c] (per output channel c) into producer p's constant weights and
// bias: Conv, ConvTranspose, Gemm, MatMul with 2-D weights (channel = last dim, the
// bias becomes kiln.bias). False (nothing changed) for other forms. In fold_batchnorm.cc.
bool scale_producer_channels(Model& m, Node& p, const std::vector<float>& s, const std::vector<float>& t);
// Whether n is one of g's own nodes (not a node of a subgraph or an outer graph).
bool owns(const Graph& g, const Node* n);
// Node input i, or kNoValue.
inline int input_of(const Node& n, size_t i) { return i < n.inputs.size() ? n.inputs[i] : kNoValue; }
// The input of a binary node that is not `v` (for commutative matching); kNoValue if
// the node does not have exactly two inputs or reads v twice.
int other_input(const Node& n, int v);

}  // namespace kiln
