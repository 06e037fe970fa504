#include "import/onnx_import.h"

#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <vector>

#include <onnx/onnx_pb.h>

#include "format/model_io.h"
#include "graph/passes/passes.h"
#include "import/onnx_tensor.h"
#include "ops/registry.h"

namespace kiln {
namespace {

constexpr int kMaxGraphDepth = 16;

bool is_default_domain(const std::string& d) { return d.empty() || d == "ai.onnx"; }

// Nodes without a name get one, so every error can point at a node.
std::string node_name(const onnx::NodeProto& n, int index, const std::string& graph_prefix) {
  if (!n.name().empty()) return n.name();
  return graph_prefix + n.op_type() + "_" + std::to_string(index);
}

// Prefix for names inside a node's subgraph attribute, e.g. "loop/body/".
std::string subgraph_prefix(const onnx::NodeProto& n, int index, const std::string& prefix, const std::string& attr) {
  return (n.name().empty() ? node_name(n, index, prefix) : prefix + n.name()) + "/" + attr + "/";
}

std::string op_key(const onnx::NodeProto& n) {
  return is_default_domain(n.domain()) ? n.op_type() : n.domain() + "." + n.op_type();
}

// --- pre-pass: every unsupported op type and the first node using it -------------------

struct Unsupported {
  std::vector<std::string> order;
  std::map<std::string, std::string> first_node;
};

void collect_unsupported(const onnx::GraphProto& g, const std::string& prefix, const std::set<std::string>& functions,
                         Unsupported& u, int depth) {
  if (depth > kMaxGraphDepth) return;  // reported by the conversion itself
  for (int i = 0; i < g.node_size(); ++i) {
    const onnx::NodeProto& n = g.node(i);
    bool ok = (is_default_domain(n.domain()) && n.op_type() == "Constant") || op_supported(n.domain(), n.op_type()) ||
              unfold_quant_ops_imports(n.domain(), n.op_type());  // rewritten by the optimizer
    std::string key = op_key(n);
    if (!ok && !u.first_node.count(key)) {
      u.order.push_back(key);
      std::string why = functions.count(key) ? ", a model-local function" : "";
      u.first_node[key] = "node '" + node_name(n, i, prefix) + "'" + why;
    }
    for (const auto& a : n.attribute()) {
      std::string sub = subgraph_prefix(n, i, prefix, a.name());
      if (a.has_g()) collect_unsupported(a.g(), sub, functions, u, depth + 1);
      for (const auto& gg : a.graphs()) collect_unsupported(gg, sub, functions, u, depth + 1);
    }
  }
}

Status unsupported_error(const Unsupported& u) {
  std::string m = "the model uses " + std::to_string(u.order.size()) + " operator type" +
                  (u.order.size() == 1 ? "" : "s") + " kiln does not support: ";
  for (size_t i = 0; i < u.order.size(); ++i) {
    if (i) m += ", ";
    m += u.order[i] + " (first used by " + u.first_node.at(u.order[i]) + ")";
  }
  return unsupported(m + "; run 'kiln ops' for the supported list");
}

// --- types --------------------------------------------------------------------------------

Shape shape_from_onnx(const onnx::TensorShapeProto& s) {
  Shape shape;
  for (const auto& d : s.dim()) {
    Dim dim;
    if (d.has_dim_value() && d.dim_value() >= 0) dim.size = d.dim_value();
    else if (d.has_dim_param()) dim.param = d.dim_param();
    shape.push_back(dim);
  }
  return shape;
}

// Applies a declared type to a value. `strict` (graph inputs/outputs) turns non-tensor or
// unsupported element types into errors; value_info is only a hint and is skipped then.
Status apply_type(const onnx::TypeProto& type, Value& v, bool strict, const std::string& what) {
  if (!type.has_tensor_type()) {
    if (strict && type.value_case() != onnx::TypeProto::VALUE_NOT_SET)
      return unsupported(what + ": only tensor types are supported (sequence/map/optional are not)");
    return Status::Ok();
  }
  const auto& tt = type.tensor_type();
  if (tt.elem_type() != 0) {
    auto dt = dtype_from_onnx(tt.elem_type(), what);
    if (dt.ok()) v.dtype = dt.value();
    else if (strict) return dt.status();
  }
  if (tt.has_shape()) v.shape = shape_from_onnx(tt.shape());
  return Status::Ok();
}

// --- conversion ---------------------------------------------------------------------------

// Name -> value index for one graph level; lookups walk outwards (lexical scoping).
struct Scope {
  const Scope* parent = nullptr;
  std::map<std::string, int> names;
  int lookup(const std::string& n) const {
    for (const Scope* s = this; s; s = s->parent) {
      auto it = s->names.find(n);
      if (it != s->names.end()) return it->second;
    }
    return -1;
  }
};

class Converter {
 public:
  explicit Converter(Model& m) : m_(m) {}

