// MaxPool, AveragePool, GlobalAveragePool, GlobalMaxPool through the Op interface:
// ONNX-doc cases, random cases against a naive window scan written here, the ceil_mode
// output-size rules, and error cases.
#include <limits>

#include "ops_nn_test_util.h"

namespace kiln::nntest {
namespace {

struct PoolCase {
  const char* name;
  Dims x;
  std::vector<int64_t> kernel, strides, dilations, pads;
  bool ceil_mode = false;
  bool count_include_pad = false;
};

// Output size per dim, written independently of the op: floor or ceil, and with ceil a
// last window starting at or past in + pad_begin is dropped.
int64_t out_size(int64_t in, int64_t k, int64_t s, int64_t d, int64_t pb, int64_t pe, bool ceil_mode) {
  const double span = static_cast<double>(in + pb + pe - ((k - 1) * d + 1));
  int64_t o = static_cast<int64_t>(ceil_mode ? std::ceil(span / s) : std::floor(span / s)) + 1;
  if (ceil_mode && (o - 1) * s >= in + pb) --o;
  return o;
}

// Scans every window tap by tap. max: largest in-range value; avg: mean over in-range
// taps, or over taps inside the padded extent with count_include_pad.
std::vector<float> naive_pool(const Tensor& x, const PoolCase& c, bool is_max, Dims* y_dims) {
  const size_t r = c.x.size() - 2;
  Dims y = {c.x[0], c.x[1]};
  for (size_t d = 0; d < r; ++d)
    y.push_back(out_size(c.x[d + 2], c.kernel[d], c.strides[d], c.dilations[d], c.pads[d], c.pads[d + r], c.ceil_mode));
  *y_dims = y;
  const int64_t planes = c.x[0] * c.x[1];
  Dims sp_in(c.x.begin() + 2, c.x.end()), sp_out(y.begin() + 2, y.end());
  const int64_t in_plane = num_elements(sp_in), out_plane = num_elements(sp_out), taps = num_elements(c.kernel);
  std::vector<float> out;
  for (int64_t p = 0; p < planes; ++p)
    for (int64_t o = 0; o < out_plane; ++o) {
      std::vector<int64_t> oi(r), ki(r);
      for (int64_t t = o, d = static_cast<int64_t>(r) - 1; d >= 0; --d) {
        oi[d] = t % sp_out[d];
        t /= sp_out[d];
      }
      float mx = -std::numeric_limits<float>::infinity();
      double sum = 0;
      int64_t count = 0, padded = 0;
      for (int64_t t = 0; t < taps; ++t) {
        for (int64_t u = t, d = static_cast<int64_t>(r) - 1; d >= 0; --d) {
          ki[d] = u % c.kernel[d];
          u /= c.kernel[d];
        }
        bool inside = true, in_padded = true;
        int64_t off = 0;
        for (size_t d = 0; d < r; ++d) {
          const int64_t pos = oi[d] * c.strides[d] - c.pads[d] + ki[d] * c.dilations[d];
          inside = inside && pos >= 0 && pos < sp_in[d];
          in_padded = in_padded && pos >= -c.pads[d] && pos < sp_in[d] + c.pads[d + r];
          off = off * sp_in[d] + pos;
        }
        padded += in_padded;
        if (!inside) continue;
        const float v = x.data<float>()[p * in_plane + off];
        mx = std::max(mx, v);
        sum += v;
        ++count;
      }
      out.push_back(is_max ? mx : static_cast<float>(sum / static_cast<double>(c.count_include_pad ? padded : count)));
    }
  return out;
}

Attrs pool_attrs(const PoolCase& c) {
  return {{"kernel_shape", attr_ints(c.kernel)}, {"strides", attr_ints(c.strides)},
          {"dilations", attr_ints(c.dilations)}, {"pads", attr_ints(c.pads)},
          {"ceil_mode", attr_i(c.ceil_mode)},    {"count_include_pad", attr_i(c.count_include_pad)}};
}

const PoolCase kCases[] = {
    {"2x2 s2 (classifier, blazeface)", {1, 3, 8, 10}, {2, 2}, {2, 2}, {1, 1}, {0, 0, 0, 0}},
    {"3x3 s2 pads", {2, 2, 7, 9}, {3, 3}, {2, 2}, {1, 1}, {1, 1, 1, 1}},
    {"3x2 s3,2 (recognizer avgpool)", {1, 4, 9, 12}, {3, 2}, {3, 2}, {1, 1}, {0, 0, 0, 0}},
    {"ceil_mode", {1, 2, 6, 7}, {3, 3}, {2, 2}, {1, 1}, {0, 0, 0, 0}, true},
    {"ceil_mode pads, last window dropped", {1, 1, 5, 5}, {2, 2}, {2, 2}, {1, 1}, {1, 1, 1, 1}, true},
    {"ceil_mode include pad", {1, 2, 6, 7}, {3, 3}, {2, 2}, {1, 1}, {1, 1, 1, 1}, true, true},
    {"asymmetric pads include pad", {1, 2, 5, 6}, {3, 2}, {1, 2}, {1, 1}, {2, 0, 0, 1}, false, true},
    {"dilation", {1, 2, 9, 8}, {2, 3}, {1, 2}, {2, 3}, {1, 1, 1, 1}},
    {"1-D", {2, 3, 11}, {3}, {2}, {1}, {1, 1}},
    {"3-D", {1, 2, 4, 5, 6}, {2, 3, 2}, {2, 1, 2}, {1, 1, 1}, {0, 1, 1, 1, 1, 0}, true},
};

TEST(OpsNnPool, MaxPoolOnnxDocCeil) {
  std::vector<float> v(16);
  for (int i = 0; i < 16; ++i) v[i] = static_cast<float>(i + 1);
  Tensor x = f32(v, {1, 1, 4, 4});
  OpCall c{"MaxPool", {{"kernel_shape", attr_ints({3, 3})}, {"strides", attr_ints({2, 2})}, {"ceil_mode", attr_i(1)}}, {x}};
  auto r = run_op(c);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  expect_near_all(r.value()[0], {1, 1, 2, 2}, {11, 12, 15, 16});
  c.attrs.erase("ceil_mode");
  r = run_op(c);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  expect_near_all(r.value()[0], {1, 1, 1, 1}, {11});
}

TEST(OpsNnPool, AveragePoolOnnxDocPads) {
  // As ONNX's averagepool_2d_pads(_count_include_pad): 5x5 of 1..25, k3, pads 2. The
  // corner window holds only x[0][0] = 1; cell [1][1] holds 1, 2, 6, 7.
  std::vector<float> v(25);
  for (int i = 0; i < 25; ++i) v[i] = static_cast<float>(i + 1);
  Tensor x = f32(v, {1, 1, 5, 5});
  OpCall c{"AveragePool", {{"kernel_shape", attr_ints({3, 3})}, {"pads", attr_ints({2, 2, 2, 2})}}, {x}};
  auto r = run_op(c);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  ASSERT_EQ(dims_to_string(r.value()[0].dims()), "[1,1,7,7]");
  EXPECT_FLOAT_EQ(r.value()[0].data<float>()[0], 1.f);
  EXPECT_FLOAT_EQ(r.value()[0].data<float>()[1], 1.5f);   // (1+2)/2
  EXPECT_FLOAT_EQ(r.value()[0].data<float>()[8], 4.f);    // (1+2+6+7)/4
  c.attrs["count_include_pad"] = attr_i(1);
  r = run_op(c);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_FLOAT_EQ(r.value()[0].data<float>()[0], 1.f / 9);
  EXPECT_FLOAT_EQ(r.value()[0].data<float>()[8], 16.f / 9);
}

TEST(OpsNnPool, RandomCasesMatchNaive) {
  uint32_t seed = 300;
  for (const PoolCase& pc : kCases) {
    for (bool is_max : {true, false}) {
      SCOPED_TRACE(std::string(pc.name) + (is_max ? " max" : " avg"));
      Tensor x = random_tensor(pc.x, seed += 3);
      auto r = run_op(OpCall{is_max ? "MaxPool" : "AveragePool", pool_attrs(pc), {x}});
      ASSERT_TRUE(r.ok()) << r.status().to_string();
      Dims y;
      std::vector<float> want = naive_pool(x, pc, is_max, &y);
      expect_near_all(r.value()[0], y, want);
    }
  }
}

TEST(OpsNnPool, CeilModeDropsWindowStartingInPadding) {
  // in 5, k 2, s 2, pads 1+1: ceil((5+2-2)/2)+1 = 4, but window 4 would start at 6-1 = 5,
  // inside the end padding, so there are 3.
  auto r = infer_op(OpCall{"MaxPool", {{"kernel_shape", attr_ints({2})}, {"strides", attr_ints({2})},
                                       {"pads", attr_ints({1, 1})}, {"ceil_mode", attr_i(1)}},
                           {random_tensor({1, 1, 5}, 1)}});
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(dims_to_string(r.value()[0].dims), "[1,1,3]");
  // Without the rule's trigger: in 6, k 3, s 2 -> ceil(3/2)+1 = 3 (floor would give 2).
  r = infer_op(OpCall{"AveragePool", {{"kernel_shape", attr_ints({3})}, {"strides", attr_ints({2})}, {"ceil_mode", attr_i(1)}},
                      {random_tensor({1, 1, 6}, 1)}});
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(dims_to_string(r.value()[0].dims), "[1,1,3]");
}

TEST(OpsNnPool, AutoPad) {
  // k 3x2, s 2: H 5 -> out 3, total pad (3-1)*2+3-5 = 2 (1 + 1); W 6 -> out 3, pad 0.
  Tensor x = random_tensor({1, 2, 5, 6}, 7);
  struct {
    const char* mode;
    std::vector<int64_t> pads;  // the equivalent explicit pads
  } cases[] = {{"SAME_UPPER", {1, 0, 1, 0}}, {"SAME_LOWER", {1, 0, 1, 0}}, {"VALID", {0, 0, 0, 0}}};
  for (const auto& k : cases) {
    for (const char* op : {"MaxPool", "AveragePool"}) {
      SCOPED_TRACE(std::string(k.mode) + " " + op);
      PoolCase pc{"", {1, 2, 5, 6}, {3, 2}, {2, 2}, {1, 1}, k.pads};
      auto r = run_op(OpCall{op, {{"kernel_shape", attr_ints({3, 2})}, {"strides", attr_ints({2, 2})},
                                  {"auto_pad", attr_s(k.mode)}},
                             {x}});
      ASSERT_TRUE(r.ok()) << r.status().to_string();
      Dims y;
      std::vector<float> want = naive_pool(x, pc, std::string(op) == "MaxPool", &y);
      expect_near_all(r.value()[0], y, want);
    }
  }
}

TEST(OpsNnPool, SameUpperVsLowerOddPadding) {
  // in 4, k 2, s 1: out 4, total pad 1 -> SAME_UPPER pads the end, SAME_LOWER the start.
  Tensor x = f32({1, 5, 2, 4}, {1, 1, 4});
  auto up = run_op(OpCall{"MaxPool", {{"kernel_shape", attr_ints({2})}, {"auto_pad", attr_s("SAME_UPPER")}}, {x}});
  auto lo = run_op(OpCall{"MaxPool", {{"kernel_shape", attr_ints({2})}, {"auto_pad", attr_s("SAME_LOWER")}}, {x}});
  ASSERT_TRUE(up.ok() && lo.ok());
  expect_near_all(up.value()[0], {1, 1, 4}, {5, 5, 4, 4});
  expect_near_all(lo.value()[0], {1, 1, 4}, {1, 5, 5, 4});
}

TEST(OpsNnPool, GlobalPools) {
  Tensor x = f32({1, 2, 3, 4, -1, -2, -3, -4, 10, 0, 0, 0}, {1, 3, 2, 2});
  auto avg = run_op(OpCall{"GlobalAveragePool", {}, {x}});
  auto mx = run_op(OpCall{"GlobalMaxPool", {}, {x}});
  ASSERT_TRUE(avg.ok() && mx.ok());
  expect_near_all(avg.value()[0], {1, 3, 1, 1}, {2.5f, -2.5f, 2.5f});
  expect_near_all(mx.value()[0], {1, 3, 1, 1}, {4, -1, 10});
  // 1-D and 3-D spatial, batch 2.
  Tensor x3 = random_tensor({2, 3, 2, 3, 4}, 5);
  auto a3 = run_op(OpCall{"GlobalAveragePool", {}, {x3}});
  ASSERT_TRUE(a3.ok());
  std::vector<float> want;
  for (int p = 0; p < 6; ++p) {
    double s = 0;
    for (int i = 0; i < 24; ++i) s += x3.data<float>()[p * 24 + i];
    want.push_back(static_cast<float>(s / 24));
  }
  expect_near_all(a3.value()[0], {2, 3, 1, 1, 1}, want);
  auto m1 = run_op(OpCall{"GlobalMaxPool", {}, {f32({3, 9, 2, -5, -7, -6}, {1, 2, 3})}});
  ASSERT_TRUE(m1.ok());
  expect_near_all(m1.value()[0], {1, 2, 1}, {9, -5});
}

TEST(OpsNnPool, Errors) {
  Tensor x = random_tensor({1, 2, 5, 5}, 9);
  expect_error(OpCall{"MaxPool", {}, {x}}, "kernel_shape");
  expect_error(OpCall{"AveragePool", {{"kernel_shape", attr_ints({2})}}, {x}}, "kernel_shape");
  expect_error(OpCall{"MaxPool", {{"kernel_shape", attr_ints({2, 2})}, {"pads", attr_ints({2, 0, 0, 0})}}, {x}},
               "smaller than the kernel");
  expect_error(OpCall{"MaxPool", {{"kernel_shape", attr_ints({2, 2})}}, {random_tensor({2, 5}, 1)}}, "rank >= 3");
  expect_error(OpCall{"MaxPool", {{"kernel_shape", attr_ints({6, 2})}}, {x}}, "does not fit");
  expect_error(OpCall{"MaxPool", {{"kernel_shape", attr_ints({0, 2})}}, {x}}, "positive");
  expect_error(OpCall{"GlobalAveragePool", {}, {random_tensor({4}, 1)}}, "rank >= 2");
}

TEST(OpsNnPool, MaxPoolIndicesPointAtTheMaxima) {
  Tensor x = random_tensor({2, 3, 5, 6}, 9);
  for (int64_t order : {0, 1}) {
    SCOPED_TRACE(order);
    OpCall call{"MaxPool", {{"kernel_shape", attr_ints({2, 3})}, {"strides", attr_ints({2, 2})},
                            {"pads", attr_ints({1, 0, 0, 1})}, {"storage_order", attr_i(order)}}, {x}};
    call.outputs = 2;
    auto r = run_op(call);
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    const Tensor& y = r.value()[0];
    const Tensor& idx = r.value()[1];
    ASSERT_EQ(idx.dtype(), DType::kI64);
    ASSERT_EQ(idx.dims(), y.dims());
    const float* xd = x.data<float>();
    for (int64_t i = 0; i < y.size(); ++i) {
      int64_t at = idx.data<int64_t>()[i];
      if (order == 1) {  // column-major over (h, w) within the plane
        const int64_t plane = at / 30, rem = at % 30;
        at = plane * 30 + (rem % 5) * 6 + rem / 5;
      }
      ASSERT_GE(at, 0);
      ASSERT_LT(at, x.size());
      EXPECT_EQ(xd[at], y.data<float>()[i]) << i;
    }
    // Without Indices the result is the same (the reference kernel's path).
    call.omit_outputs = {false, true};
    auto plain = run_op(call);
    ASSERT_TRUE(plain.ok());
    expect_near_all(plain.value()[0], y.dims(), std::vector<float>(y.data<float>(), y.data<float>() + y.size()));
  }
}

}  // namespace
}  // namespace kiln::nntest
