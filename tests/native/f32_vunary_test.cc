// Every f32-vunary microkernel of this build against its op's reference (libm in double,
// rounded): sizes 1 .. 2*tile+1 and large, in place, no writes past n, special values
// (+-0, +-inf, NaN, +-huge, tiny, denormals), and a dense sweep that measures the max error
// (ULP and absolute) and asserts the bounds documented in src/kernels/README.md. Also the
// config table and the op-facing parallel driver. Runs natively and in WASM
// (kiln_kernel_tests_wasm).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "kernels/f32-vunary/f32-vunary.h"
#include "ops/vunary_kernels.h"
#include "platform/thread_pool.h"

namespace kiln {

void PrintTo(const F32VunaryKernel& k, std::ostream* os) { *os << k.name; }

namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

// One op with its parameters and the error bounds the tester asserts (README table):
// at most max_ulp ULP for inputs in [ulp_lo, ulp_hi] whose reference is a normal float (an
// empty range: no ULP bound), and at most max_abs absolute error for inputs in [abs_lo, abs_hi].
struct OpSpec {
  F32VunaryOp op;
  F32VunaryParams params;
  float ulp_lo, ulp_hi;
  int64_t max_ulp;
  float abs_lo, abs_hi;
  float max_abs;
};

// Bounds measured over every kernel of both builds (native AVX2/FMA and vec, WASM SIMD128),
// then rounded up; see src/kernels/README.md for the measured values per kernel.
const std::vector<OpSpec>& op_specs() {
  static const std::vector<OpSpec> specs = {
      {F32VunaryOp::kSigmoid, {}, -87.f, 88.f, 4, -100.f, 100.f, 1.5e-7f},
      {F32VunaryOp::kTanh, {}, -10.f, 10.f, 7, -10.f, 10.f, 4.2e-7f},
      {F32VunaryOp::kExp, {}, -87.3f, 88.7f, 4, -100.f, 0.f, 2.4e-7f},
      {F32VunaryOp::kErf, {}, -5.f, 5.f, 8, -5.f, 5.f, 4.8e-7f},
      {F32VunaryOp::kGelu, {}, -0.5f, 20.f, 4, -12.f, 0.f, 1.5e-6f},
      {F32VunaryOp::kGeluTanh, {}, -2.f, 20.f, 6, -12.f, 0.f, 1.2e-7f},
      // No FMA in SIMD128 / vec: alpha x + beta cancels near the zero crossing, so only the
      // absolute error (half an ULP of 0.5) is bounded.
      {F32VunaryOp::kHardSigmoid, {0.2f, 0.5f}, 1.f, -1.f, -1, -10.f, 10.f, 6e-8f},
      {F32VunaryOp::kHardSigmoid, {1.f / 6.f, 0.5f}, 1.f, -1.f, -1, -10.f, 10.f, 6e-8f},
      {F32VunaryOp::kHardSwish, {}, -10.f, 10.f, 3, -4.f, 4.f, 4.8e-7f},
      {F32VunaryOp::kLeakyRelu, {0.01f, 0.f}, -1e4f, 1e4f, 0, -1e4f, 1e4f, 0.f},
      {F32VunaryOp::kLeakyRelu, {0.2f, 0.f}, -1e4f, 1e4f, 0, -1e4f, 1e4f, 0.f},
      {F32VunaryOp::kSwish, {}, -87.f, 88.f, 5, -100.f, 0.f, 1.2e-7f},
      {F32VunaryOp::kClamp, {0.f, 6.f}, -1e4f, 1e4f, 0, -1e4f, 1e4f, 0.f},
      {F32VunaryOp::kClamp, {-1.f, 1.f}, -1e4f, 1e4f, 0, -1e4f, 1e4f, 0.f},
      {F32VunaryOp::kClamp, {0.f, kInf}, -1e4f, 1e4f, 0, -1e4f, 1e4f, 0.f},
  };
  return specs;
}

const F32VunaryKernel& reference_for(F32VunaryOp op) {
  const F32VunaryKernel& k = f32_vunary_reference_kernel(op);
  EXPECT_EQ(k.op, op);
  EXPECT_STREQ(k.arch, "reference");
  return k;
}

std::vector<F32VunaryKernel> vector_kernels() {
  std::vector<F32VunaryKernel> out;
  for (const F32VunaryKernel& k : f32_vunary_kernels())
    if (std::string(k.arch) != "reference") out.push_back(k);
  return out;
}

// Distance in representable floats (-0 and +0 are the same point).
int64_t ulp_distance(float a, float b) {
  auto ordered = [](float f) {
    int32_t i;
    std::memcpy(&i, &f, 4);
    return i < 0 ? static_cast<int64_t>(INT32_MIN) - i : static_cast<int64_t>(i);
  };
  return std::abs(ordered(a) - ordered(b));
}

std::string show(float x) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g", x);
  return buf;
}

