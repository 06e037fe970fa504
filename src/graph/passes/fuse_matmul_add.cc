// fuse_matmul_add: MatMul(x, W) + b with constant 2-D W and a bias of one value per
// output column (passes.h). With x known to be 2-D it becomes Gemm(x, W, b); otherwise
// (the batched [B, T, K] x [K, N] of transformers) a MatMul with the fused kiln.bias.
#include "graph/kiln_extensions.h"
#include "graph/passes/passes.h"

namespace kiln {

Result<PassResult> fuse_matmul_add(Model& m) {
  PassResult r;
  GraphView view(m);
  for (Graph* g : std::vector<Graph*>(view.graphs()))
    for (Node& add : g->nodes) {
      if (add.op_type != "Add" || !add.domain.empty() || add.num_inputs() != 2 || add.outputs.size() != 1) continue;
      Node* mm = nullptr;
      int y = kNoValue;
      for (int side = 0; side < 2 && !mm; ++side) {
        y = add.inputs[static_cast<size_t>(side)];
        mm = view.sole_producer(y, "MatMul");
      }
      if (!mm || !owns(*g, mm) || mm->num_inputs() != 2 || mm->has_attr(ext::kMatMulBias) ||
          mm->has_attr(ext::kActivation))
        continue;
      const Tensor* w = constant_of(m, mm->inputs[1]);
      const Tensor* b = constant_of(m, other_input(add, y));
      if (!w || !b || w->rank() != 2 || w->dtype() != DType::kF32 || b->dtype() != DType::kF32 || !may_be_f32(m, mm->inputs[0]))
        continue;
      const int64_t n = w->dim(1);
      // The bias must vary only along the last axis (length n) and not add dims to y.
      const Dims& bd = b->dims();
      bool ok = !bd.empty() && bd.back() == n;
      for (size_t i = 0; ok && i + 1 < bd.size(); ++i) ok = bd[i] == 1;
      if (!ok || (bd.size() > 1 && !broadcasts_into(bd, m, y))) continue;
      const int bias = add_constant(m, m.values[static_cast<size_t>(other_input(add, y))].name + "_bias",
                                    Tensor::from_f32(floats_of(*b), {n}));
      const int x = mm->inputs[0], out = add.outputs[0];
      const bool gemm = known_rank(m, x) == 2;
      add.op_type = gemm ? "Gemm" : "MatMul";
      add.attrs.clear();
      if (!gemm) {
        Attribute a;
        a.kind = Attribute::Kind::kInt;
        a.i = 1;
        add.attrs[ext::kMatMulBias] = a;
      }
      add.inputs = {x, mm->inputs[1], bias};
      add.outputs = {out};
      kill(*mm);
      view.refresh();
      r.add(gemm ? "MatMul+Add -> Gemm" : "MatMul+Add -> MatMul(bias)");
    }
  return r;
}

}  // namespace kiln
