// Throughput of every f32-vunary microkernel of this build (references included), named as
// the kernels (f32_vsigmoid_x16_avx2/n): elements/s and GB/s (4 bytes read + 4 written per
// element), on n = 4096 (L1-resident: the math's cost) and n = 1M (streaming from memory),
// inputs spread over each op's useful range.
#include <benchmark/benchmark.h>

#include <vector>

#include "kernels/f32-vunary/f32-vunary.h"

namespace {

void bm_vunary(benchmark::State& state, kiln::F32VunaryKernel k) {
  const size_t n = static_cast<size_t>(state.range(0));
  std::vector<float> x(n), y(n);
  for (size_t i = 0; i < n; ++i) x[i] = static_cast<float>((i * 7919) % 2001) / 100.f - 10.f;  // [-10, 10]
  const kiln::F32VunaryParams p{0.2f, 0.5f};
  for (auto _ : state) {
    k.fn(n, x.data(), y.data(), &p);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * n));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * n * 2 * sizeof(float)));
}

const int kRegistered = [] {
  for (const kiln::F32VunaryKernel& k : kiln::f32_vunary_kernels())
    benchmark::RegisterBenchmark(k.name, bm_vunary, k)->Arg(4096)->Arg(1 << 20);
  return 0;
}();

}  // namespace
