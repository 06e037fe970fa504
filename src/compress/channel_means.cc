// Channel means for bias compensation (channel_means.h): the values of interest become graph
// outputs of a copy, so one session run per sample returns them all.
#include "compress/channel_means.h"

#include <algorithm>
#include <set>

#include "compress/eval_data.h"
#include "compress/prune_channels.h"
#include "graph/kiln_extensions.h"
#include "graph/passes/pass_util.h"
#include "runtime/session.h"

namespace kiln {

Result<ChannelStatsMap> consumer_input_means(const Model& model, const std::vector<TensorMap>& samples) {
  Model m = model;
  std::map<std::string, std::pair<int, bool>> wanted;  // name -> (value, channels last)
  std::set<int> io(m.graph.inputs.begin(), m.graph.inputs.end());
  io.insert(m.graph.outputs.begin(), m.graph.outputs.end());
  for (const Node& n : m.graph.nodes) {
    const bool onnx = n.domain.empty() || n.domain == "ai.onnx";
    const bool nchw = onnx && n.op_type == "Conv";
    const bool last = (n.domain == ext::kDomain && n.op_type == ext::kNhwcConv) ||
                      (onnx && (n.op_type == "Gemm" || n.op_type == "MatMul"));
    if ((!nchw && !last) || n.inputs.empty()) continue;
    if (auto g = n.attr_int("group", 1); (nchw || n.op_type == ext::kNhwcConv) && (!g.ok() || *g != 1)) continue;
    const int v = n.inputs[0];
    if (v == kNoValue || io.count(v) || m.values[size_t(v)].is_constant()) continue;
    wanted[m.values[size_t(v)].name] = {v, last};
  }
  ChannelStatsMap means;
  if (wanted.empty() || samples.empty()) return means;
  for (const auto& [name, vl] : wanted) m.graph.outputs.push_back(vl.first);
  KILN_ASSIGN_OR_RETURN(auto session, Session::create(std::move(m)));
  std::map<int, int64_t> counts;
  for (size_t s = 0; s < samples.size(); ++s) {
    auto out = session->run(samples[s]);
    if (!out.ok()) return out.status().with_context("measuring channel means on calibration input " + std::to_string(s));
    for (const auto& [name, vl] : wanted) {
      auto it = out->find(name);
      if (it == out->end() || it->second.dtype() != DType::kF32 || it->second.rank() < 2) continue;
      const Tensor& t = it->second;
      const int64_t axis = vl.second ? t.rank() - 1 : 1;
      int64_t inner = 1;
      for (int64_t i = axis + 1; i < t.rank(); ++i) inner *= t.dim(i);
      const int64_t c = t.dim(axis);
      ChannelStats& cs = means[vl.first];
      std::vector<double>&sum = cs.mean, &sq = cs.var;  // sums until the end
      if (sum.empty()) sum.assign(size_t(c), 0.0), sq.assign(size_t(c), 0.0);
      if (int64_t(sum.size()) != c) return internal_error("channel count of '" + name + "' changed between inputs");
      const float* p = t.data<float>();
      for (int64_t i = 0; i < t.size(); ++i) {
        sum[size_t((i / inner) % c)] += p[i];
        sq[size_t((i / inner) % c)] += double(p[i]) * p[i];
      }
      counts[vl.first] += t.size() / c;
    }
  }
  for (auto& [v, cs] : means)
    for (size_t i = 0; i < cs.mean.size(); ++i) {
      cs.mean[i] /= double(counts[v]);
      cs.var[i] = std::max(0.0, cs.var[i] / double(counts[v]) - cs.mean[i] * cs.mean[i]);
    }
  return means;
}

Result<std::vector<TensorMap>> channel_calibration_set(const Model& model, int count,
                                                       const std::map<std::string, Dims>& dims) {
  if (count < 1) return invalid_argument("calibration count must be at least 1");
  KILN_ASSIGN_OR_RETURN(auto session, Session::create(model));
  EvalDataOptions d;
  d.task = detect_eval_task(session->inputs(), session->outputs());
  d.count = count;
  d.input_dims = dims;
  d.seed = 1000;  // not kiln eval's default (1): accuracy is then scored on inputs the means never saw
  KILN_ASSIGN_OR_RETURN(EvalSet set, make_eval_set(session->inputs(), d));
  std::vector<TensorMap> out;
  for (EvalSample& s : set.samples) out.push_back(std::move(s.feeds));
  return out;
}

}  // namespace kiln
