#include "runtime/profile.h"

#include <algorithm>
#include <map>

namespace kiln {

std::vector<OpTypeTiming> profile_by_op_type(const RunProfile& p) {
  std::map<std::string, OpTypeTiming> by_type;
  for (const NodeTiming& n : p.nodes) {
    if (n.control_flow) continue;
    OpTypeTiming& t = by_type[n.op_type];
    t.op_type = n.op_type;
    t.nodes++;
    t.calls += n.calls;
    t.total_ms += n.total_ms;
  }
  std::vector<OpTypeTiming> out;
  for (auto& [type, t] : by_type) out.push_back(std::move(t));
  std::stable_sort(out.begin(), out.end(), [](const OpTypeTiming& a, const OpTypeTiming& b) { return a.total_ms > b.total_ms; });
  return out;
}

std::vector<NodeTiming> profile_top_nodes(const RunProfile& p, size_t limit) {
  std::vector<NodeTiming> out;
  for (const NodeTiming& n : p.nodes)
    if (!n.control_flow && n.calls > 0) out.push_back(n);
  std::stable_sort(out.begin(), out.end(), [](const NodeTiming& a, const NodeTiming& b) { return a.total_ms > b.total_ms; });
  if (out.size() > limit) out.resize(limit);
  return out;
}

}  // namespace kiln
