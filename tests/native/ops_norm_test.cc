// BatchNormalization (inference), InstanceNormalization and LayerNormalization through
// the Op interface, against the defining formulas evaluated here in double.
#include "ops_nn_test_util.h"

namespace kiln::nntest {
namespace {

// y = (x - mean) / sqrt(var + eps) * scale + bias, per channel of [N, C, inner].
std::vector<float> batchnorm_ref(const Tensor& x, const std::vector<float>& s, const std::vector<float>& b,
                                 const std::vector<float>& m, const std::vector<float>& v, float eps) {
  if (x.size() == 0) return {};
  const int64_t n = x.dim(0), c = x.dim(1), inner = x.size() / (n * c);
  std::vector<float> y(static_cast<size_t>(x.size()));
  for (int64_t i = 0; i < x.size(); ++i) {
    const size_t ch = static_cast<size_t>((i / inner) % c);
    y[static_cast<size_t>(i)] =
        static_cast<float>((x.data<float>()[i] - m[ch]) / std::sqrt(double(v[ch]) + eps) * s[ch] + b[ch]);
  }
  return y;
}

TEST(OpsNnNorm, BatchNormOnnxDocExample) {
  Tensor x = f32({-1, 0, 1, 2, 3, 4}, {1, 2, 1, 3});
  auto r = run_op(OpCall{"BatchNormalization", {}, {x, f32({1, 1.5f}, {2}), f32({0, 1}, {2}), f32({0, 3}, {2}), f32({1, 1.5f}, {2})}, 9});
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  // Channel 0: x / sqrt(1 + 1e-5); channel 1: (x - 3) / sqrt(1.5 + 1e-5) * 1.5 + 1.
  const float a = 1.f / std::sqrt(1.00001f), c = 1.5f / std::sqrt(1.50001f);
  expect_near_all(r.value()[0], {1, 2, 1, 3}, {-a, 0, a, 1 - c, 1, 1 + c});
}

TEST(OpsNnNorm, BatchNormRanksAndEpsilon) {
  uint32_t seed = 500;
  for (const Dims& d : {Dims{3, 4}, Dims{2, 3, 7}, Dims{2, 3, 4, 5}, Dims{1, 2, 2, 3, 2}, Dims{0, 3, 2}}) {
    SCOPED_TRACE(dims_to_string(d));
    const int64_t c = d[1];
    Tensor x = random_tensor(d, seed += 5);
    std::vector<float> s = random_values(c, seed + 1), b = random_values(c, seed + 2), m = random_values(c, seed + 3),
                       v = random_values(c, seed + 4);
    for (float& e : v) e = std::fabs(e) + 0.1f;
    auto r = run_op(OpCall{"BatchNormalization", {{"epsilon", attr_f(1e-3f)}, {"momentum", attr_f(0.9f)}},
                           {x, f32(s, {c}), f32(b, {c}), f32(m, {c}), f32(v, {c})}, 15});
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    expect_near_all(r.value()[0], d, batchnorm_ref(x, s, b, m, v, 1e-3f));
  }
}

TEST(OpsNnNorm, BatchNormSpatialZeroBeforeOpset9) {
  // spatial=0: one set of parameters per activation (C x H x W), i.e. channels = C*H*W.
  Dims d = {2, 2, 3, 1};
  Tensor x = random_tensor(d, 11);
  std::vector<float> s = random_values(6, 12), b = random_values(6, 13), m = random_values(6, 14), v(6, 0.5f);
  auto r = run_op(OpCall{"BatchNormalization", {{"spatial", attr_i(0)}},
                         {x, f32(s, {2, 3, 1}), f32(b, {2, 3, 1}), f32(m, {2, 3, 1}), f32(v, {2, 3, 1})}, 7});
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  Tensor flat = x.reshaped({2, 6}).value();
  expect_near_all(r.value()[0], d, batchnorm_ref(flat, s, b, m, v, 1e-5f));
}

TEST(OpsNnNorm, BatchNormErrors) {
  Tensor x = random_tensor({1, 3, 2, 2}, 1), p = random_tensor({3}, 2), bad = random_tensor({4}, 3);
  expect_error(OpCall{"BatchNormalization", {}, {x, p, p, p, bad}}, "input_var must have shape [3]");
  expect_error(OpCall{"BatchNormalization", {}, {random_tensor({3}, 1), p, p, p, p}}, "rank >= 2");
  expect_error(OpCall{"BatchNormalization", {{"training_mode", attr_i(1)}}, {x, p, p, p, p}, 15}, "training_mode");
  OpCall train{"BatchNormalization", {}, {x, p, p, p, p}, 9};
  train.outputs = 3;
  expect_error(train, "training outputs");
  expect_error(OpCall{"BatchNormalization", {}, {x, p, p, p}}, "expects 5 inputs");
  // spatial is an opset < 9 attribute; per-activation shapes are rejected in spatial mode.
  expect_error(OpCall{"BatchNormalization", {}, {x, random_tensor({3, 2, 2}, 4), p, p, p}, 9}, "scale must have shape [3]");
}

TEST(OpsNnNorm, InstanceNorm) {
  for (const Dims& d : {Dims{1, 2, 1, 3}, Dims{2, 3, 4, 5}, Dims{2, 2, 7}}) {
    SCOPED_TRACE(dims_to_string(d));
    const int64_t n = d[0], c = d[1], plane = num_elements(d) / (n * c);
    Tensor x = random_tensor(d, 21);
    std::vector<float> s = random_values(c, 22), b = random_values(c, 23);
    auto r = run_op(OpCall{"InstanceNormalization", {{"epsilon", attr_f(1e-2f)}}, {x, f32(s, {c}), f32(b, {c})}});
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    std::vector<float> want;
    for (int64_t p = 0; p < n * c; ++p) {
      const float* xp = x.data<float>() + p * plane;
      double mean = 0, var = 0;
      for (int64_t i = 0; i < plane; ++i) mean += xp[i];
      mean /= plane;
      for (int64_t i = 0; i < plane; ++i) var += (xp[i] - mean) * (xp[i] - mean);
      var /= plane;
      for (int64_t i = 0; i < plane; ++i)
        want.push_back(static_cast<float>((xp[i] - mean) / std::sqrt(var + 1e-2) * s[p % c] + b[p % c]));
    }
    expect_near_all(r.value()[0], d, want);
  }
  expect_error(OpCall{"InstanceNormalization", {}, {random_tensor({1, 3, 4}, 1), random_tensor({2}, 1), random_tensor({3}, 1)}},
               "scale");
  expect_error(OpCall{"InstanceNormalization", {}, {random_tensor({3, 4}, 1), random_tensor({4}, 1), random_tensor({4}, 1)}},
               "rank >= 3");
}

// LayerNorm over dims [axis, rank) with scale/bias broadcast to those dims.
void check_layernorm(const Dims& d, int64_t axis, const Dims& scale_dims, bool with_bias, bool stats) {
  SCOPED_TRACE(dims_to_string(d) + " axis " + std::to_string(axis) + " scale " + dims_to_string(scale_dims));
  const int64_t a = axis < 0 ? axis + static_cast<int64_t>(d.size()) : axis;
  const Dims norm(d.begin() + a, d.end());
  const int64_t n = num_elements(norm), rows = num_elements(d) / n;
  Tensor x = random_tensor(d, 31), s = random_tensor(scale_dims, 32), b = random_tensor(scale_dims, 33);
  OpCall c{"LayerNormalization", {{"axis", attr_i(axis)}, {"epsilon", attr_f(1e-4f)}}, {x, s}, 17};
  if (with_bias) c.inputs.push_back(b);
  if (stats) c.outputs = 3;
  auto r = run_op(c);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  // Normalized element j -> its coordinates over `norm` -> offset in the right-aligned,
  // broadcast scale/bias tensor.
  auto param = [&](const Tensor& t, int64_t j) {
    std::vector<int64_t> coord(norm.size());
    for (size_t k = norm.size(); k-- > 0;) {
      coord[k] = j % norm[k];
      j /= norm[k];
    }
    int64_t off = 0;
    const size_t lead = norm.size() - scale_dims.size();
    for (size_t k = 0; k < scale_dims.size(); ++k) off = off * scale_dims[k] + (scale_dims[k] == 1 ? 0 : coord[lead + k]);
    return t.data<float>()[off];
  };
  std::vector<float> want, means, inv_stds;
  for (int64_t row = 0; row < rows; ++row) {
    const float* xr = x.data<float>() + row * n;
    double mean = 0, var = 0;
    for (int64_t j = 0; j < n; ++j) mean += xr[j];
    mean /= n;
    for (int64_t j = 0; j < n; ++j) var += (xr[j] - mean) * (xr[j] - mean);
    var /= n;
    const double inv = 1 / std::sqrt(var + 1e-4);
    for (int64_t j = 0; j < n; ++j)
      want.push_back(static_cast<float>((xr[j] - mean) * inv * param(s, j) + (with_bias ? param(b, j) : 0.f)));
    means.push_back(static_cast<float>(mean));
    inv_stds.push_back(static_cast<float>(inv));
  }
  expect_near_all(r.value()[0], d, want, 1e-4f);
  if (stats) {
    Dims sd = d;
    for (size_t k = static_cast<size_t>(a); k < sd.size(); ++k) sd[k] = 1;
    expect_near_all(r.value()[1], sd, means, 1e-4f);
    expect_near_all(r.value()[2], sd, inv_stds, 1e-4f);
  }
}

TEST(OpsNnNorm, LayerNorm) {
  check_layernorm({2, 3, 8}, -1, {8}, true, false);
  check_layernorm({2, 3, 8}, 1, {3, 8}, true, true);
  check_layernorm({2, 3, 8}, 1, {8}, false, false);        // scale broadcast over the 3
  check_layernorm({2, 3, 8}, -2, {3, 1}, true, false);     // broadcast along the last dim
  check_layernorm({4, 5}, 0, {4, 5}, true, true);           // everything in one row
  check_layernorm({1, 6, 2, 3}, 2, {2, 3}, true, true);
}

TEST(OpsNnNorm, LayerNormOptionalOutputsOmitted) {
  OpCall c{"LayerNormalization", {}, {random_tensor({2, 4}, 1), random_tensor({4}, 2)}, 17};
  c.outputs = 3;
  c.omit_outputs = {false, true, false};  // Mean omitted, InvStdDev wanted
  auto r = run_op(c);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(dims_to_string(r.value()[2].dims()), "[2,1]");
}

TEST(OpsNnNorm, LayerNormErrors) {
  Tensor x = random_tensor({2, 3, 4}, 1);
  expect_error(OpCall{"LayerNormalization", {{"axis", attr_i(3)}}, {x, random_tensor({4}, 2)}, 17}, "axis 3 is out of range");
  expect_error(OpCall{"LayerNormalization", {}, {x, random_tensor({3}, 2)}, 17}, "does not broadcast");
  expect_error(OpCall{"LayerNormalization", {}, {x, random_tensor({4}, 2), random_tensor({2, 4}, 2)}, 17}, "B [2,4]");
  expect_error(OpCall{"LayerNormalization", {{"stash_type", attr_i(0)}}, {x, random_tensor({4}, 2)}, 17}, "stash_type");
}

}  // namespace
}  // namespace kiln::nntest
