#include "import/tflite_builder.h"

#include "import/tflite_tensor.h"

namespace kiln {

const Perm kNhwcToNchw = {0, 3, 1, 2};

Perm identity_perm(size_t rank) {
  Perm p(rank);
  for (size_t i = 0; i < rank; ++i) p[i] = static_cast<int64_t>(i);
  return p;
}

void TfliteBuilder::begin_operator(int index, const std::string& op_name) {
  op_index_ = index;
  op_name_ = op_name;
}

std::string TfliteBuilder::where() const {
  return "operator " + std::to_string(op_index_) + " (" + op_name_ + ")";
}

Result<const tflite::Tensor*> TfliteBuilder::tensor(int index) const {
  const auto* ts = sg_.tensors();
  if (!ts || index < 0 || index >= static_cast<int>(ts->size()) || !ts->Get(static_cast<uint32_t>(index)))
    return invalid_model(where() + ": tensor index " + std::to_string(index) + " is out of range (the subgraph has " +
                         std::to_string(ts ? ts->size() : 0) + " tensors)");
  return ts->Get(static_cast<uint32_t>(index));
}

std::string TfliteBuilder::tensor_name(int index) const {
  auto t = tensor(index);
  if (t.ok() && (*t)->name() && (*t)->name()->size()) return (*t)->name()->str();
  return "tensor_" + std::to_string(index);
}

Result<Dims> TfliteBuilder::tensor_dims(int index) const {
  KILN_ASSIGN_OR_RETURN(const tflite::Tensor* t, tensor(index));
  Dims d;
  if (t->shape())
    for (int32_t v : *t->shape()) d.push_back(v);
  if (t->shape_signature() && t->shape_signature()->size() == d.size())
    for (size_t i = 0; i < d.size(); ++i)
      if (t->shape_signature()->Get(static_cast<uint32_t>(i)) < 0) d[i] = -1;
  return d;
}

int TfliteBuilder::rank(int index) const {
  auto d = tensor_dims(index);
  return d.ok() ? static_cast<int>(d->size()) : 0;
}

Result<Tensor> TfliteBuilder::constant(int index, bool dequantize) {
  auto it = folded_.find(index);
  if (it != folded_.end()) return it->second;
  KILN_ASSIGN_OR_RETURN(const tflite::Tensor* t, tensor(index));
  const std::string what = where() + " tensor '" + tensor_name(index) + "'";
  KILN_ASSIGN_OR_RETURN(Tensor c, tflite_constant(fb_, *t, what));
  if (c.defined() && dequantize && tflite_is_quantized(*t) && c.dtype() != DType::kF32 && c.dtype() != DType::kF16)
    return dequantize_tflite(c, *t->quantization(), what);
  return c;
}

bool TfliteBuilder::is_constant(int index) {
  if (folded_.count(index)) return true;
  auto t = tensor(index);
  if (!t.ok()) return false;
  const uint32_t b = (*t)->buffer();
  const auto* bufs = fb_.buffers();
  return b != 0 && bufs && b < bufs->size() && bufs->Get(b) && bufs->Get(b)->data() && bufs->Get(b)->data()->size() > 0;
}

std::optional<Perm> TfliteBuilder::layout(int index) const {
  auto it = layout_.find(index);
  if (it == layout_.end()) return std::nullopt;
  return it->second;
}

std::string TfliteBuilder::unique_name(const std::string& base) {
  std::string n = base;
  for (int k = 2; names_.count(n) || m_.find_value(n) >= 0; ++k) n = base + "#" + std::to_string(k);
  names_.insert(n);
  return n;
}

int TfliteBuilder::temp(const std::string& hint) {
  Value v;
  v.name = unique_name(hint);
  return m_.add_value(std::move(v));
}

int TfliteBuilder::constant_value(const std::string& hint, Tensor t) {
  Value v;
  v.name = unique_name(hint);
  v.dtype = t.dtype();
  v.shape = shape_from_dims(t.dims());
  v.data = std::move(t);
  return m_.add_value(std::move(v));
}

Node& TfliteBuilder::add_node(const std::string& op_type, std::vector<int> inputs, std::vector<int> outputs) {
  Node n;
  n.name = "op" + std::to_string(op_index_) + "_" + op_type + "_" + std::to_string(node_count_++);
  n.op_type = op_type;
  n.inputs = std::move(inputs);
  n.outputs = std::move(outputs);
  m_.graph.nodes.push_back(std::move(n));
  return m_.graph.nodes.back();
}

// The TFLite-layout value of a tensor carries the TFLite name (so graph outputs keep
// their names); permuted copies get a suffix.
static std::string layout_suffix(const Perm& p) {
  if (p == identity_perm(p.size())) return "";
  if (p == kNhwcToNchw) return "/nchw";
  std::string s = "/perm";
  for (int64_t v : p) s += std::to_string(v);
  return s;
}

Status TfliteBuilder::add_input(int index) {
  KILN_ASSIGN_OR_RETURN(const tflite::Tensor* t, tensor(index));
  const std::string what = "graph input '" + tensor_name(index) + "'";
  if (tflite_is_quantized(*t) && t->type() != tflite::TensorType::FLOAT32)
    return unsupported(what + " is quantized (" + tflite_type_name(t->type()) +
                       "): fully quantized models (integer activations) are not supported; use a float or "
                       "weight-quantized (fp16/int8 weights, float activations) model");
  KILN_ASSIGN_OR_RETURN(DType dt, dtype_from_tflite(t->type(), what));
  KILN_ASSIGN_OR_RETURN(Dims d, tensor_dims(index));
  Value v;
  v.name = unique_name(tensor_name(index));
  v.dtype = dt;
  Shape s;
  for (size_t i = 0; i < d.size(); ++i) {
    Dim dim;
    if (d[i] >= 0) dim.size = d[i];
    else dim.param = v.name + "_dim" + std::to_string(i);
    s.push_back(dim);
  }
  v.shape = s;
  const int idx = m_.add_value(std::move(v));
  m_.graph.inputs.push_back(idx);
  const Perm p = identity_perm(d.size());
  layout_[index] = p;
  values_[{index, p}] = idx;
  return Status::Ok();
}

Result<int> TfliteBuilder::output(int index, const Perm& perm) {
  KILN_ASSIGN_OR_RETURN(Dims d, tensor_dims(index));
  // The layout must cover the declared rank (a malformed file could declare another).
  if (perm.size() != d.size())
    return invalid_model(where() + ": output tensor '" + tensor_name(index) + "' has rank " + std::to_string(d.size()) +
                         ", the operator produces rank " + std::to_string(perm.size()));
  if (layout_.count(index) || folded_.count(index))
    return invalid_model(where() + ": tensor '" + tensor_name(index) + "' is produced more than once");
  const int idx = temp(tensor_name(index) + layout_suffix(perm));
  layout_[index] = perm;
  values_[{index, perm}] = idx;
  return idx;
}

Result<int> TfliteBuilder::get(int index) { return get(index, identity_perm(static_cast<size_t>(rank(index)))); }

Result<int> TfliteBuilder::get(int index, const Perm& perm) {
  auto cached = values_.find({index, perm});
  if (cached != values_.end()) return cached->second;
  KILN_ASSIGN_OR_RETURN(Dims d, tensor_dims(index));
  if (perm.size() != d.size())
    return internal_error(where() + ": layout of rank " + std::to_string(perm.size()) + " for tensor '" +
                          tensor_name(index) + "' of rank " + std::to_string(d.size()));
  auto lay = layout_.find(index);
  if (lay == layout_.end()) {
    KILN_ASSIGN_OR_RETURN(Tensor c, constant(index));
    if (!c.defined())
      return invalid_model(where() + ": input tensor '" + tensor_name(index) +
                           "' is neither a graph input, a constant nor produced by an earlier operator");
    if (c.dtype() == DType::kF16) {
      KILN_ASSIGN_OR_RETURN(c, f16_to_f32(c));
    }
    if (c.rank() != static_cast<int64_t>(perm.size()))
      return invalid_model(where() + ": constant '" + tensor_name(index) + "' has rank " + std::to_string(c.rank()) +
                           ", its shape says " + std::to_string(perm.size()));
    if (perm != identity_perm(perm.size())) {
      KILN_ASSIGN_OR_RETURN(c, transpose_constant(c, perm));
    }
    const int idx = constant_value(tensor_name(index) + layout_suffix(perm), std::move(c));
    values_[{index, perm}] = idx;
    return idx;
  }
  // A Transpose from the primary layout: kiln_new[i] = tfl[perm[i]] = kiln_old[inv[perm[i]]].
  const Perm& have = lay->second;
  Perm inv(have.size());
  for (size_t i = 0; i < have.size(); ++i) inv[static_cast<size_t>(have[i])] = static_cast<int64_t>(i);
  Perm t(perm.size());
  for (size_t i = 0; i < perm.size(); ++i) t[i] = inv[static_cast<size_t>(perm[i])];
  const int src = values_.at({index, have});
  const int out = temp(tensor_name(index) + layout_suffix(perm));
  Node& n = add_node("Transpose", {src}, {out});
  Attribute a;
  a.kind = Attribute::Kind::kInts;
  a.ints = t;
  n.attrs["perm"] = a;
  values_[{index, perm}] = out;
  return out;
}

}  // namespace kiln
