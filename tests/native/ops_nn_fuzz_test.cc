// Robustness: every neural-network op is fed thousands of random, mostly invalid calls
// (ranks, sizes including 0, omitted inputs, wrong dtypes, hostile attribute values and
// opsets). Each call must end in a result or an error Status, never a crash; run under
// ASan/UBSan this also checks memory safety. Valid calls are counted so the generator is
// known to reach the kernels, not just the validation.
#include <random>

#include "ops_nn_test_util.h"

namespace kiln::nntest {
namespace {

class Fuzzer {
 public:
  explicit Fuzzer(uint32_t seed) : rng_(seed) {}

  int pick(int n) { return static_cast<int>(rng_() % static_cast<uint32_t>(n)); }
  bool coin(int percent) { return pick(100) < percent; }

  // Mostly small sizes, sometimes 0.
  Dims dims(int max_rank) {
    Dims d(static_cast<size_t>(pick(max_rank + 1)));
    for (int64_t& x : d) x = coin(8) ? 0 : 1 + pick(5);
    return d;
  }

  int64_t value() {
    static const int64_t kValues[] = {-3, -1, 0, 0, 1, 1, 1, 2, 2, 3, 4, 7, int64_t{1} << 40};
    return kValues[pick(sizeof(kValues) / sizeof(kValues[0]))];
  }
  std::vector<int64_t> ints() {
    std::vector<int64_t> v(static_cast<size_t>(pick(7)));
    for (int64_t& x : v) x = value();
    return v;
  }
  std::vector<float> floats() {
    static const float kValues[] = {-1.f, 0.f, 0.5f, 1.f, 1.f, 2.f, 3.f, 1e30f, std::nanf("")};
    std::vector<float> v(static_cast<size_t>(pick(6)));
    for (float& x : v) x = kValues[pick(sizeof(kValues) / sizeof(kValues[0]))];
    return v;
  }
  std::string string() {
    static const char* kValues[] = {"",          "NOTSET",      "SAME_UPPER",     "SAME_LOWER",   "VALID",
                                    "nearest",   "linear",      "cubic",          "half_pixel",   "asymmetric",
                                    "align_corners", "floor",   "ceil",           "not_larger",   "bogus"};
    return kValues[pick(sizeof(kValues) / sizeof(kValues[0]))];
  }

  Attribute attribute(const std::string& name) {
    if (name == "auto_pad" || name == "mode" || name == "coordinate_transformation_mode" || name == "nearest_mode" ||
        name == "keep_aspect_ratio_policy")
      return coin(90) ? attr_s(string()) : attr_i(value());
    if (name == "epsilon" || name == "alpha" || name == "beta" || name == "cubic_coeff_a") {
      const std::vector<float> f = floats();
      return attr_f(f.empty() ? 0.f : f[0]);
    }
    if (name == "scales") return attr_floats(floats());
    if (name == "kernel_shape" || name == "strides" || name == "dilations" || name == "pads" ||
        name == "output_padding" || name == "output_shape" || name == "axes")
      return coin(95) ? attr_ints(ints()) : attr_i(value());
    return attr_i(value());
  }

  Tensor tensor() {
    const Dims d = dims(5);
    if (coin(10)) {
      std::vector<int64_t> v(static_cast<size_t>(num_elements(d)));
      for (int64_t& x : v) x = value() % 9;
      return i64(v, d);
    }
    return random_tensor(d, static_cast<uint32_t>(rng_()));
  }