struct ErrorStats {
  int64_t max_ulp = 0;
  float at_ulp = 0;
  float max_abs = 0;
  float at_abs = 0;
  size_t failures = 0;
  std::string first_failure;
};

// Compares out with ref for inputs x under spec's bounds; NaN / inf references must match.
void measure(const OpSpec& s, const std::vector<float>& x, const std::vector<float>& out,
             const std::vector<float>& ref, ErrorStats& st) {
  for (size_t i = 0; i < x.size(); ++i) {
    const float r = ref[i], y = out[i];
    bool ok = true;
    if (std::isnan(r) || std::isinf(r)) {
      ok = std::isnan(r) ? std::isnan(y) : y == r;
    } else if (std::isnan(y) || std::isinf(y)) {
      ok = false;
    } else {
      if (x[i] >= s.ulp_lo && x[i] <= s.ulp_hi && std::fabs(r) >= std::numeric_limits<float>::min()) {
        const int64_t u = ulp_distance(y, r);
        if (u > st.max_ulp) st.max_ulp = u, st.at_ulp = x[i];
        ok = ok && u <= s.max_ulp;
      }
      if (x[i] >= s.abs_lo && x[i] <= s.abs_hi) {
        const float a = std::fabs(y - r);
        if (a > st.max_abs) st.max_abs = a, st.at_abs = x[i];
        ok = ok && a <= s.max_abs;
      }
    }
    if (!ok && st.failures++ == 0)
      st.first_failure = "x=" + show(x[i]) + " got " + show(y) + " want " + show(r);
  }
}

void run(const F32VunaryKernel& k, const OpSpec& s, const std::vector<float>& x, std::vector<float>& y) {
  y.assign(x.size(), 0.f);
  k.fn(x.size(), x.data(), y.data(), &s.params);
}

std::string spec_name(const OpSpec& s) {
  return std::string(f32_vunary_op_name(s.op)) + "(alpha=" + show(s.params.alpha) + ", beta=" + show(s.params.beta) +
         ")";
}

std::vector<float> random_in(size_t n, float lo, float hi, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (float& f : v) f = d(rng);
  return v;
}

class F32Vunary : public testing::TestWithParam<F32VunaryKernel> {
 protected:
  std::vector<const OpSpec*> specs() const {
    std::vector<const OpSpec*> out;
    for (const OpSpec& s : op_specs())
      if (s.op == GetParam().op) out.push_back(&s);
    return out;
  }
};

