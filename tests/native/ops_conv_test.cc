// Conv and ConvTranspose through the Op interface: hand-worked cases from the ONNX
// operator docs, random cases against a naive gather/scatter written here, the
// Conv/ConvTranspose adjoint identity, and error cases.
#include "ops_nn_test_util.h"

namespace kiln::nntest {
namespace {

// Row-major multi-index of linear index i over dims.
std::vector<int64_t> unravel(int64_t i, const Dims& dims) {
  std::vector<int64_t> idx(dims.size());
  for (size_t d = dims.size(); d-- > 0;) {
    idx[d] = i % dims[d];
    i /= dims[d];
  }
  return idx;
}
int64_t ravel(const std::vector<int64_t>& idx, const Dims& dims) {
  int64_t i = 0;
  for (size_t d = 0; d < dims.size(); ++d) i = i * dims[d] + idx[d];
  return i;
}

struct Geo {
  int64_t group = 1;
  std::vector<int64_t> strides, dilations, pad_begin;
};

// Gather form: every output element sums its receptive field directly.
std::vector<float> naive_conv(const Tensor& x, const Tensor& w, const std::vector<float>* bias, const Geo& g,
                              const Dims& y_dims) {
  const size_t r = x.dims().size() - 2;
  const int64_t cg = w.dim(1), mg = w.dim(0) / g.group;
  Dims kdims(w.dims().begin() + 2, w.dims().end());
  std::vector<float> y(static_cast<size_t>(num_elements(y_dims)));
  for (int64_t i = 0; i < num_elements(y_dims); ++i) {
    auto o = unravel(i, y_dims);
    const int64_t n = o[0], m = o[1], grp = m / mg;
    double acc = bias ? (*bias)[static_cast<size_t>(m)] : 0.0;
    for (int64_t c = 0; c < cg; ++c)
      for (int64_t t = 0; t < num_elements(kdims); ++t) {
        auto k = unravel(t, kdims);
        std::vector<int64_t> xi = {n, grp * cg + c};
        bool inside = true;
        for (size_t d = 0; d < r; ++d) {
          const int64_t p = o[d + 2] * g.strides[d] - g.pad_begin[d] + k[d] * g.dilations[d];
          inside = inside && p >= 0 && p < x.dim(static_cast<int64_t>(d) + 2);
          xi.push_back(p);
        }
        if (!inside) continue;
        std::vector<int64_t> wi = {m, c};
        wi.insert(wi.end(), k.begin(), k.end());
        acc += static_cast<double>(x.data<float>()[ravel(xi, x.dims())]) * w.data<float>()[ravel(wi, w.dims())];
      }
    y[static_cast<size_t>(i)] = static_cast<float>(acc);
  }
  return y;
}

// Scatter form: every input element spreads over the output through each tap.
std::vector<float> naive_conv_transpose(const Tensor& x, const Tensor& w, const std::vector<float>* bias,
                                        const Geo& g, const Dims& y_dims) {
  const size_t r = x.dims().size() - 2;
  const int64_t cg = x.dim(1) / g.group, mg = w.dim(1);
  Dims kdims(w.dims().begin() + 2, w.dims().end());
  std::vector<double> y(static_cast<size_t>(num_elements(y_dims)));
  for (int64_t i = 0; i < num_elements(y_dims); ++i)
    y[static_cast<size_t>(i)] = bias ? (*bias)[static_cast<size_t>(unravel(i, y_dims)[1])] : 0.0;
  for (int64_t i = 0; i < x.size(); ++i) {
    auto xi = unravel(i, x.dims());
    const int64_t n = xi[0], c = xi[1], grp = c / cg;
    for (int64_t m = 0; m < mg; ++m)
      for (int64_t t = 0; t < num_elements(kdims); ++t) {
        auto k = unravel(t, kdims);
        std::vector<int64_t> yi = {n, grp * mg + m};
        bool inside = true;
        for (size_t d = 0; d < r; ++d) {
          const int64_t p = xi[d + 2] * g.strides[d] - g.pad_begin[d] + k[d] * g.dilations[d];
          inside = inside && p >= 0 && p < y_dims[d + 2];
          yi.push_back(p);
        }
        if (!inside) continue;
        std::vector<int64_t> wi = {c, m};
        wi.insert(wi.end(), k.begin(), k.end());
        y[static_cast<size_t>(ravel(yi, y_dims))] +=
            static_cast<double>(x.data<float>()[i]) * w.data<float>()[ravel(wi, w.dims())];
      }
  }
  return std::vector<float>(y.begin(), y.end());
}

std::vector<float> iota(size_t n) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<float>(i);
  return v;
}

// ---------------------------------------------------------------- Conv, hand-worked

TEST(OpsNnConv, OnnxDocBasicWithAndWithoutPadding) {
  Tensor x = f32(iota(25), {1, 1, 5, 5});
  Tensor w = f32(std::vector<float>(9, 1.f), {1, 1, 3, 3});
  OpCall c{"Conv", {{"kernel_shape", attr_ints({3, 3})}, {"pads", attr_ints({1, 1, 1, 1})}}, {x, w}};
  auto r = run_op(c);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  expect_near_all(r.value()[0], {1, 1, 5, 5},
                  {12, 21, 27, 33, 24, 33, 54, 63, 72, 51, 63, 99, 108, 117, 81, 93, 144, 153, 162, 111, 72, 111, 117,
                   123, 84});
  c.attrs["pads"] = attr_ints({0, 0, 0, 0});
  r = run_op(c);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  expect_near_all(r.value()[0], {1, 1, 3, 3}, {54, 63, 72, 99, 108, 117, 144, 153, 162});
}

TEST(OpsNnConv, OnnxDocStridesAndAsymmetricPadding) {
  Tensor x = f32(iota(35), {1, 1, 7, 5});
  Tensor w = f32(std::vector<float>(9, 1.f), {1, 1, 3, 3});
  OpCall c{"Conv", {{"pads", attr_ints({1, 1, 1, 1})}, {"strides", attr_ints({2, 2})}}, {x, w}};
  auto r = run_op(c);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  expect_near_all(r.value()[0], {1, 1, 4, 3}, {12, 27, 24, 63, 108, 81, 123, 198, 141, 112, 177, 124});
  c.attrs["pads"] = attr_ints({1, 0, 1, 0});
  r = run_op(c);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  expect_near_all(r.value()[0], {1, 1, 4, 2}, {21, 33, 99, 117, 189, 207, 171, 183});
}

// ---------------------------------------------------------------- Conv, random vs naive

struct ConvCase {
  const char* name;
  Dims x, w;
  int64_t group;
  std::vector<int64_t> strides, dilations, pads;  // pads: begin..., end...
  bool bias;
};

void check_conv(const ConvCase& cc, uint32_t seed) {
  SCOPED_TRACE(cc.name);
  const size_t r = cc.x.size() - 2;
  Tensor x = random_tensor(cc.x, seed), w = random_tensor(cc.w, seed + 1);
  std::vector<float> b = random_values(static_cast<size_t>(cc.w[0]), seed + 2);
  OpCall c{"Conv", {{"group", attr_i(cc.group)}, {"strides", attr_ints(cc.strides)},
                    {"dilations", attr_ints(cc.dilations)}, {"pads", attr_ints(cc.pads)}},
           {x, w}};
  if (cc.bias) c.inputs.push_back(f32(b, {cc.w[0]}));
  Geo g{cc.group, cc.strides, cc.dilations, std::vector<int64_t>(cc.pads.begin(), cc.pads.begin() + r)};
  Dims y = {cc.x[0], cc.w[0]};
  for (size_t d = 0; d < r; ++d) {
    const int64_t eff = (cc.w[d + 2] - 1) * cc.dilations[d] + 1;
    y.push_back((cc.x[d + 2] + cc.pads[d] + cc.pads[d + r] - eff) / cc.strides[d] + 1);
  }
  const std::vector<float> want = naive_conv(x, w, cc.bias ? &b : nullptr, g, y);
  // Weights computed at run time take the reference convolution; constant ones are packed
  // for the channels-last kernels (1-D, 2-D and pointwise layers of any rank).
  for (bool constant : {false, true}) {
    SCOPED_TRACE(constant ? "constant weights" : "run-time weights");
    c.inputs_constant = constant;
    auto res = run_op(c);
    ASSERT_TRUE(res.ok()) << res.status().to_string();
    expect_near_all(res.value()[0], y, want);
  }
}

TEST(OpsNnConv, RandomCasesMatchNaive) {
  const ConvCase cases[] = {
      {"2d bias stride2 blazeface-asym-pads", {1, 3, 9, 8}, {5, 3, 3, 3}, 1, {2, 2}, {1, 1}, {0, 0, 1, 1}, true},
      {"2d 5x5 pads 1,1,2,2", {1, 3, 12, 12}, {4, 3, 5, 5}, 1, {2, 2}, {1, 1}, {1, 1, 2, 2}, true},
      {"depthwise 3x3 s2", {2, 4, 7, 6}, {4, 1, 3, 3}, 4, {2, 2}, {1, 1}, {1, 1, 1, 1}, true},
      {"depthwise multiplier 2", {1, 3, 6, 5}, {6, 1, 3, 3}, 3, {1, 1}, {1, 1}, {1, 1, 1, 1}, false},
      {"depthwise 5x5 stride 2,1", {1, 4, 11, 9}, {4, 1, 5, 5}, 4, {2, 1}, {1, 1}, {2, 2, 2, 2}, true},
      {"grouped dilated", {1, 6, 9, 10}, {6, 2, 3, 3}, 3, {1, 1}, {2, 2}, {2, 2, 2, 2}, true},
      {"dilation 2,3 stride 3,2", {1, 2, 13, 11}, {3, 2, 3, 2}, 1, {3, 2}, {2, 3}, {1, 0, 2, 1}, false},
      {"1x1 pointwise", {2, 8, 4, 5}, {6, 8, 1, 1}, 1, {1, 1}, {1, 1}, {0, 0, 0, 0}, true},
      {"1-D k3 p1 s2", {1, 4, 21}, {5, 4, 3}, 1, {2}, {1}, {1, 1}, true},
      {"1-D silero k256 s128", {1, 1, 640}, {6, 1, 256}, 1, {128}, {1}, {0, 0}, false},
      {"1-D dilated grouped", {2, 4, 17}, {8, 2, 3}, 2, {1}, {3}, {2, 1}, true},
      {"3-D", {1, 2, 4, 5, 6}, {3, 2, 2, 3, 2}, 1, {1, 2, 1}, {1, 1, 2}, {1, 0, 1, 0, 1, 1}, true},
      {"kernel larger than stride, pads > 0 everywhere", {1, 1, 3, 3}, {1, 1, 3, 3}, 1, {1, 1}, {1, 1}, {2, 2, 2, 2}, false},
  };
  uint32_t seed = 1;
  for (const ConvCase& cc : cases) check_conv(cc, seed += 10);
}

TEST(OpsNnConv, KernelShapeOptionalAndConsistent) {
  Tensor x = random_tensor({1, 2, 5, 5}, 3), w = random_tensor({3, 2, 3, 3}, 4);
  auto without = run_op(OpCall{"Conv", {}, {x, w}});
  auto with = run_op(OpCall{"Conv", {{"kernel_shape", attr_ints({3, 3})}}, {x, w}});
  ASSERT_TRUE(without.ok() && with.ok());
  expect_near_all(with.value()[0], {1, 3, 3, 3}, values(without.value()[0]), 0.f);
}

TEST(OpsNnConv, AutoPad) {
  Tensor x = random_tensor({1, 2, 6, 7}, 5), w = random_tensor({2, 2, 3, 3}, 6);
  // in 6, stride 2, k 3: out 3, total pad 1; in 7: out 4, total pad 2.
  struct {
    const char* mode;
    std::vector<int64_t> pad_begin;
    Dims y;
  } cases[] = {{"SAME_UPPER", {0, 1}, {1, 2, 3, 4}}, {"SAME_LOWER", {1, 1}, {1, 2, 3, 4}}, {"VALID", {0, 0}, {1, 2, 2, 3}}};
  for (const auto& k : cases) {
    SCOPED_TRACE(k.mode);
    auto r = run_op(OpCall{"Conv", {{"auto_pad", attr_s(k.mode)}, {"strides", attr_ints({2, 2})},
                                    {"pads", attr_ints({5, 5, 5, 5})} /* ignored under auto_pad */},
                           {x, w}});
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    expect_near_all(r.value()[0], k.y, naive_conv(x, w, nullptr, Geo{1, {2, 2}, {1, 1}, k.pad_begin}, k.y));
  }
}

TEST(OpsNnConv, ConstantWeightsAndEmptyBatch) {
  Tensor x = random_tensor({0, 2, 4, 4}, 7), w = random_tensor({3, 2, 3, 3}, 8);
  OpCall c{"Conv", {{"pads", attr_ints({1, 1, 1, 1})}}, {x, w}};
  c.inputs_constant = true;
  auto r = run_op(c);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(dims_to_string(r.value()[0].dims()), "[0,3,4,4]");
}

TEST(OpsNnConv, Errors) {
  Tensor x = random_tensor({1, 4, 5, 5}, 9), w = random_tensor({2, 4, 3, 3}, 10);
  expect_error(OpCall{"Conv", {}, {random_tensor({4, 5}, 1), random_tensor({2, 4}, 2)}}, "rank >= 3");
  expect_error(OpCall{"Conv", {}, {x, random_tensor({2, 4, 3}, 2)}}, "must have the rank of X");
  expect_error(OpCall{"Conv", {}, {x, random_tensor({2, 3, 3, 3}, 2)}}, "channels");
  expect_error(OpCall{"Conv", {{"group", attr_i(3)}}, {x, w}}, "group");
  expect_error(OpCall{"Conv", {{"group", attr_i(0)}}, {x, w}}, "group must be positive");
  expect_error(OpCall{"Conv", {{"group", attr_i(2)}}, {x, random_tensor({3, 2, 3, 3}, 2)}}, "not divisible by group");
  expect_error(OpCall{"Conv", {}, {x, w, random_tensor({3}, 3)}}, "bias B must have shape [2]");
  expect_error(OpCall{"Conv", {{"kernel_shape", attr_ints({2, 2})}}, {x, w}}, "kernel_shape");
  expect_error(OpCall{"Conv", {{"pads", attr_ints({1, 1})}}, {x, w}}, "pads has 2 values, expected 4");
  expect_error(OpCall{"Conv", {{"pads", attr_ints({-1, 0, 0, 0})}}, {x, w}}, "non-negative");
  expect_error(OpCall{"Conv", {{"strides", attr_ints({0, 1})}}, {x, w}}, "strides must be positive");
  expect_error(OpCall{"Conv", {{"dilations", attr_ints({1})}}, {x, w}}, "dilations has 1 values");
  expect_error(OpCall{"Conv", {{"auto_pad", attr_s("SAME")}}, {x, w}}, "auto_pad 'SAME'");
  expect_error(OpCall{"Conv", {{"strides", attr_s("2")}}, {x, w}}, "should be ints");
  expect_error(OpCall{"Conv", {}, {random_tensor({1, 4, 2, 2}, 1), w}}, "does not fit");
  expect_error(OpCall{"Conv", {}, {Tensor::from_i64(std::vector<int64_t>(100), {1, 4, 5, 5}), w}}, "float32");
  expect_error(OpCall{"Conv", {}, {x}}, "expects 2..3 inputs");
  expect_error(OpCall{"Conv", {}, {random_tensor({1, 1, 2, 2, 2, 2, 2, 2, 2}, 1), random_tensor({1, 1, 1, 1, 1, 1, 1, 1, 1}, 2)}},
               "spatial dims");
}

// ---------------------------------------------------------------- ConvTranspose

TEST(OpsNnConvTranspose, OnnxDocExample) {
  Tensor x = f32(iota(9), {1, 1, 3, 3});
  Tensor w = f32(std::vector<float>(18, 1.f), {1, 2, 3, 3});
  auto r = run_op(OpCall{"ConvTranspose", {}, {x, w}});
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  const std::vector<float> plane = {0, 1, 3, 3, 2, 3, 8, 15, 12, 7, 9, 21, 36, 27, 15, 9, 20, 33, 24, 13, 6, 13, 21, 15, 8};
  std::vector<float> want = plane;
  want.insert(want.end(), plane.begin(), plane.end());
  expect_near_all(r.value()[0], {1, 2, 5, 5}, want);
}

struct ConvTCase {
  const char* name;
  Dims x, w;
  int64_t group;
  std::vector<int64_t> strides, dilations, pads, output_padding;
  bool bias;
};

TEST(OpsNnConvTranspose, RandomCasesMatchNaiveScatter) {
  const ConvTCase cases[] = {
      {"detector 2x2 stride 2", {1, 4, 5, 6}, {4, 3, 2, 2}, 1, {2, 2}, {1, 1}, {0, 0, 0, 0}, {0, 0}, true},
      {"3x3 s2 pads output_padding", {2, 3, 4, 5}, {3, 2, 3, 3}, 1, {2, 2}, {1, 1}, {1, 1, 1, 1}, {1, 1}, true},
      {"grouped dilated", {1, 4, 5, 4}, {4, 3, 3, 2}, 2, {1, 2}, {2, 1}, {1, 0, 2, 1}, {0, 1}, false},
      {"depthwise", {1, 3, 4, 4}, {3, 1, 3, 3}, 3, {2, 2}, {1, 1}, {0, 0, 0, 0}, {0, 0}, true},
      {"1-D", {1, 2, 7}, {2, 3, 4}, 1, {3}, {1}, {1, 2}, {2}, true},
      {"3-D", {1, 2, 3, 2, 3}, {2, 2, 2, 2, 3}, 1, {2, 1, 2}, {1, 2, 1}, {0, 1, 0, 0, 0, 1}, {1, 0, 0}, false},
  };
  uint32_t seed = 100;
  for (const ConvTCase& cc : cases) {
    SCOPED_TRACE(cc.name);
    const size_t r = cc.x.size() - 2;
    seed += 10;
    Tensor x = random_tensor(cc.x, seed), w = random_tensor(cc.w, seed + 1);
    const int64_t m = cc.w[1] * cc.group;
    std::vector<float> b = random_values(static_cast<size_t>(m), seed + 2);
    OpCall c{"ConvTranspose", {{"group", attr_i(cc.group)}, {"strides", attr_ints(cc.strides)},
                               {"dilations", attr_ints(cc.dilations)}, {"pads", attr_ints(cc.pads)},
                               {"output_padding", attr_ints(cc.output_padding)}},
             {x, w}};
    if (cc.bias) c.inputs.push_back(f32(b, {m}));
    auto res = run_op(c);
    ASSERT_TRUE(res.ok()) << res.status().to_string();
    Dims y = {cc.x[0], m};
    for (size_t d = 0; d < r; ++d)
      y.push_back(cc.strides[d] * (cc.x[d + 2] - 1) + cc.output_padding[d] + (cc.w[d + 2] - 1) * cc.dilations[d] + 1 -
                  cc.pads[d] - cc.pads[d + r]);
    Geo g{cc.group, cc.strides, cc.dilations, std::vector<int64_t>(cc.pads.begin(), cc.pads.begin() + r)};
    expect_near_all(res.value()[0], y, naive_conv_transpose(x, w, cc.bias ? &b : nullptr, g, y));
  }
}

// <Conv(x), y> == <x, ConvTranspose(y)> with the same weights and geometry: checks the
// two kernels against each other without trusting either.
TEST(OpsNnConvTranspose, AdjointOfConv) {
  Tensor x = random_tensor({1, 4, 9, 8}, 21), w = random_tensor({6, 2, 3, 2}, 22);
  Attrs geo = {{"group", attr_i(2)}, {"strides", attr_ints({2, 3})}, {"dilations", attr_ints({1, 2})},
               {"pads", attr_ints({1, 0, 1, 2})}};
  auto conv = run_op(OpCall{"Conv", geo, {x, w}});
  ASSERT_TRUE(conv.ok()) << conv.status().to_string();
  const Dims yd = conv.value()[0].dims();  // [1, 6, 5, 3]
  ASSERT_EQ(dims_to_string(yd), "[1,6,5,3]");
  Tensor y = random_tensor(yd, 23);
  Attrs geo_t = geo;
  // Conv output sizes floor away (9+2-3)%2=0, (8+2-3)%3=1 rows: output_padding restores them.
  geo_t["output_padding"] = attr_ints({0, 1});
  auto convt = run_op(OpCall{"ConvTranspose", geo_t, {y, w}});
  ASSERT_TRUE(convt.ok()) << convt.status().to_string();
  ASSERT_EQ(dims_to_string(convt.value()[0].dims()), "[1,4,9,8]");
  double lhs = 0, rhs = 0;
  for (int64_t i = 0; i < y.size(); ++i) lhs += double(conv.value()[0].data<float>()[i]) * y.data<float>()[i];
  for (int64_t i = 0; i < x.size(); ++i) rhs += double(x.data<float>()[i]) * convt.value()[0].data<float>()[i];
  EXPECT_NEAR(lhs, rhs, 1e-4 * (1 + std::fabs(lhs)));
}

TEST(OpsNnConvTranspose, OutputShapeAndAutoPad) {
  Tensor x = random_tensor({1, 2, 3, 4}, 31), w = random_tensor({2, 3, 3, 3}, 32);
  // Full output with stride 2: 2*(3-1)+3 = 7 and 2*(4-1)+3 = 9.
  struct {
    const char* name;
    Attrs attrs;
    Dims y;
    std::vector<int64_t> pad_begin;
  } cases[] = {
      // SAME: out = in * stride = 6, 8; total padding 1 in both dims.
      {"SAME_UPPER", {{"auto_pad", attr_s("SAME_UPPER")}}, {1, 3, 6, 8}, {0, 0}},
      {"SAME_LOWER", {{"auto_pad", attr_s("SAME_LOWER")}}, {1, 3, 6, 8}, {1, 1}},
      {"VALID", {{"auto_pad", attr_s("VALID")}}, {1, 3, 7, 9}, {0, 0}},
      // output_shape 5, 9: total padding 2, 0 -> begin 1, 0 (the larger half first).
      {"output_shape", {{"output_shape", attr_ints({5, 9})}}, {1, 3, 5, 9}, {1, 0}},
      // output_shape bigger than the full output: no padding, extra cells hold only bias/zero.
      {"output_shape larger", {{"output_shape", attr_ints({1, 3, 8, 10})}}, {1, 3, 8, 10}, {0, 0}},
  };
  for (auto& k : cases) {
    SCOPED_TRACE(k.name);
    Attrs a = k.attrs;
    a["strides"] = attr_ints({2, 2});
    auto r = run_op(OpCall{"ConvTranspose", a, {x, w}});
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    expect_near_all(r.value()[0], k.y, naive_conv_transpose(x, w, nullptr, Geo{1, {2, 2}, {1, 1}, k.pad_begin}, k.y));
  }
}

TEST(OpsNnConvTranspose, Errors) {
  Tensor x = random_tensor({1, 4, 3, 3}, 41), w = random_tensor({4, 2, 3, 3}, 42);
  expect_error(OpCall{"ConvTranspose", {}, {x, random_tensor({3, 2, 3, 3}, 1)}}, "channels");
  expect_error(OpCall{"ConvTranspose", {{"group", attr_i(3)}}, {x, w}}, "group");
  expect_error(OpCall{"ConvTranspose", {}, {x, w, random_tensor({4}, 1)}}, "bias B must have shape [2]");
  expect_error(OpCall{"ConvTranspose", {{"output_padding", attr_ints({1})}}, {x, w}}, "output_padding has 1 values");
  expect_error(OpCall{"ConvTranspose", {{"output_shape", attr_ints({4})}}, {x, w}}, "output_shape");
  expect_error(OpCall{"ConvTranspose", {{"pads", attr_ints({3, 3, 3, 3})}}, {x, w}}, "would be");
  expect_error(OpCall{"ConvTranspose", {}, {random_tensor({4, 3}, 1), w}}, "rank >= 3");
}

}  // namespace
}  // namespace kiln::nntest
