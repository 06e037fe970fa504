#include "compress/compare.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>


namespace kiln {

Result<TensorMap> make_inputs(const std::vector<TensorDesc>& inputs, const std::map<std::string, Dims>& dims,
                              uint64_t seed) {
  std::mt19937_64 rng(seed);
  TensorMap feeds;
  for (const TensorDesc& d : inputs) {
    Dims shape;
    if (auto it = dims.find(d.name); it != dims.end()) {
      shape = it->second;
    } else {
      for (const Dim& dim : d.shape) shape.push_back(dim.fixed() ? dim.size : 1);
    }
    KILN_ASSIGN_OR_RETURN(Tensor t, Tensor::make(d.dtype, shape));
    const int64_t n = t.size();
    switch (d.dtype) {
      case DType::kF32: {
        std::uniform_real_distribution<float> u(0.f, 1.f);
        for (int64_t i = 0; i < n; ++i) t.mutable_data<float>()[i] = u(rng);
        break;
      }
      case DType::kI64:
        for (int64_t i = 0; i < n; ++i) t.mutable_data<int64_t>()[i] = static_cast<int64_t>(rng() % 8);
        break;
      case DType::kI32:
        for (int64_t i = 0; i < n; ++i) t.mutable_data<int32_t>()[i] = static_cast<int32_t>(rng() % 8);
        break;
      case DType::kBool:
      case DType::kU8:
      case DType::kI8:
        std::fill_n(static_cast<uint8_t*>(t.mutable_raw()), n, uint8_t{0});
        break;
      default:
        return unsupported("input '" + d.name + "': cannot make test data of dtype " + dtype_name(d.dtype) +
                           "; compare on real inputs instead");
    }
    feeds[d.name] = std::move(t);
  }
  return feeds;
}

namespace {

struct Accum {
  double max_abs = 0, sum_abs = 0, sum_ref2 = 0, sum_err2 = 0;
  int64_t count = 0;
};

}  // namespace

Result<CompareReport> compare_sessions(Session& ref, Session& test, const CompareOptions& o) {
  if (ref.inputs().size() != test.inputs().size() || ref.outputs().size() != test.outputs().size())
    return invalid_argument("the two models have different inputs or outputs");
  std::map<std::string, Accum> acc;
  std::map<std::string, std::string> exact;
  TensorMap last;
  for (int r = 0; r < std::max(o.runs, 1); ++r) {
    KILN_ASSIGN_OR_RETURN(TensorMap feeds, make_inputs(ref.inputs(), o.input_dims, o.seed + uint64_t(r)));
    const std::string which = " (input set " + std::to_string(r + 1) + ")";
    auto a = ref.run(feeds);
    if (!a.ok()) return a.status().with_context("the original model" + which);
    auto b = test.run(feeds);
    if (!b.ok()) return b.status().with_context("the compressed model" + which);
    for (const TensorDesc& d : ref.outputs()) {
      const Tensor& x = a->at(d.name);
      auto it = b->find(d.name);
      if (it == b->end()) return invalid_argument("the compressed model has no output '" + d.name + "'");
      const Tensor& y = it->second;
      if (x.dims() != y.dims() || x.dtype() != y.dtype())
        return invalid_argument("output '" + d.name + "': " + dims_to_string(x.dims()) + " vs " +
                                dims_to_string(y.dims()) + " in the compressed model");
      if (x.dtype() != DType::kF32) {
        bool same = x.bytes() == y.bytes() && std::equal(static_cast<const uint8_t*>(x.raw()),
                                                         static_cast<const uint8_t*>(x.raw()) + x.bytes(),
                                                         static_cast<const uint8_t*>(y.raw()));
        if (!same) exact[d.name] = "differs";
        else exact.emplace(d.name, "equal");
        continue;
      }
      Accum& s = acc[d.name];
      for (int64_t i = 0; i < x.size(); ++i) {
        const double u = x.data<float>()[i], e = std::fabs(u - double(y.data<float>()[i]));
        s.max_abs = std::max(s.max_abs, std::isnan(e) ? std::numeric_limits<double>::infinity() : e);
        s.sum_abs += e;
        s.sum_ref2 += u * u;
        s.sum_err2 += e * e;
      }
      s.count += x.size();
    }
    last = std::move(feeds);
  }
  CompareReport rep;
  for (const TensorDesc& d : ref.outputs()) {
    if (auto it = exact.find(d.name); it != exact.end()) {
      rep.exact.push_back(d.name + ": " + it->second);
      continue;
    }
    const Accum& s = acc[d.name];
    OutputError e;
    e.name = d.name;
    e.count = s.count;
    e.max_abs = s.max_abs;
    e.mean_abs = s.count ? s.sum_abs / double(s.count) : 0;
    e.snr_db = s.sum_err2 == 0 ? std::numeric_limits<double>::infinity() : 10 * std::log10(s.sum_ref2 / s.sum_err2);
    rep.outputs.push_back(e);
  }
  if (o.latency_runs > 0) {
    KILN_ASSIGN_OR_RETURN(rep.latency, time_sessions(ref, test, last, o.latency_runs));
  }
  return rep;
}

}  // namespace kiln
