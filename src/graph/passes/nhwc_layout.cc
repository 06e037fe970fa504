// nhwc_layout (passes.h): runs 2-D convolutions and pooling channels-last. Every 2-D
// float32 Conv / MaxPool (one output) / AveragePool becomes kiln.NhwcConv /
// kiln.NhwcMaxPool / kiln.NhwcAveragePool between Transpose(0,2,3,1) and
// Transpose(0,3,1,2), with its attributes (fused activation included) unchanged. Then the
// Transposes are moved down through layout-agnostic ops (push_transpose_down), merged
// when they meet and cancelled when they compose to the identity, so in a CNN they
// remain only at the graph's inputs and outputs and around ops that need NCHW (Reshape,
// Flatten, MatMul, ...). A Transpose left that only moves size-1 dims becomes a Reshape.
// Per-tensor QuantizeLinear lets them below, DequantizeLinear above (the NCHW -> NHWC
// ones), so they meet and cancel on the int8 side of a quantized tensor.
#include <map>

#include "graph/kiln_extensions.h"
#include "graph/passes/eliminate_dead.h"
#include "graph/passes/passes.h"
#include "graph/passes/transpose_util.h"
#include "graph/shape_inference.h"

namespace kiln {
namespace {

constexpr int kMaxSweeps = 16;
const Perm kToNhwc = {0, 2, 3, 1}, kToNchw = {0, 3, 1, 2};

Attribute perm_attr(Perm p) {
  Attribute a;
  a.kind = Attribute::Kind::kInts;
  a.ints = std::move(p);
  return a;
}

int new_value(Model& m, const std::string& base) {
  Value v;
  v.name = base;
  for (int k = 1; m.find_value(v.name) >= 0; ++k) v.name = base + "_" + std::to_string(k);
  return m.add_value(std::move(v));
}

Node transpose_node(const std::string& name, int x, int y, Perm p) {
  Node t;
  t.name = name;
  t.op_type = "Transpose";
  t.inputs = {x};
  t.outputs = {y};
  t.attrs["perm"] = perm_attr(std::move(p));
  return t;
}

// Whether v is float32: a known type, or (types are unknown below symbolic dims) made by
// a float-only op, possibly through ops that keep their input's type.
bool float_value(const Model& m, const GraphView& view, int v, int depth = 6) {
  const DType d = m.values[static_cast<size_t>(v)].dtype;
  if (d != DType::kUndefined) return d == DType::kF32;
  const Node* p = view.producer(v);
  if (!p || depth == 0) return false;
  if (p->domain == ext::kDomain) return true;  // kiln's ops are float32 only
  for (const char* op : {"Conv", "ConvTranspose", "Gemm", "MatMul", "BatchNormalization", "Sigmoid", "HardSigmoid",
                         "HardSwish", "Softmax", "Resize", "GlobalAveragePool", "ReduceMean", "LayerNormalization"})
    if (p->op_type == op) return true;
  for (const char* op : {"Transpose", "Relu", "Clip", "MaxPool", "AveragePool", "Add", "Mul", "Concat", "Pad", "Slice"})
    if (p->op_type == op && !p->inputs.empty()) return float_value(m, view, p->inputs[0], depth - 1);
  return false;
}

// The channels-last op for n, or nullptr when n stays. The rank comes from the weights or
// the kernel shape when shape inference left X's unknown (below symbolic dims).
const char* nhwc_op(const Model& m, const GraphView& view, const Node& n) {
  if (!n.domain.empty() || n.outputs.size() != 1 || n.inputs.empty() || n.inputs[0] == kNoValue) return nullptr;
  const int x = n.inputs[0];
  const int rank = known_rank(m, x);
  if (n.op_type == "Conv") {
    if (n.num_inputs() < 2 || known_rank(m, n.inputs[1]) != 4 || (rank != -1 && rank != 4) || !may_be_f32(m, x))
      return nullptr;
    return ext::kNhwcConv;
  }
  if (n.op_type != "MaxPool" && n.op_type != "AveragePool") return nullptr;
  auto kernel = n.attr_ints("kernel_shape", std::vector<int64_t>{});
  if (!kernel.ok() || kernel->size() != 2 || (rank != -1 && rank != 4)) return nullptr;
  // Pooling runs other dtypes too: only float32 input moves.
  if (!float_value(m, view, x)) return nullptr;
  return n.op_type == "MaxPool" ? ext::kNhwcMaxPool : ext::kNhwcAveragePool;
}

Status tidy(Model& m) {
  KILN_RETURN_IF_ERROR(validate_and_sort(m));
  KILN_RETURN_IF_ERROR(eliminate_dead(m));
  return infer_shapes(m);
}

// One sweep in topological order: merges Transpose pairs (cancelling identities), shares
// duplicate Transposes of one value, and pushes Transposes below the ops that allow it.
// Returns the number of changes.
int sweep(Model& m, PassResult& r) {
  int changed = 0;
  GraphView view(m);
  for (Graph* g : std::vector<Graph*>(view.graphs())) {
    std::map<std::pair<int, Perm>, int> seen;  // (input, perm) -> output of the first such Transpose
    for (size_t i = 0; i < g->nodes.size(); ++i) {
      Node& n = g->nodes[i];
      if (n.outputs.empty()) continue;
      if (auto p = perm_of(m, n)) {
        if (Node* inner = view.producer(n.inputs[0]); inner && owns(*g, inner)) {
          if (auto q = perm_of(m, *inner)) {
            const Perm c = compose(*q, *p);
            n.inputs[0] = inner->inputs[0];
            n.attrs["perm"] = perm_attr(c);
            view.refresh();
            if (is_identity(c)) {
              bypass(view, *g, n, n.inputs[0], n.outputs[0]);
              seen.clear();  // bypass may rename a producer's output
            }
            r.add(is_identity(c) ? "Transpose pair cancelled" : "Transpose pair merged");
            ++changed;
            continue;
          }
        }
        // The pass's NCHW -> NHWC Transpose of a per-tensor DequantizeLinear's output moves
        // above it, onto the int8 side, where it meets the NHWC -> NCHW ones pushed below
        // QuantizeLinear: QDQ groups around kiln.NhwcConv stay DequantizeLinear -> NhwcConv.
        if (Node* dq = view.producer(n.inputs[0]); *p == kToNhwc && dq && owns(*g, dq) && dq->domain.empty() &&
            dq->op_type == "DequantizeLinear" && quant_params_per_tensor(m, *dq) && view.uses(n.inputs[0]) == 1 &&
            !view.is_graph_output(n.inputs[0])) {
          const int q = dq->inputs[0], t = n.outputs[0];
          const int qt = new_value(m, m.values[static_cast<size_t>(q)].name + "_nhwc");
          n.inputs[0] = q;
          n.outputs[0] = qt;
          dq->inputs[0] = qt;
          dq->outputs[0] = t;
          view.refresh();
          seen.clear();
          r.add("Transpose moved above DequantizeLinear");
          ++changed;
          continue;
        }
        if (is_identity(*p)) {
          if (bypass(view, *g, n, n.inputs[0], n.outputs[0])) {
            seen.clear();
            r.add("identity Transpose removed");
            ++changed;
          }
          continue;
        }
        auto [it, fresh] = seen.emplace(std::make_pair(n.inputs[0], *p), n.outputs[0]);
        if (!fresh && !view.is_graph_output(n.outputs[0])) {
          const int dup = n.outputs[0];
          kill(n);
          replace_uses(view, dup, it->second);
          r.add("duplicate Transpose shared");
          ++changed;
        }
        continue;
      }
      std::vector<Node> added;
      // Only the pass's own NHWC -> NCHW Transposes move: the model's others (attention
      // heads, ...) would multiply across the readers of the ops they pass.
      if (!push_transpose_down(m, view, *g, i, kToNchw, added)) continue;
      const std::string what = "Transpose moved below " + n.op_type;
      for (Node& t : added) g->nodes.push_back(std::move(t));
      view.refresh();
      r.add(what);
      ++changed;
    }
  }
  return changed;
}

// Axes of v known to have size 1: from its shape, or (below symbolic dims) because a
// reduction with keepdims made it.
std::vector<bool> unit_axes(const Model& m, const GraphView& view, int v, size_t rank) {
  std::vector<bool> ones(rank, false);
  const Value& val = m.values[static_cast<size_t>(v)];
  if (val.shape && val.shape->size() == rank) {
    const Dims d = shape_dims(*val.shape);
    for (size_t i = 0; i < rank; ++i) ones[i] = d[i] == 1;
  }
  const Node* p = view.producer(v);
  auto keep = p ? p->attr_int("keepdims", 1) : Result<int64_t>(int64_t{0});
  if (p && p->domain.empty() && p->op_type.rfind("Reduce", 0) == 0 && keep.ok() && *keep != 0) {
    auto listed = p->attr_ints("axes", std::vector<int64_t>{});
    std::vector<int64_t> axes = listed.ok() ? *listed : std::vector<int64_t>{};
    if (p->inputs.size() > 1 && p->inputs[1] != kNoValue) {
      const Tensor* t = constant_of(m, p->inputs[1]);
      axes.clear();
      for (int64_t i = 0; t && i < t->size(); ++i) axes.push_back(static_cast<int64_t>(t->get_f64(i)));
    }
    for (int64_t a : axes) {
      const int64_t r = static_cast<int64_t>(rank);
      if (a >= -r && a < r) ones[static_cast<size_t>(a < 0 ? a + r : a)] = true;
    }
  }
  return ones;
}

// A Transpose that keeps the order of the dims not known to be 1 -> Reshape (a view).
// The new shape copies a dim that stays in place (0), infers at most one (-1).
int transposes_to_reshapes(Model& m, PassResult& r) {
  int changed = 0;
  GraphView view(m);
  for (Graph* g : view.graphs())
    for (Node& n : g->nodes) {
      auto p = perm_of(m, n);
      if (!p) continue;
      const int x = n.inputs[0];
      const std::vector<bool> ones = unit_axes(m, view, x, p->size());
      const Value& xv = m.values[static_cast<size_t>(x)];
      const Dims xd = xv.shape && xv.shape->size() == p->size() ? shape_dims(*xv.shape) : Dims(p->size(), -1);
      std::vector<int64_t> order, shape;
      int inferred = 0;
      for (size_t j = 0; j < p->size(); ++j) {
        const size_t a = static_cast<size_t>((*p)[j]);
        if (ones[a]) {
          shape.push_back(1);
          continue;
        }
        order.push_back((*p)[j]);
        if (xd[a] >= 0) {
          shape.push_back(xd[a]);
        } else if (a == j) {
          shape.push_back(0);
        } else {
          shape.push_back(-1);
          ++inferred;
        }
      }
      bool ok = inferred <= 1;
      for (size_t k = 1; ok && k < order.size(); ++k) ok = order[k - 1] < order[k];
      if (!ok) continue;
      const int s = add_constant(m, n.name + "_shape", Tensor::from_i64(shape, {static_cast<int64_t>(shape.size())}));
      n.op_type = "Reshape";
      n.attrs.clear();
      n.inputs.push_back(s);
      r.add("Transpose of size-1 dims -> Reshape");
      ++changed;
    }
  return changed;
}

}  // namespace

Result<PassResult> nhwc_layout(Model& m) {
  PassResult r;
  GraphView view(m);
  for (Graph* g : view.graphs()) {
    std::vector<Node> added;
    for (Node& n : g->nodes) {
      const char* op = nhwc_op(m, view, n);
      if (!op) continue;
      const int x = n.inputs[0], y = n.outputs[0];
      const int xt = new_value(m, m.values[static_cast<size_t>(x)].name + "_nhwc");
      const int yt = new_value(m, m.values[static_cast<size_t>(y)].name + "_nhwc");
      added.push_back(transpose_node(n.name + "_to_nhwc", x, xt, kToNhwc));
      added.push_back(transpose_node(n.name + "_to_nchw", yt, y, kToNchw));
      r.add(n.op_type + " -> " + op);
      n.domain = ext::kDomain;
      n.op_type = op;
      n.inputs[0] = xt;
      n.outputs[0] = yt;
    }
    for (Node& t : added) g->nodes.push_back(std::move(t));
  }
  if (r.rewrites == 0) return r;
  for (int s = 0; s < kMaxSweeps; ++s) {
    KILN_RETURN_IF_ERROR(tidy(m));
    if (sweep(m, r) == 0) break;
  }
  KILN_RETURN_IF_ERROR(tidy(m));
  transposes_to_reshapes(m, r);
  return r;
}

}  // namespace kiln
