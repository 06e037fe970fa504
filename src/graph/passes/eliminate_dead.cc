#include "graph/passes/eliminate_dead.h"

#include <set>

namespace kiln {
namespace {

void collect_reads(const Node& n, std::set<int>& out);

// Values a subgraph reads from enclosing scopes.
void collect_captures(const Graph& g, std::set<int>& out) {
  std::set<int> produced(g.inputs.begin(), g.inputs.end()), reads(g.outputs.begin(), g.outputs.end());
  for (const Node& n : g.nodes) {
    produced.insert(n.outputs.begin(), n.outputs.end());
    collect_reads(n, reads);
  }
  for (int r : reads)
    if (!produced.count(r)) out.insert(r);
}

void collect_reads(const Node& n, std::set<int>& out) {
  for (int i : n.inputs)
    if (i != kNoValue) out.insert(i);
  for (const auto& [name, a] : n.attrs)
    if (a.kind == Attribute::Kind::kGraph && a.g) collect_captures(*a.g, out);
}

int sweep(Graph& g) {
  std::set<int> live(g.outputs.begin(), g.outputs.end());
  std::vector<bool> keep(g.nodes.size(), false);
  int removed = 0, removed_inside = 0;  // here / in subgraphs (kept apart: `kept` sizes by the first)
  for (size_t i = g.nodes.size(); i-- > 0;) {
    Node& n = g.nodes[i];
    for (int o : n.outputs) keep[i] = keep[i] || (o != kNoValue && live.count(o));
    if (!keep[i]) {
      ++removed;
      continue;
    }
    // Prune the subgraphs first so their dead reads do not keep outer nodes alive.
    for (auto& [name, a] : n.attrs)
      if (a.kind == Attribute::Kind::kGraph && a.g) removed_inside += sweep(*a.g);
    collect_reads(n, live);
  }
  std::vector<Node> kept;
  kept.reserve(g.nodes.size() - static_cast<size_t>(removed));
  for (size_t i = 0; i < g.nodes.size(); ++i)
    if (keep[i]) kept.push_back(std::move(g.nodes[i]));
  g.nodes = std::move(kept);
  return removed + removed_inside;
}

void mark_used(const Graph& g, std::vector<bool>& used) {
  auto mark = [&](int v) {
    if (v >= 0 && static_cast<size_t>(v) < used.size()) used[static_cast<size_t>(v)] = true;
  };
  for (int v : g.inputs) mark(v);
  for (int v : g.outputs) mark(v);
  for (const Node& n : g.nodes) {
    for (int v : n.inputs) mark(v);
    for (int v : n.outputs) mark(v);
    for (const auto& [name, a] : n.attrs)
      if (a.kind == Attribute::Kind::kGraph && a.g) mark_used(*a.g, used);
  }
}

void remap_graph(Graph& g, const std::vector<int>& remap) {
  auto re = [&](int& v) {
    if (v != kNoValue) v = remap[static_cast<size_t>(v)];
  };
  for (int& v : g.inputs) re(v);
  for (int& v : g.outputs) re(v);
  for (Node& n : g.nodes) {
    for (int& v : n.inputs) re(v);
    for (int& v : n.outputs) re(v);
    for (auto& [name, a] : n.attrs)
      if (a.kind == Attribute::Kind::kGraph && a.g) remap_graph(*a.g, remap);
  }
}

}  // namespace

Status eliminate_dead(Model& model, DeadStats* stats) {
  int removed_nodes = sweep(model.graph);
  std::vector<bool> used(model.values.size(), false);
  mark_used(model.graph, used);
  std::vector<int> remap(model.values.size(), kNoValue);
  std::vector<Value> kept;
  for (size_t i = 0; i < model.values.size(); ++i) {
    if (!used[i]) continue;
    remap[i] = static_cast<int>(kept.size());
    kept.push_back(std::move(model.values[i]));
  }
  int removed_values = static_cast<int>(model.values.size() - kept.size());
  model.values = std::move(kept);
  remap_graph(model.graph, remap);
  if (stats) {
    stats->removed_nodes += removed_nodes;
    stats->removed_values += removed_values;
  }
  return Status::Ok();
}

}  // namespace kiln
