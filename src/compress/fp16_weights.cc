#include "compress/fp16_weights.h"

#include <cmath>
#include <unordered_set>

#include "core/half.h"

namespace kiln {
namespace {

// Values read by nodes of `g`'s subgraphs (at any depth): those weights stay as they are,
// since a Cast in the main graph would have to be ordered before the control-flow node.
void collect_subgraph_reads(const Graph& g, bool inside, std::unordered_set<int>& out) {
  for (const Node& n : g.nodes) {
    if (inside)
      for (int v : n.inputs) out.insert(v);
    for (const auto& [name, a] : n.attrs)
      if (a.kind == Attribute::Kind::kGraph && a.g) collect_subgraph_reads(*a.g, true, out);
  }
}

bool excluded(const std::string& name, const std::vector<std::string>& patterns) {
  for (const std::string& p : patterns) {
    if (!p.empty() && p.back() == '*') {
      if (name.compare(0, p.size() - 1, p, 0, p.size() - 1) == 0) return true;
    } else if (name == p) {
      return true;
    }
  }
  return false;
}

}  // namespace

Result<Fp16Stats> store_weights_fp16(Model& m, const Fp16Options& options) {
  std::unordered_set<int> skip, read;
  collect_subgraph_reads(m.graph, false, skip);
  for (int v : m.graph.outputs) skip.insert(v);
  // --exclude names nodes too (as for --int8 and --prune): their weights stay float32.
  std::unordered_set<int> by_node;
  for (const Node& n : m.graph.nodes) {
    const bool node_excluded = excluded(n.name, options.exclude);
    for (int v : n.inputs) {
      read.insert(v);
      if (node_excluded) by_node.insert(v);
    }
  }
  Fp16Stats stats;
  std::vector<Node> casts;
  const size_t count = m.values.size();  // new values are appended below
  for (size_t i = 0; i < count; ++i) {
    const int vi = static_cast<int>(i);
    if (!m.values[i].data || m.values[i].data->dtype() != DType::kF32) continue;
    if (m.values[i].data->size() < options.min_elements || skip.count(vi) || !read.count(vi)) continue;
    if (excluded(m.values[i].name, options.exclude) || by_node.count(vi)) continue;
    const Tensor& w = *m.values[i].data;
    const float* src = w.data<float>();
    bool in_range = true;
    for (int64_t k = 0; k < w.size() && in_range; ++k) in_range = std::isfinite(src[k]) && std::fabs(src[k]) <= 65504.f;
    if (!in_range) {
      stats.out_of_range++;
      continue;
    }
    KILN_ASSIGN_OR_RETURN(Tensor h, Tensor::make(DType::kF16, w.dims()));
    uint16_t* dst = h.mutable_data<uint16_t>();
    for (int64_t k = 0; k < w.size(); ++k) {
      dst[k] = float_to_half(src[k]);
      stats.max_rounding = std::max(stats.max_rounding, std::fabs(double(src[k]) - half_to_float(dst[k])));
    }
    stats.converted++;
    stats.bytes_before += w.bytes();
    stats.bytes_after += h.bytes();
    Value half;
    half.name = m.values[i].name + ".fp16";
    while (m.find_value(half.name) >= 0) half.name += "_";
    half.dtype = DType::kF16;
    half.shape = m.values[i].shape;
    half.data = std::move(h);
    const int hv = m.add_value(std::move(half));
    Node cast;
    cast.name = m.values[i].name + "/fp16_to_f32";
    cast.op_type = "Cast";
    cast.inputs = {hv};
    cast.outputs = {vi};
    Attribute to;
    to.kind = Attribute::Kind::kInt;
    to.i = static_cast<int64_t>(DType::kF32);
    cast.attrs["to"] = to;
    casts.push_back(std::move(cast));
    m.values[i].data.reset();  // now produced by the Cast
  }
  m.graph.nodes.insert(m.graph.nodes.begin(), std::make_move_iterator(casts.begin()),
                       std::make_move_iterator(casts.end()));
  KILN_RETURN_IF_ERROR(validate_and_sort(m));
  return stats;
}

}  // namespace kiln
