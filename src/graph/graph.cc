#include "graph/graph.h"

#include <algorithm>
#include <functional>
#include <set>

namespace kiln {

std::string shape_to_string(const Shape& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) {
    if (i) r += ",";
    r += s[i].fixed() ? std::to_string(s[i].size) : (s[i].param.empty() ? "?" : s[i].param);
  }
  return r + "]";
}

Shape shape_from_dims(const Dims& d) {
  Shape s;
  for (int64_t x : d) s.push_back(Dim{x, ""});
  return s;
}

bool shape_is_fixed(const Shape& s) {
  return std::all_of(s.begin(), s.end(), [](const Dim& d) { return d.fixed(); });
}

Dims shape_dims(const Shape& s) {
  Dims d;
  for (const Dim& x : s) d.push_back(x.fixed() ? x.size : -1);
  return d;
}

const char* attribute_kind_name(Attribute::Kind k) {
  switch (k) {
    case Attribute::Kind::kInt: return "int";
    case Attribute::Kind::kFloat: return "float";
    case Attribute::Kind::kString: return "string";
    case Attribute::Kind::kInts: return "ints";
    case Attribute::Kind::kFloats: return "floats";
    case Attribute::Kind::kStrings: return "strings";
    case Attribute::Kind::kTensor: return "tensor";
    case Attribute::Kind::kGraph: return "graph";
  }
  return "?";
}

std::string Node::describe() const {
  return "node '" + name + "' (" + (domain.empty() ? "" : domain + ".") + op_type + ")";
}

int Node::num_inputs() const {
  int n = static_cast<int>(inputs.size());
  while (n > 0 && inputs[n - 1] == kNoValue) --n;
  return n;
}

const Attribute* Node::attr(const std::string& n) const {
  auto it = attrs.find(n);
  return it == attrs.end() ? nullptr : &it->second;
}

namespace {
template <class T>
Result<T> get_attr(const Node& node, const std::string& n, const std::optional<T>& def, Attribute::Kind kind,
                   T Attribute::*field) {
  const Attribute* a = node.attr(n);
  if (!a) {
    if (def) return *def;
    return invalid_model(node.describe() + ": required attribute '" + n + "' is missing");
  }
  if (a->kind != kind)
    return invalid_model(node.describe() + ": attribute '" + n + "' should be " + attribute_kind_name(kind) +
                         " but is " + attribute_kind_name(a->kind));
  return a->*field;
}
}  // namespace

Result<int64_t> Node::attr_int(const std::string& n, std::optional<int64_t> def) const {
  return get_attr<int64_t>(*this, n, def, Attribute::Kind::kInt, &Attribute::i);
}
Result<float> Node::attr_float(const std::string& n, std::optional<float> def) const {
  return get_attr<float>(*this, n, def, Attribute::Kind::kFloat, &Attribute::f);
}
Result<std::string> Node::attr_string(const std::string& n, std::optional<std::string> def) const {
  return get_attr<std::string>(*this, n, def, Attribute::Kind::kString, &Attribute::s);
}
Result<std::vector<int64_t>> Node::attr_ints(const std::string& n, std::optional<std::vector<int64_t>> def) const {
  return get_attr<std::vector<int64_t>>(*this, n, def, Attribute::Kind::kInts, &Attribute::ints);
}
Result<std::vector<float>> Node::attr_floats(const std::string& n, std::optional<std::vector<float>> def) const {
  return get_attr<std::vector<float>>(*this, n, def, Attribute::Kind::kFloats, &Attribute::floats);
}

int Model::add_value(Value v) {
  values.push_back(std::move(v));
  return static_cast<int>(values.size()) - 1;
}

int Model::find_value(const std::string& name) const {
  for (size_t i = 0; i < values.size(); ++i)
    if (values[i].name == name) return static_cast<int>(i);
  return -1;
}

std::string Model::metadata_value(const std::string& key) const {
  for (const auto& kv : metadata)
    if (kv.first == key) return kv.second;
  return "";
}

