// Throughput of the static int8 elementwise kernels of this build, named as the kernels:
// every qs8-vbinary and qs8-vmulrow kernel (and the references) on n = 27648 = 24x48x24 (an SE block of the
// PP-OCR classifier, cache-resident) and 1M, and every qs8-gavgpool sums kernel (and the
// reference) over 24x48 rows of 24 and 12x24 rows of 96 channels, and every f32-qs8-vcvt
// kernel (QuantizeLinear; 307200 = the detector's 320x320x3 input); elements/s.
#include <benchmark/benchmark.h>

#include <vector>

#include "kernels/f32-qs8-vcvt/f32-qs8-vcvt.h"
#include "kernels/qs8-gavgpool/qs8-gavgpool.h"
#include "kernels/qs8-vbinary/qs8-vbinary.h"

namespace {

kiln::QS8VBinaryParams bench_params() {
  kiln::QS8VBinaryParams p;
  p.a_scale = 0.021f, p.b_scale = 1.f / 255.f, p.y_scale = 0.019f, p.a_zero = -7, p.b_zero = -128, p.y_zero = 3;
  return p;
}

void bm_vbinary(benchmark::State& state, kiln::QS8VBinaryKernel k) {
  const size_t n = static_cast<size_t>(state.range(0));
  std::vector<int8_t> a(n), b(n), y(n);
  for (size_t i = 0; i < n; ++i) a[i] = static_cast<int8_t>(i * 7), b[i] = static_cast<int8_t>(i * 13);
  const kiln::QS8VBinaryParams p = bench_params();
  for (auto _ : state) {
    k.fn(n, a.data(), b.data(), y.data(), p);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * n));
}

void bm_vmulrow(benchmark::State& state, kiln::QS8VMulRowUkernelFn fn) {
  const size_t n = static_cast<size_t>(state.range(0));
  std::vector<int8_t> x(n), y(n);
  std::vector<float> m(n);
  for (size_t i = 0; i < n; ++i) x[i] = static_cast<int8_t>(i * 7), m[i] = static_cast<float>(i % 97) / 97.f;
  const kiln::QS8VMulRowParams p{-7, 3};
  for (auto _ : state) {
    fn(n, x.data(), m.data(), y.data(), p);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * n));
}

void bm_vcvt(benchmark::State& state, kiln::F32QS8VcvtUkernelFn fn) {
  const size_t n = static_cast<size_t>(state.range(0));
  std::vector<float> x(n);
  std::vector<int8_t> y(n);
  for (size_t i = 0; i < n; ++i) x[i] = static_cast<float>((i * 7919) % 2001) / 400.f - 2.5f;
  const kiln::F32QS8CvtParams p{0.019f, -5};
  for (auto _ : state) {
    fn(n, x.data(), y.data(), p);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * n));
}

void bm_gavgpool(benchmark::State& state, kiln::QS8GavgpoolSumsFn fn) {
  const size_t rows = static_cast<size_t>(state.range(0)), c = static_cast<size_t>(state.range(1));
  std::vector<int8_t> x(rows * c);
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<int8_t>(i * 7);
  std::vector<int32_t> s(c);
  for (auto _ : state) {
    fn(rows, c, x.data(), c, s.data());
    benchmark::DoNotOptimize(s.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * rows * c));
}

const int kRegistered = [] {
  for (const kiln::QS8VBinaryKernel& k : kiln::qs8_vbinary_kernels())
    benchmark::RegisterBenchmark(k.name, bm_vbinary, k)->Arg(27648)->Arg(1 << 20);
  benchmark::RegisterBenchmark("qs8_vmul_reference", bm_vbinary,
                               kiln::QS8VBinaryKernel{"qs8_vmul_reference", kiln::QS8VBinaryOp::kMul, false, 1,
                                                      [](size_t n, const int8_t* a, const int8_t* b, int8_t* y,
                                                         const kiln::QS8VBinaryParams& p) {
                                                        kiln::qs8_vbinary_reference(kiln::QS8VBinaryOp::kMul, false, n,
                                                                                    a, b, y, p);
                                                      }})
      ->Arg(27648)
      ->Arg(1 << 20);
  for (const kiln::QS8VMulRowKernel& k : kiln::qs8_vmulrow_kernels())
    benchmark::RegisterBenchmark(k.name, bm_vmulrow, k.fn)->Arg(27648)->Arg(1 << 20);
  benchmark::RegisterBenchmark("qs8_vmulrow_reference", bm_vmulrow, kiln::qs8_vmulrow_reference)->Arg(27648)->Arg(1 << 20);
  for (const kiln::F32QS8VcvtKernel& k : kiln::f32_qs8_vcvt_kernels())
    benchmark::RegisterBenchmark(k.name, bm_vcvt, k.fn)->Arg(307200)->Arg(27648);
  benchmark::RegisterBenchmark("f32_qs8_vcvt_reference", bm_vcvt, kiln::f32_qs8_vcvt_reference)->Arg(307200)->Arg(27648);
  for (const kiln::QS8GavgpoolKernel& k : kiln::qs8_gavgpool_kernels())
    benchmark::RegisterBenchmark(k.name, bm_gavgpool, k.fn)->Args({24 * 48, 24})->Args({12 * 24, 96});
  benchmark::RegisterBenchmark("qs8_gavgpool_sums_reference", bm_gavgpool, kiln::qs8_gavgpool_sums_reference)
      ->Args({24 * 48, 24})
      ->Args({12 * 24, 96});
  return 0;
}();

}  // namespace