  Status convert_graph(const onnx::GraphProto& g, Graph& out, const Scope* parent, const std::string& prefix,
                       int depth);

 private:
  Result<int> new_value(Scope& s, const std::string& name, const std::string& prefix, const std::string& what);
  Result<Attribute> convert_attr(const onnx::AttributeProto& a, const Node& node, const Scope& s,
                                 const std::string& sub_prefix, int depth);
  Result<Tensor> constant_node_value(const onnx::NodeProto& n, const std::string& desc);

  Model& m_;
  std::set<std::string> used_names_;
};

// Values live in one table shared by all graphs; a subgraph name that shadows an outer
// one keeps its meaning through the scope but gets a unique name in the table.
Result<int> Converter::new_value(Scope& s, const std::string& name, const std::string& prefix,
                                 const std::string& what) {
  if (s.names.count(name)) return invalid_model(what + ": value '" + name + "' is defined more than once");
  std::string unique = name;
  for (int k = 2; used_names_.count(unique); ++k) unique = prefix + name + (k > 2 ? "#" + std::to_string(k) : "");
  used_names_.insert(unique);
  Value v;
  v.name = unique;
  int idx = m_.add_value(std::move(v));
  s.names[name] = idx;
  return idx;
}

Result<Tensor> Converter::constant_node_value(const onnx::NodeProto& n, const std::string& desc) {
  if (n.attribute_size() != 1)
    return invalid_model(desc + ": needs exactly one value attribute, has " + std::to_string(n.attribute_size()));
  if (n.output_size() != 1 || n.output(0).empty()) return invalid_model(desc + ": needs exactly one output");
  const onnx::AttributeProto& a = n.attribute(0);
  const std::string& k = a.name();
  if (k == "value") return tensor_from_onnx(a.t(), desc + " attribute 'value'");
  if (k == "value_float") return Tensor::scalar_f32(a.f());
  if (k == "value_int") return Tensor::from_i64({a.i()}, {});
  if (k == "value_floats") {
    std::vector<float> v(a.floats().begin(), a.floats().end());
    return Tensor::from_f32(v, {static_cast<int64_t>(v.size())});
  }
  if (k == "value_ints") {
    std::vector<int64_t> v(a.ints().begin(), a.ints().end());
    return Tensor::from_i64(v, {static_cast<int64_t>(v.size())});
  }
  if (k == "value_string" || k == "value_strings") return unsupported(desc + ": string constants are not supported");
  if (k == "sparse_value") return unsupported(desc + ": sparse constants are not supported");
  return invalid_model(desc + ": unknown attribute '" + k + "'");
}

Result<Attribute> Converter::convert_attr(const onnx::AttributeProto& a, const Node& node, const Scope& s,
                                          const std::string& sub_prefix, int depth) {
  const std::string what = node.describe() + " attribute '" + a.name() + "'";
  if (!a.ref_attr_name().empty()) return invalid_model(what + ": refers to a function attribute outside a function");
  auto type = a.type();
  if (type == onnx::AttributeProto::UNDEFINED) {  // very old files: infer from the field set
    if (a.has_f()) type = onnx::AttributeProto::FLOAT;
    else if (a.has_i()) type = onnx::AttributeProto::INT;
    else if (a.has_s()) type = onnx::AttributeProto::STRING;
    else if (a.has_t()) type = onnx::AttributeProto::TENSOR;
    else if (a.has_g()) type = onnx::AttributeProto::GRAPH;
    else if (a.floats_size()) type = onnx::AttributeProto::FLOATS;
    else if (a.ints_size()) type = onnx::AttributeProto::INTS;
    else if (a.strings_size()) type = onnx::AttributeProto::STRINGS;
    else return invalid_model(what + ": has no type and no value");
  }
  Attribute r;
  switch (type) {
    case onnx::AttributeProto::FLOAT: r.kind = Attribute::Kind::kFloat; r.f = a.f(); break;
    case onnx::AttributeProto::INT: r.kind = Attribute::Kind::kInt; r.i = a.i(); break;
    case onnx::AttributeProto::STRING: r.kind = Attribute::Kind::kString; r.s = a.s(); break;
    case onnx::AttributeProto::FLOATS:
      r.kind = Attribute::Kind::kFloats;
      r.floats.assign(a.floats().begin(), a.floats().end());
      break;
    case onnx::AttributeProto::INTS:
      r.kind = Attribute::Kind::kInts;
      r.ints.assign(a.ints().begin(), a.ints().end());
      break;
    case onnx::AttributeProto::STRINGS:
      r.kind = Attribute::Kind::kStrings;
      r.strings.assign(a.strings().begin(), a.strings().end());
      break;
    case onnx::AttributeProto::TENSOR: {
      r.kind = Attribute::Kind::kTensor;
      KILN_ASSIGN_OR_RETURN(r.t, tensor_from_onnx(a.t(), what));
      break;
    }
    case onnx::AttributeProto::GRAPH: {
      r.kind = Attribute::Kind::kGraph;
      r.g = std::make_shared<Graph>();
      KILN_RETURN_IF_ERROR(convert_graph(a.g(), *r.g, &s, sub_prefix, depth + 1));
      if (r.g->name.empty()) r.g->name = a.name();
      break;
    }
    default:
      return unsupported(what + ": attributes of type " + onnx::AttributeProto::AttributeType_Name(type) +
                         " are not supported");
  }
  return r;
}

Status Converter::convert_graph(const onnx::GraphProto& g, Graph& out, const Scope* parent, const std::string& prefix,
                                int depth) {
  if (depth > kMaxGraphDepth) return invalid_model("subgraphs are nested deeper than " + std::to_string(kMaxGraphDepth));
  out.name = g.name();
  const std::string gdesc = "graph '" + (g.name().empty() ? prefix : g.name()) + "'";
  Scope s;
  s.parent = parent;

  // Declared types for intermediate values (hints: only tensor types are used).
  std::map<std::string, const onnx::TypeProto*> declared;
  for (const auto& vi : g.value_info()) declared[vi.name()] = &vi.type();
  for (const auto& vi : g.output()) declared[vi.name()] = &vi.type();

  for (const auto& init : g.initializer()) {
    const std::string what = "initializer '" + init.name() + "'";
    if (init.name().empty()) return invalid_model(gdesc + ": an initializer has no name");
    KILN_ASSIGN_OR_RETURN(int idx, new_value(s, init.name(), prefix, gdesc));
    KILN_ASSIGN_OR_RETURN(Tensor t, tensor_from_onnx(init, what));
    Value& v = m_.values[idx];
    v.dtype = t.dtype();
    v.shape = shape_from_dims(t.dims());
    v.data = std::move(t);
  }
  if (g.sparse_initializer_size() > 0) return unsupported(gdesc + ": sparse initializers are not supported");

  for (const auto& in : g.input()) {
    // Older exporters list every initializer as a graph input too: those are constants.
    if (s.names.count(in.name())) continue;
    const std::string what = gdesc + " input '" + in.name() + "'";
    KILN_ASSIGN_OR_RETURN(int idx, new_value(s, in.name(), prefix, gdesc));
    KILN_RETURN_IF_ERROR(apply_type(in.type(), m_.values[idx], /*strict=*/true, what));
    out.inputs.push_back(idx);
  }

  // Register every node output first so a node may name a value produced later (some
  // exporters write nodes out of order; sorting happens after conversion).
  std::vector<std::string> names(static_cast<size_t>(g.node_size()));
  std::vector<bool> is_constant(names.size(), false);
  for (int i = 0; i < g.node_size(); ++i) {
    const onnx::NodeProto& n = g.node(i);
    names[i] = node_name(n, i, prefix);
    const std::string desc = "node '" + names[i] + "' (" + op_key(n) + ")";
    is_constant[i] = is_default_domain(n.domain()) && n.op_type() == "Constant";
    if (is_constant[i]) {
      KILN_ASSIGN_OR_RETURN(Tensor t, constant_node_value(n, desc));
      KILN_ASSIGN_OR_RETURN(int idx, new_value(s, n.output(0), prefix, desc));
      Value& v = m_.values[idx];
      v.dtype = t.dtype();
      v.shape = shape_from_dims(t.dims());
      v.data = std::move(t);
      continue;
    }
    for (const std::string& o : n.output()) {
      if (o.empty()) continue;
      KILN_ASSIGN_OR_RETURN(int idx, new_value(s, o, prefix, desc));
      // value_info is an exporter's hint: take the dtype, not the shape, so that folding
      // never bakes in a traced size that is really dynamic (inference recomputes shapes).
      auto it = declared.find(o);
      if (it != declared.end()) {
        Value hint;
        KILN_RETURN_IF_ERROR(apply_type(*it->second, hint, false, o));
        m_.values[idx].dtype = hint.dtype;
      }
    }
  }

  for (int i = 0; i < g.node_size(); ++i) {
    if (is_constant[i]) continue;
    const onnx::NodeProto& n = g.node(i);
    Node node;
    node.name = names[i];
    node.op_type = n.op_type();
    node.domain = is_default_domain(n.domain()) ? "" : n.domain();
    for (const std::string& in : n.input()) {
      if (in.empty()) {
        node.inputs.push_back(kNoValue);
        continue;
      }
      int idx = s.lookup(in);
      if (idx < 0) return invalid_model(node.describe() + ": input '" + in + "' is not defined in this graph or an enclosing one");
      node.inputs.push_back(idx);
    }
    for (const std::string& o : n.output()) node.outputs.push_back(o.empty() ? kNoValue : s.names.at(o));
    for (const auto& a : n.attribute()) {
      if (node.attrs.count(a.name())) return invalid_model(node.describe() + ": attribute '" + a.name() + "' appears twice");
      KILN_ASSIGN_OR_RETURN(Attribute attr, convert_attr(a, node, s, subgraph_prefix(n, i, prefix, a.name()), depth));
      node.attrs.emplace(a.name(), std::move(attr));
    }
    out.nodes.push_back(std::move(node));
  }

  for (const auto& o : g.output()) {
    int idx = s.lookup(o.name());
    if (idx < 0) return invalid_model(gdesc + ": output '" + o.name() + "' is not produced by any node");
    Value& v = m_.values[idx];
    if (!v.is_constant()) {
      Value declared_v;
      KILN_RETURN_IF_ERROR(apply_type(o.type(), declared_v, /*strict=*/true, gdesc + " output '" + o.name() + "'"));
      if (v.dtype == DType::kUndefined) v.dtype = declared_v.dtype;
      if (!v.shape) v.shape = declared_v.shape;
    }
    out.outputs.push_back(idx);
  }
  return Status::Ok();
}

Result<Model> convert(const onnx::ModelProto& mp, const ImportOptions& options) {
  if (!mp.has_graph()) return invalid_model("not an ONNX model (it has no graph)");
  if (mp.ir_version() <= 0) return invalid_model("not an ONNX model (ir_version is missing)");
  Model m;
  m.opset = 0;
  for (const auto& op : mp.opset_import())
    if (is_default_domain(op.domain())) m.opset = op.version();
  if (m.opset == 0) m.opset = 1;  // IR v1/v2 files without opset_import mean opset 1
  m.producer = mp.producer_name();
  if (!mp.producer_version().empty()) m.producer += (m.producer.empty() ? "" : " ") + mp.producer_version();
  for (const auto& kv : mp.metadata_props()) m.metadata.emplace_back(kv.key(), kv.value());

  if (options.require_supported_ops) {
    std::set<std::string> functions;
    for (const auto& f : mp.functions()) functions.insert(is_default_domain(f.domain()) ? f.name() : f.domain() + "." + f.name());
    Unsupported u;
    collect_unsupported(mp.graph(), "", functions, u, 0);
    if (!u.order.empty()) return unsupported_error(u);
  }

  Converter c(m);
  KILN_RETURN_IF_ERROR(c.convert_graph(mp.graph(), m.graph, nullptr, "", 0));
  if (m.graph.name.empty()) m.graph.name = "main";
  if (m.graph.outputs.empty()) return invalid_model("the graph has no outputs");
  KILN_RETURN_IF_ERROR(validate_and_sort(m));
  return m;
}

}  // namespace

Result<Model> import_onnx_bytes(const uint8_t* data, size_t size, const ImportOptions& options,
                                const std::string& name) {
  if (size > options.max_file_bytes || size > static_cast<size_t>(INT32_MAX))
    return unsupported(name + ": " + std::to_string(size) + " bytes is larger than the " +
                       std::to_string(options.max_file_bytes) + "-byte limit for ONNX files");
  onnx::ModelProto mp;
  if (!mp.ParseFromArray(data, static_cast<int>(size)))
    return invalid_model(name + ": not a valid ONNX model (protobuf parsing failed; is the file truncated or of another format?)");
  auto r = convert(mp, options);
  if (!r.ok()) return r.status().with_context(name);
  r->source_sha256 = sha256_hex(data, size);
  return r;
}

Result<Model> import_onnx(const std::string& path, const ImportOptions& options) {
  std::ifstream f(path, std::ios::binary | std::ios::ate);
  if (!f) return io_error("cannot open '" + path + "'");
  // Read in chunks rather than trusting tellg(): it is meaningless for directories and pipes.
  const std::streamoff reported = f.tellg();
  f.seekg(0);
  std::vector<uint8_t> bytes;
  std::vector<char> chunk(size_t{1} << 20);
  while (f.read(chunk.data(), static_cast<std::streamsize>(chunk.size())) || f.gcount() > 0) {
    bytes.insert(bytes.end(), chunk.data(), chunk.data() + f.gcount());
    if (bytes.size() > options.max_file_bytes)
      return unsupported(path + ": larger than the " + std::to_string(options.max_file_bytes) +
                         "-byte limit for ONNX files");
  }
  if (f.bad() || (bytes.empty() && reported != 0)) return io_error("cannot read '" + path + "' (is it a directory?)");
  return import_onnx_bytes(bytes.data(), bytes.size(), options, path);
}

}  // namespace kiln
