// MatMul (numpy semantics: 1-D promotion, batch broadcasting) and Gemm (transposes,
// alpha/beta, broadcast C) through the Op interface, against naive triple loops here.
#include "ops_nn_test_util.h"

namespace kiln::nntest {
namespace {

// numpy.matmul written out: promote 1-D operands, broadcast the batch dims by walking the
// output batch coordinates, and drop the promoted dims at the end.
std::vector<float> naive_matmul(const Tensor& a, const Tensor& b, Dims* out_dims) {
  Dims ad = a.dims(), bd = b.dims();
  if (ad.size() == 1) ad.insert(ad.begin(), 1);
  if (bd.size() == 1) bd.push_back(1);
  const int64_t m = ad[ad.size() - 2], k = ad.back(), n = bd.back();
  const size_t rank = std::max(ad.size(), bd.size());
  while (ad.size() < rank) ad.insert(ad.begin(), 1);
  while (bd.size() < rank) bd.insert(bd.begin(), 1);
  Dims batch;
  for (size_t i = 0; i + 2 < rank; ++i) batch.push_back(std::max(ad[i], bd[i]));
  std::vector<float> y;
  for (int64_t t = 0; t < num_elements(batch); ++t) {
    int64_t a_off = 0, b_off = 0;
    for (size_t i = 0; i < batch.size(); ++i) {
      int64_t stride = 1;
      for (size_t j = i + 1; j < batch.size(); ++j) stride *= batch[j];
      const int64_t c = (t / stride) % batch[i];
      a_off = a_off * ad[i] + (ad[i] == 1 ? 0 : c);
      b_off = b_off * bd[i] + (bd[i] == 1 ? 0 : c);
    }
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double s = 0;
        for (int64_t p = 0; p < k; ++p)
          s += double(a.data<float>()[a_off * m * k + i * k + p]) * b.data<float>()[b_off * k * n + p * n + j];
        y.push_back(static_cast<float>(s));
      }
  }
  *out_dims = batch;
  if (a.rank() > 1) out_dims->push_back(m);
  if (b.rank() > 1) out_dims->push_back(n);
  return y;
}

TEST(OpsNnMatMul, HandWorked) {
  auto r = run_op(OpCall{"MatMul", {}, {f32({1, 2, 3, 4, 5, 6}, {2, 3}), f32({1, 0, 0, 1, 1, 1}, {3, 2})}});
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  expect_near_all(r.value()[0], {2, 2}, {4, 5, 10, 11});
}

TEST(OpsNnMatMul, ShapesAndBroadcasting) {
  const std::pair<Dims, Dims> cases[] = {
      {{3, 4}, {4, 5}},          {{4}, {4, 5}},          {{3, 4}, {4}},         {{4}, {4}},
      {{4}, {2, 4, 5}},          {{2, 3, 4}, {4}},       {{2, 3, 4}, {2, 4, 5}}, {{2, 1, 3, 4}, {5, 4, 6}},
      {{3, 4}, {2, 4, 5}},       {{1, 8, 10, 16}, {1, 8, 16, 10}},  // attention scores (recognizer)
      {{1, 40, 120}, {120, 6625}},  // recognizer head, K large, N large
      {{2, 0}, {0, 3}},          {{0, 3}, {3, 2}},
  };
  uint32_t seed = 700;
  for (const auto& [ad, bd] : cases) {
    SCOPED_TRACE(dims_to_string(ad) + " x " + dims_to_string(bd));
    Tensor a = random_tensor(ad, seed += 2), b = random_tensor(bd, seed + 1);
    auto r = run_op(OpCall{"MatMul", {}, {a, b}});
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    Dims yd;
    std::vector<float> want = naive_matmul(a, b, &yd);
    expect_near_all(r.value()[0], yd, want, 1e-5f);
  }
}

TEST(OpsNnMatMul, Errors) {
  expect_error(OpCall{"MatMul", {}, {random_tensor({2, 3}, 1), random_tensor({4, 2}, 2)}}, "inner dimensions differ");
  expect_error(OpCall{"MatMul", {}, {random_tensor({2, 2, 3}, 1), random_tensor({3, 3, 2}, 2)}}, "do not broadcast");
  expect_error(OpCall{"MatMul", {}, {Tensor::scalar_f32(1), random_tensor({3}, 2)}}, "rank >= 1");
  expect_error(OpCall{"MatMul", {}, {random_tensor({3}, 2)}}, "expects 2 inputs");
}

// ---------------------------------------------------------------- Gemm

struct GemmCase {
  const char* name;
  int64_t m, n, k;
  bool ta, tb;
  float alpha, beta;
  std::optional<Dims> c;  // nullopt: no C input
};

TEST(OpsNnGemm, AttributesAndBroadcastC) {
  const GemmCase cases[] = {
      {"plain, C [M,N]", 3, 4, 5, false, false, 1.f, 1.f, Dims{3, 4}},
      {"silero: transB, C [N]", 1, 6, 8, false, true, 1.f, 1.f, Dims{6}},
      {"transA", 4, 3, 2, true, false, 1.f, 1.f, Dims{4, 3}},
      {"both transposed, alpha beta", 3, 5, 4, true, true, 0.25f, 0.35f, Dims{3, 5}},
      {"C scalar", 2, 3, 4, false, false, 1.f, 2.f, Dims{}},
      {"C [1]", 2, 3, 4, false, false, 1.f, 1.f, Dims{1}},
      {"C [M,1]", 3, 2, 4, false, false, 1.f, 1.f, Dims{3, 1}},
      {"C [1,N]", 3, 2, 4, false, true, 1.f, 1.f, Dims{1, 2}},
      {"no C", 3, 4, 5, false, false, 2.f, 1.f, std::nullopt},
      {"beta 0 ignores C", 2, 2, 3, false, false, 1.f, 0.f, Dims{2, 2}},
  };
  uint32_t seed = 800;
  for (const GemmCase& g : cases) {
    SCOPED_TRACE(g.name);
    Tensor a = random_tensor(g.ta ? Dims{g.k, g.m} : Dims{g.m, g.k}, seed += 3);
    Tensor b = random_tensor(g.tb ? Dims{g.n, g.k} : Dims{g.k, g.n}, seed + 1);
    OpCall call{"Gemm", {{"transA", attr_i(g.ta)}, {"transB", attr_i(g.tb)}, {"alpha", attr_f(g.alpha)}, {"beta", attr_f(g.beta)}},
                {a, b}, 11};
    Tensor c;
    if (g.c) {
      c = random_tensor(*g.c, seed + 2);
      call.inputs.push_back(c);
    }
    auto r = run_op(call);
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    std::vector<float> want;
    for (int64_t i = 0; i < g.m; ++i)
      for (int64_t j = 0; j < g.n; ++j) {
        double s = 0;
        for (int64_t p = 0; p < g.k; ++p) {
          const float av = g.ta ? a.data<float>()[p * g.m + i] : a.data<float>()[i * g.k + p];
          const float bv = g.tb ? b.data<float>()[j * g.k + p] : b.data<float>()[p * g.n + j];
          s += double(av) * bv;
        }
        double cv = 0;
        if (g.c) {
          const Dims& cd = *g.c;
          const int64_t ci = cd.size() == 2 ? (cd[0] == 1 ? 0 : i) * cd[1] + (cd[1] == 1 ? 0 : j)
                                            : (cd.size() == 1 && cd[0] != 1 ? j : 0);
          cv = c.data<float>()[ci];
        }
        want.push_back(static_cast<float>(g.alpha * s + g.beta * cv));
      }
    expect_near_all(r.value()[0], {g.m, g.n}, want);
  }
}

TEST(OpsNnGemm, Errors) {
  Tensor a = random_tensor({2, 3}, 1), b = random_tensor({3, 4}, 2);
  expect_error(OpCall{"Gemm", {}, {random_tensor({1, 2, 3}, 1), b}}, "2-D");
  expect_error(OpCall{"Gemm", {{"transA", attr_i(1)}}, {a, b}}, "inner dimensions differ");
  expect_error(OpCall{"Gemm", {}, {a, b, random_tensor({3, 4}, 3)}}, "does not broadcast");
  expect_error(OpCall{"Gemm", {}, {a, b, random_tensor({2, 4, 1}, 3)}}, "does not broadcast");
  expect_error(OpCall{"Gemm", {{"alpha", attr_i(1)}}, {a, b}}, "alpha");
}

}  // namespace
}  // namespace kiln::nntest