 private:
  std::mt19937 rng_;
};

// Inputs of the right count and roughly the right shapes for the op, so that a good
// share of calls pass validation and reach the kernels (attributes stay random).
void plausible_inputs(Fuzzer& f, const std::string& op, OpCall* c) {
  const int64_t ch = 1 + f.pick(4);
  Dims x = {1 + f.pick(2), ch};
  for (int r = f.pick(3) + 1; r > 0; --r) x.push_back(1 + f.pick(7));
  auto vec = [&](int64_t n) { return random_tensor({n}, static_cast<uint32_t>(f.pick(1000))); };
  c->inputs = {random_tensor(x, 1)};
  if (op == "Conv" || op == "ConvTranspose") {
    Dims w = {op == "Conv" ? 1 + f.pick(3) : ch, op == "Conv" ? ch : 1 + f.pick(3)};
    for (size_t r = 2; r < x.size(); ++r) w.push_back(1 + f.pick(3));
    c->inputs.push_back(random_tensor(w, 2));
    if (f.coin(50)) c->inputs.push_back(vec(op == "Conv" ? w[0] : w[1]));
  } else if (op == "BatchNormalization") {
    for (int i = 0; i < 4; ++i) c->inputs.push_back(vec(ch));
  } else if (op == "InstanceNormalization") {
    c->inputs.push_back(vec(ch));
    c->inputs.push_back(vec(ch));
  } else if (op == "LayerNormalization") {
    c->inputs.push_back(vec(x.back()));
    if (f.coin(50)) c->inputs.push_back(vec(x.back()));
  } else if (op == "MatMul" || op == "Gemm") {
    const int64_t m = 1 + f.pick(4), k = f.pick(4), n = 1 + f.pick(4);
    c->inputs = {random_tensor({m, k}, 3), random_tensor({k, n}, 4)};
    if (op == "Gemm" && f.coin(50)) c->inputs.push_back(vec(n));
  } else if (op == "Resize" || op == "Upsample") {
    std::vector<float> sc;
    for (size_t i = 0; i < x.size(); ++i) sc.push_back(i < 2 ? 1.f : 0.5f * static_cast<float>(1 + f.pick(5)));
    const Tensor scales = f32(sc, {static_cast<int64_t>(sc.size())});
    if (op == "Upsample" || c->opset < 11) c->inputs.push_back(scales);
    else c->inputs.insert(c->inputs.end(), {Tensor::make(DType::kF32, {0}).value(), scales});
  }
}

TEST(OpsNnFuzz, RandomCallsNeverCrash) {
  static const char* kOps[] = {"Conv", "ConvTranspose", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool",
                               "BatchNormalization", "InstanceNormalization", "LayerNormalization", "MatMul", "Gemm",
                               "Softmax", "LogSoftmax", "Resize", "Upsample"};
  static const char* kAttrs[] = {"auto_pad", "kernel_shape", "strides", "dilations", "pads", "group", "ceil_mode",
                                 "count_include_pad", "output_padding", "output_shape", "epsilon", "spatial",
                                 "training_mode", "axis", "stash_type", "transA", "transB", "alpha", "beta", "mode",
                                 "coordinate_transformation_mode", "nearest_mode", "cubic_coeff_a", "exclude_outside",
                                 "scales", "axes", "keep_aspect_ratio_policy", "antialias"};
  static const int64_t kOpsets[] = {7, 8, 9, 10, 11, 12, 13, 17, 18, 19};
  Fuzzer f(2024);
  int ok = 0, total = 0;
  for (const char* op : kOps) {
    for (int iter = 0; iter < 1500; ++iter) {
      OpCall c{op, {}, {}, kOpsets[f.pick(10)]};
      const int n_attrs = f.pick(4);
      for (int i = 0; i < n_attrs; ++i) {
        const std::string name = kAttrs[f.pick(sizeof(kAttrs) / sizeof(kAttrs[0]))];
        c.attrs[name] = f.attribute(name);
      }
      const int n_in = f.pick(6);
      for (int i = 0; i < n_in; ++i) {
        if (f.coin(10)) c.inputs.push_back(std::nullopt);
        else c.inputs.push_back(f.tensor());
      }
      if (f.coin(50)) plausible_inputs(f, op, &c);
      c.outputs = 1 + static_cast<size_t>(f.pick(3));
      c.inputs_constant = f.coin(50);
      c.infer_without_values = f.coin(20);
      auto r = run_op(c);
      ok += r.ok();
      ++total;
    }
  }
  // The generator must reach the kernels often enough to mean something.
  EXPECT_GT(ok, total / 50) << ok << " of " << total << " calls succeeded";
}

}  // namespace
}  // namespace kiln::nntest
