#include "graph/passes/transpose_util.h"

#include <cstring>

#include "graph/passes/pass_util.h"

namespace kiln {

std::optional<Perm> perm_of(const Model& m, const Node& t) {
  if (t.op_type != "Transpose" || !t.domain.empty() || t.num_inputs() != 1 || t.outputs.size() != 1) return std::nullopt;
  auto p = t.attr_ints("perm", Perm{});
  if (!p.ok()) return std::nullopt;
  if (p->empty()) {  // default: reverse, needs the rank
    const int r = known_rank(m, t.inputs[0]);
    if (r < 0) return std::nullopt;
    for (int i = r - 1; i >= 0; --i) p->push_back(i);
  }
  std::vector<bool> seen(p->size(), false);
  for (int64_t v : *p) {
    if (v < 0 || v >= static_cast<int64_t>(p->size()) || seen[static_cast<size_t>(v)]) return std::nullopt;
    seen[static_cast<size_t>(v)] = true;
  }
  return *p;
}

Perm compose(const Perm& p, const Perm& q) {
  Perm r(q.size());
  for (size_t j = 0; j < q.size(); ++j) r[j] = p[static_cast<size_t>(q[j])];
  return r;
}

bool is_identity(const Perm& p) {
  for (size_t i = 0; i < p.size(); ++i)
    if (p[i] != static_cast<int64_t>(i)) return false;
  return true;
}

Perm inverse(const Perm& p) {
  Perm r(p.size());
  for (size_t i = 0; i < p.size(); ++i) r[static_cast<size_t>(p[i])] = static_cast<int64_t>(i);
  return r;
}

Tensor untranspose_constant(const Tensor& c, const Perm& p) {
  const size_t r = p.size();
  Dims cd(r - static_cast<size_t>(c.rank()), 1);
  for (int64_t d : c.dims()) cd.push_back(d);
  const Perm inv = inverse(p);
  Dims od(r);
  for (size_t i = 0; i < r; ++i) od[i] = cd[static_cast<size_t>(inv[i])];
  Tensor out = Tensor::make(c.dtype(), od).value();
  std::vector<int64_t> cstride(r, 1);
  for (size_t i = r - 1; i-- > 0;) cstride[i] = cstride[i + 1] * cd[i + 1];
  const size_t es = dtype_size(c.dtype());
  const uint8_t* src = static_cast<const uint8_t*>(c.raw());
  uint8_t* dst = static_cast<uint8_t*>(out.mutable_raw());
  Dims idx(r, 0);
  for (int64_t o = 0; o < out.size(); ++o) {
    int64_t off = 0;
    for (size_t i = 0; i < r; ++i) off += idx[i] * cstride[static_cast<size_t>(inv[i])];
    std::memcpy(dst + static_cast<size_t>(o) * es, src + static_cast<size_t>(off) * es, es);
    for (size_t i = r; i-- > 0;) {
      if (++idx[i] < od[i]) break;
      idx[i] = 0;
    }
  }
  return out;
}

}  // namespace kiln
