// Permutation helpers shared by the passes that move Transposes (sink_transposes,
// nhwc_layout). A perm p is ONNX's: Transpose(x, p) has dim j = x's dim p[j].
#pragma once
#include <cstdint>
#include <optional>
#include <vector>

#include "core/tensor.h"
#include "graph/graph.h"
#include "graph/passes/pass_util.h"

namespace kiln {

using Perm = std::vector<int64_t>;

// The perm of a default-domain, single-output Transpose node (the default reversal needs
// the input's rank), or nullopt for other nodes and invalid perms.
std::optional<Perm> perm_of(const Model& m, const Node& t);
// Transpose(Transpose(x, p), q) == Transpose(x, compose(p, q)), compose(p, q)[j] = p[q[j]].
Perm compose(const Perm& p, const Perm& q);
bool is_identity(const Perm& p);
Perm inverse(const Perm& p);
// A constant c aligned (numpy-style, rank <= p.size()) with Transpose(x, p), as seen by x
// itself: Transpose(c padded with leading 1s, inverse(p)).
Tensor untranspose_constant(const Tensor& c, const Perm& p);

// Whether a QuantizeLinear / DequantizeLinear node has constant per-tensor scale and zero
// point, so it is elementwise and commutes with a Transpose.
bool quant_params_per_tensor(const Model& m, const Node& n);

// Moves Transposes below node g.nodes[node_index] (transpose_push.cc): when its data
// inputs are Transposes with perm p == `perm` (the others constants, which are transposed to
// match), the node is rewritten to read the Transposes' inputs (axes, pads, scales
// remapped; GlobalAveragePool/GlobalMaxPool become ReduceMean/ReduceMax over the matching
// axes) and each output gets a Transpose, appended to `added` (the caller adds them to g
// and refreshes the view). Elementwise ops, Concat, Split, Pad, Resize/Upsample, Slice,
// reductions, ArgMax/ArgMin, Softmax (when its axis maps cleanly) and per-tensor
// QuantizeLinear qualify; false
// (nothing changed) for anything else.
bool push_transpose_down(Model& m, GraphView& view, Graph& g, size_t node_index, const Perm& perm,
                         std::vector<Node>& added);

}  // namespace kiln