// n = 1 .. 2*tile+1 and large sizes; a guard after y[n] must stay untouched.
TEST_P(F32Vunary, Sizes) {
  const F32VunaryKernel& k = GetParam();
  std::vector<size_t> sizes;
  for (size_t n = 1; n <= 2 * k.tile + 1; ++n) sizes.push_back(n);
  for (size_t n : {size_t{1000}, size_t{4099}, size_t{65537}}) sizes.push_back(n);
  for (const OpSpec* s : specs()) {
    for (size_t n : sizes) {
      SCOPED_TRACE(spec_name(*s) + " n=" + std::to_string(n));
      const std::vector<float> x = random_in(n, -10.f, 10.f, static_cast<uint32_t>(n));
      std::vector<float> y(n + 8, 1234.5f), ref(n);
      k.fn(n, x.data(), y.data(), &s->params);
      reference_for(k.op).fn(n, x.data(), ref.data(), &s->params);
      for (size_t i = n; i < n + 8; ++i) ASSERT_EQ(y[i], 1234.5f) << "wrote past n at " << i;
      y.resize(n);
      ErrorStats st;
      measure(*s, x, y, ref, st);
      EXPECT_EQ(st.failures, 0u) << st.first_failure;
    }
  }
}

// x == y gives what separate buffers give, for sizes with and without a tail.
TEST_P(F32Vunary, InPlace) {
  const F32VunaryKernel& k = GetParam();
  for (const OpSpec* s : specs()) {
    for (size_t n : {size_t{1}, k.tile - 1, k.tile + 1, 2 * k.tile + 3, size_t{1031}}) {
      SCOPED_TRACE(spec_name(*s) + " n=" + std::to_string(n));
      std::vector<float> x = random_in(n, -8.f, 8.f, static_cast<uint32_t>(n + 7)), y;
      run(k, *s, x, y);
      k.fn(n, x.data(), x.data(), &s->params);
      for (size_t i = 0; i < n; ++i) ASSERT_EQ(ulp_distance(x[i], y[i]), 0) << "at " << i;
    }
  }
}

TEST_P(F32Vunary, SpecialValues) {
  const F32VunaryKernel& k = GetParam();
  const float fmax = std::numeric_limits<float>::max(), fmin = std::numeric_limits<float>::min();
  const float denorm = std::numeric_limits<float>::denorm_min();
  const std::vector<float> x = {0.f,    -0.f,    kInf,     -kInf, kNaN,       -kNaN,        fmax,   -fmax,
                                1e30f,  -1e30f,  1e-30f,   -1e-30f, fmin,     -fmin,        denorm, -denorm,
                                1e-40f, -1e-40f, 88.7f,    -87.3f, 89.f,      -88.f,        -104.f, 200.f};
  for (const OpSpec* s : specs()) {
    SCOPED_TRACE(spec_name(*s));
    std::vector<float> y, ref;
    run(k, *s, x, y);
    run(reference_for(k.op), *s, x, ref);
    for (size_t i = 0; i < x.size(); ++i) {
      SCOPED_TRACE("x=" + show(x[i]) + " got " + show(y[i]) + " want " + show(ref[i]));
      if (std::isnan(ref[i])) {
        EXPECT_TRUE(std::isnan(y[i]));
      } else if (std::isinf(ref[i]) || std::fabs(ref[i]) > 1e30f) {
        EXPECT_LE(ulp_distance(y[i], ref[i]), std::max<int64_t>(s->max_ulp, 1));
      } else if (std::fabs(ref[i]) < fmin) {
        EXPECT_LE(std::fabs(y[i] - ref[i]), fmin);  // denormal results may flush to 0
      } else {
        const bool ulp_ok = ulp_distance(y[i], ref[i]) <= s->max_ulp;
        const bool abs_ok = std::fabs(y[i] - ref[i]) <= s->max_abs;
        EXPECT_TRUE(ulp_ok || abs_ok);
      }
    }
  }
}

// The inputs of the accuracy sweep: every float of [lo, hi] at an even stride in the
// ordered-bits space (all binades, down to denormals) plus a uniform grid.
std::vector<float> sweep(float lo, float hi) {
  std::vector<float> x;
  auto to_ordered = [](float f) {
    int32_t i;
    std::memcpy(&i, &f, 4);
    return i < 0 ? static_cast<int64_t>(INT32_MIN) - i : static_cast<int64_t>(i);
  };
  auto from_ordered = [](int64_t o) {
    const int32_t i = o < 0 ? static_cast<int32_t>(static_cast<int64_t>(INT32_MIN) - o) : static_cast<int32_t>(o);
    float f;
    std::memcpy(&f, &i, 4);
    return f;
  };
  constexpr int64_t kPoints = 1 << 18;
  const int64_t a = to_ordered(lo), b = to_ordered(hi);
  const int64_t step = std::max<int64_t>(1, (b - a) / kPoints);
  for (int64_t o = a; o <= b; o += step) x.push_back(from_ordered(o));
  for (int64_t i = 0; i <= kPoints; ++i) x.push_back(lo + (hi - lo) * static_cast<float>(i) / kPoints);
  return x;
}

