// Magnitude and N:M pruning (prune.h).
#include "compress/prune.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <numeric>
#include <set>

#include "compress/int8_dynamic.h"  // name_matches
#include "graph/kiln_extensions.h"
#include "graph/passes/pass_util.h"
#include "kernels/f32-spmm/f32-spmm.h"

namespace kiln {
namespace {

// A prunable weight seen as a k x n matrix (k = input channels) inside its tensor.
struct Target {
  int value = kNoValue;
  std::string node;
  size_t k = 0, n = 0;
  ptrdiff_t stride_k = 0, stride_n = 0;
};

// Why a node's weight cannot be pruned (empty: `t` describes it).
std::string plan_target(const Model& m, const Node& node, Target& t) {
  const bool nhwc_conv = node.domain == ext::kDomain && node.op_type == ext::kNhwcConv;
  if (!nhwc_conv && !node.domain.empty() && node.domain != "ai.onnx") return "not an ONNX op";
  const int w = input_of(node, 1);
  const Tensor* b = constant_of(m, w);
  if (!b || b->dtype() != DType::kF32) return "weight is not a float32 constant";
  t.value = w;
  t.node = node.name;
  if (node.op_type == "MatMul") {
    if (b->rank() != 2) return "B is not 2-D";
    t.k = static_cast<size_t>(b->dim(0)), t.n = static_cast<size_t>(b->dim(1));
    t.stride_k = static_cast<ptrdiff_t>(t.n), t.stride_n = 1;
    return "";
  }
  if (node.op_type == "Gemm") {
    auto ta = node.attr_int("transA", 0), tb = node.attr_int("transB", 0);
    if (!ta.ok() || !tb.ok() || ta.value() != 0) return "transA or bad attributes";
    if (b->rank() != 2) return "B is not 2-D";
    const size_t r = static_cast<size_t>(b->dim(0)), c = static_cast<size_t>(b->dim(1));
    if (tb.value()) {
      t.k = c, t.n = r, t.stride_k = 1, t.stride_n = static_cast<ptrdiff_t>(c);
    } else {
      t.k = r, t.n = c, t.stride_k = static_cast<ptrdiff_t>(c), t.stride_n = 1;
    }
    return "";
  }
  // Conv / kiln.NhwcConv (same W layout): only pointwise group-1 layers run as a GEMM
  // (and so on the sparse kernels).
  auto group = node.attr_int("group", 1);
  if (!group.ok() || group.value() != 1) return "grouped convolution";
  if (b->rank() != 4 || b->dim(2) != 1 || b->dim(3) != 1) return "not a 1x1 convolution";
  t.n = static_cast<size_t>(b->dim(0)), t.k = static_cast<size_t>(b->dim(1));
  t.stride_k = 1, t.stride_n = static_cast<ptrdiff_t>(t.k);
  return "";
}

struct Collected {
  std::vector<Target> targets;
  int skipped = 0;
};

Collected collect(Model& model, const PruneOptions& o) {
  Collected c;
  std::set<int> seen;
  GraphView view(model);
  for (Graph* g : view.graphs())
    for (const Node& node : g->nodes) {
      if (node.op_type != "MatMul" && node.op_type != "Gemm" && node.op_type != "Conv" &&
          node.op_type != ext::kNhwcConv)
        continue;
      Target t;
      const std::string why = plan_target(model, node, t);
      if (!why.empty() || name_matches(node.name, o.exclude) ||
          name_matches(model.values[static_cast<size_t>(t.value)].name, o.exclude) ||
          static_cast<int64_t>(t.k * t.n) < o.min_elements) {
        ++c.skipped;
        continue;
      }
      if (seen.insert(t.value).second) c.targets.push_back(t);
    }
  return c;
}

size_t count_zeros(const std::vector<float>& v) {
  return static_cast<size_t>(std::count(v.begin(), v.end(), 0.f));
}

Status check_options(const PruneOptions& o, bool n_m) {
  if (n_m) {
    if (o.m < 1 || o.n < 0 || o.n > o.m || o.m > 64)
      return invalid_argument("N:M pruning needs 0 <= N <= M <= 64, got " + std::to_string(o.n) + ":" + std::to_string(o.m));
  } else if (!(o.sparsity >= 0.0 && o.sparsity <= 1.0)) {
    return invalid_argument("pruning sparsity must be in [0, 1], got " + std::to_string(o.sparsity));
  }
  return Status::Ok();
}

// Rewrites each target with `fn(target, weights)` and collects the stats.
template <class Fn>
PruneStats apply(Model& model, const Collected& c, Fn&& fn) {
  PruneStats s;
  s.skipped = c.skipped;
  for (const Target& t : c.targets) {
    Value& v = model.values[static_cast<size_t>(t.value)];
    std::vector<float> w = floats_of(*v.data);
    const size_t before = count_zeros(w);
    fn(t, w);
    const size_t after = count_zeros(w);
    v.data = Tensor::from_f32(w, v.data->dims());
    ++s.layers;
    s.elements += static_cast<int64_t>(w.size());
    s.zeros_before += static_cast<int64_t>(before);
    s.zeros_after += static_cast<int64_t>(after);
    const bool sparse = f32_spmm_preferred(t.n, t.k, after);
    s.sparse_layers += sparse;
    s.pruned.push_back({t.node, v.name, static_cast<int64_t>(w.size()), static_cast<int64_t>(after), sparse});
  }
  return s;
}

// Zeros the `count` smallest |w| of `w` (ties by position), exactly.
void zero_smallest(std::vector<float>& w, size_t count) {
  count = std::min(count, w.size());
  if (count == 0) return;
  std::vector<uint32_t> idx(w.size());
  std::iota(idx.begin(), idx.end(), 0u);
  auto less = [&](uint32_t a, uint32_t b) {
    const float x = std::fabs(w[a]), y = std::fabs(w[b]);
    return x < y || (x == y && a < b);
  };
  std::nth_element(idx.begin(), idx.begin() + static_cast<ptrdiff_t>(count - 1), idx.end(), less);
  for (size_t i = 0; i < count; ++i) w[idx[i]] = 0.f;
}

}  // namespace

Result<PruneStats> prune_magnitude(Model& model, const PruneOptions& o) {
  KILN_RETURN_IF_ERROR(check_options(o, false));
  const Collected c = collect(model, o);
  if (!o.global)
    return apply(model, c, [&](const Target&, std::vector<float>& w) {
      zero_smallest(w, static_cast<size_t>(std::llround(o.sparsity * static_cast<double>(w.size()))));
    });
  // Global: the threshold is the magnitude below which the wanted fraction of all
  // selected weights lies; every weight below it (and ties, by position order) is zeroed.
  std::vector<float> all;
  for (const Target& t : c.targets) {
    const Tensor& d = *model.values[static_cast<size_t>(t.value)].data;
    const float* p = d.data<float>();
    for (int64_t i = 0; i < d.size(); ++i) all.push_back(std::fabs(p[i]));
  }
  size_t count = static_cast<size_t>(std::llround(o.sparsity * static_cast<double>(all.size())));
  float threshold = -1.f;  // nothing below: no zeros
  size_t ties = 0;         // how many weights equal to the threshold still get zeroed
  if (count > 0) {
    std::nth_element(all.begin(), all.begin() + static_cast<ptrdiff_t>(count - 1), all.end());
    threshold = all[count - 1];
    const size_t below = static_cast<size_t>(std::count_if(all.begin(), all.end(), [&](float x) { return x < threshold; }));
    ties = count - below;
  }
  return apply(model, c, [&](const Target&, std::vector<float>& w) {
    for (float& x : w) {
      const float a = std::fabs(x);
      if (a < threshold) {
        x = 0.f;
      } else if (a == threshold && ties > 0) {
        x = 0.f;
        --ties;
      }
    }
  });
}

Result<PruneStats> prune_n_m(Model& model, const PruneOptions& o) {
  KILN_RETURN_IF_ERROR(check_options(o, true));
  const Collected c = collect(model, o);
  const size_t n = static_cast<size_t>(o.n), m = static_cast<size_t>(o.m);
  return apply(model, c, [&](const Target& t, std::vector<float>& w) {
    std::vector<float> run;
    for (size_t j = 0; j < t.n; ++j)
      for (size_t k0 = 0; k0 < t.k; k0 += m) {
        const size_t len = std::min(m, t.k - k0), keep = std::min(n, len);
        run.resize(len);
        auto at = [&](size_t r) -> float& {
          return w[static_cast<size_t>(static_cast<ptrdiff_t>(k0 + r) * t.stride_k + static_cast<ptrdiff_t>(j) * t.stride_n)];
        };
        for (size_t r = 0; r < len; ++r) run[r] = at(r);
        zero_smallest(run, len - keep);
        for (size_t r = 0; r < len; ++r) at(r) = run[r];
      }
  });
}

Result<PruneSpec> parse_prune_spec(const std::string& text) {
  PruneSpec s;
  const size_t colon = text.find(':');
  char* end = nullptr;
  if (colon != std::string::npos) {
    const std::string a = text.substr(0, colon), b = text.substr(colon + 1);
    const long n = std::strtol(a.c_str(), &end, 10);
    const bool ok_n = !a.empty() && *end == '\0';
    const long m = std::strtol(b.c_str(), &end, 10);
    if (!ok_n || b.empty() || *end != '\0' || n < 0 || m < 1 || n > m || m > 64)
      return invalid_argument("--prune " + text + ": expected N:M with 0 <= N <= M <= 64, e.g. 2:4");
    s.n_m = true, s.n = static_cast<int>(n), s.m = static_cast<int>(m);
    return s;
  }
  s.sparsity = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || !(s.sparsity >= 0.0 && s.sparsity <= 1.0))
    return invalid_argument("--prune " + text + ": expected a sparsity in [0, 1] (e.g. 0.5) or N:M (e.g. 2:4)");
  return s;
}

}  // namespace kiln