namespace {

// Values a node reads, including those its subgraphs capture from outer scopes.
void collect_reads(const Node& n, std::set<int>& out);

void collect_graph_captures(const Graph& g, std::set<int>& out) {
  std::set<int> produced(g.inputs.begin(), g.inputs.end());
  for (const Node& n : g.nodes)
    for (int o : n.outputs) produced.insert(o);
  std::set<int> reads;
  for (const Node& n : g.nodes) collect_reads(n, reads);
  for (int o : g.outputs) reads.insert(o);
  for (int r : reads)
    if (!produced.count(r)) out.insert(r);
}

void collect_reads(const Node& n, std::set<int>& out) {
  for (int i : n.inputs)
    if (i != kNoValue) out.insert(i);
  for (const auto& [name, a] : n.attrs)
    if (a.kind == Attribute::Kind::kGraph && a.g) collect_graph_captures(*a.g, out);
}

Status sort_graph(Model& m, Graph& g, std::set<int> available, int depth) {
  if (depth > 16) return invalid_model("subgraphs nested deeper than 16 levels");
  const int nv = static_cast<int>(m.values.size());
  auto check = [&](int v, const std::string& what) -> Status {
    if (v != kNoValue && (v < 0 || v >= nv)) return invalid_model(what + " refers to value #" + std::to_string(v) + " of " + std::to_string(nv));
    return Status::Ok();
  };
  for (int v : g.inputs) KILN_RETURN_IF_ERROR(check(v, "graph '" + g.name + "' input"));
  for (int v : g.outputs) KILN_RETURN_IF_ERROR(check(v, "graph '" + g.name + "' output"));
  for (int v : g.inputs) available.insert(v);
  for (int v = 0; v < nv; ++v)
    if (m.values[v].is_constant()) available.insert(v);

  // Producer map for this graph level.
  std::map<int, size_t> producer;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node& n = g.nodes[i];
    for (int v : n.inputs) KILN_RETURN_IF_ERROR(check(v, n.describe() + " input"));
    for (int v : n.outputs) {
      KILN_RETURN_IF_ERROR(check(v, n.describe() + " output"));
      if (v == kNoValue) continue;
      if (producer.count(v) || available.count(v))
        return invalid_model(n.describe() + ": value '" + m.values[v].name + "' is produced more than once");
      producer[v] = i;
    }
  }
  // Kahn's algorithm, stable in the original order.
  std::vector<std::set<int>> reads(g.nodes.size());
  for (size_t i = 0; i < g.nodes.size(); ++i) collect_reads(g.nodes[i], reads[i]);
  std::vector<int> pending(g.nodes.size(), 0);
  std::vector<std::vector<size_t>> users(g.nodes.size());
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    for (int r : reads[i]) {
      auto it = producer.find(r);
      if (it != producer.end()) {
        ++pending[i];
        users[it->second].push_back(i);
      } else if (!available.count(r)) {
        return invalid_model(g.nodes[i].describe() + ": input '" + m.values[r].name + "' is never produced");
      }
    }
  }
  std::vector<size_t> order, ready;
  for (size_t i = g.nodes.size(); i-- > 0;)
    if (pending[i] == 0) ready.push_back(i);
  while (!ready.empty()) {
    size_t i = ready.back();
    ready.pop_back();
    order.push_back(i);
    std::vector<size_t> now;
    for (size_t u : users[i])
      if (--pending[u] == 0) now.push_back(u);
    std::sort(now.rbegin(), now.rend());
    // Keep original order among newly ready nodes: push larger indices first.
    for (size_t u : now) ready.push_back(u);
    std::sort(ready.rbegin(), ready.rend());
  }
  if (order.size() != g.nodes.size()) {
    for (size_t i = 0; i < g.nodes.size(); ++i)
      if (pending[i] > 0) return invalid_model(g.nodes[i].describe() + " is part of a cycle");
  }
  std::vector<Node> sorted;
  sorted.reserve(order.size());
  for (size_t i : order) sorted.push_back(std::move(g.nodes[i]));
  g.nodes = std::move(sorted);

  // Recurse into subgraphs: everything visible here is visible there.
  std::set<int> scope = available;
  for (auto& [v, i] : producer) scope.insert(v);
  for (Node& n : g.nodes)
    for (auto& [name, a] : n.attrs)
      if (a.kind == Attribute::Kind::kGraph) {
        if (!a.g) return invalid_model(n.describe() + ": attribute '" + name + "' has no graph");
        KILN_RETURN_IF_ERROR(sort_graph(m, *a.g, scope, depth + 1));
      }
  for (int o : g.outputs)
    if (!producer.count(o) && !available.count(o))
      return invalid_model("graph '" + g.name + "' output '" + m.values[o].name + "' is never produced");
  return Status::Ok();
}

void histogram(const Graph& g, std::map<std::string, int>& h) {
  for (const Node& n : g.nodes) {
    ++h[n.op_type];
    for (const auto& [name, a] : n.attrs)
      if (a.kind == Attribute::Kind::kGraph && a.g) histogram(*a.g, h);
  }
}

}  // namespace

Status validate_and_sort(Model& model) { return sort_graph(model, model.graph, {}, 0); }

std::map<std::string, int> op_histogram(const Model& model) {
  std::map<std::string, int> h;
  histogram(model.graph, h);
  return h;
}

}  // namespace kiln