TEST_P(F32Vunary, Accuracy) {
  const F32VunaryKernel& k = GetParam();
  for (const OpSpec* s : specs()) {
    SCOPED_TRACE(spec_name(*s));
    const float lo = s->ulp_lo <= s->ulp_hi ? std::min(s->ulp_lo, s->abs_lo) : s->abs_lo;
    const float hi = s->ulp_lo <= s->ulp_hi ? std::max(s->ulp_hi, s->abs_hi) : s->abs_hi;
    const std::vector<float> x = sweep(lo, hi);
    std::vector<float> y, ref;
    run(k, *s, x, y);
    run(reference_for(k.op), *s, x, ref);
    ErrorStats st;
    measure(*s, x, y, ref, st);
    // The measured numbers for the README table.
    std::printf("[ accuracy ] %-26s %-34s max %lld ulp (x=%s), max abs %.3g (x=%s)\n", k.name, spec_name(*s).c_str(),
                static_cast<long long>(st.max_ulp), show(st.at_ulp).c_str(), st.max_abs, show(st.at_abs).c_str());
    EXPECT_EQ(st.failures, 0u) << st.failures << " points over the bound; first: " << st.first_failure;
  }
}

INSTANTIATE_TEST_SUITE_P(Kernels, F32Vunary, testing::ValuesIn(vector_kernels()),
                         [](const testing::TestParamInfo<F32VunaryKernel>& info) {
                           return std::string(info.param.name);
                         });

TEST(F32VunaryConfig, EveryOpHasAReferenceAndAVectorDefault) {
  for (int i = 0; i < kF32VunaryOpCount; ++i) {
    const F32VunaryOp op = static_cast<F32VunaryOp>(i);
    SCOPED_TRACE(f32_vunary_op_name(op));
    EXPECT_NE(reference_for(op).fn, nullptr);
    const F32VunaryKernel& d = f32_vunary_default_kernel(op);
    EXPECT_EQ(d.op, op);
    EXPECT_NE(std::string(d.arch), "reference") << d.name;
  }
}

// The op-facing driver splits large tensors in chunks over the pool: the result is the
// default kernel's, bit for bit, for 1, 2 and 3 threads.
TEST(F32VunaryDriver, SameResultsForAnyThreadCount) {
  const size_t n = 5 * kF32VunaryChunk + 123;
  const std::vector<float> x = random_in(n, -10.f, 10.f, 99);
  for (F32VunaryOp op : {F32VunaryOp::kSigmoid, F32VunaryOp::kGelu, F32VunaryOp::kHardSigmoid}) {
    SCOPED_TRACE(f32_vunary_op_name(op));
    const F32VunaryParams p{0.2f, 0.5f};
    std::vector<float> want(n);
    f32_vunary_default_kernel(op).fn(n, x.data(), want.data(), &p);
    for (size_t threads : {1, 2, 3}) {
      ThreadPool pool(threads);
      ThreadPoolScope scope(&pool);
      std::vector<float> y(n);
      run_f32_vunary(op, x.data(), y.data(), n, p);
      for (size_t i = 0; i < n; ++i) ASSERT_EQ(ulp_distance(y[i], want[i]), 0) << threads << " threads, at " << i;
      std::vector<float> z = x;
      run_f32_vunary(op, z.data(), z.data(), n, p);  // in place
      ASSERT_EQ(z, want);
    }
  }
}

}  // namespace
}  // namespace kiln
