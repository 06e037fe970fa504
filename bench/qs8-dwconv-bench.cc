// GOP/s of every qs8-qc8w depthwise microkernel of this build against the default f32
// depthwise kernel on MobileNet-style layers (names: the kernel, then
// /H/W/C/K/S; f32_dwconv_default/... is the float baseline). One thread.
#include <benchmark/benchmark.h>

#include <vector>

#include "qs8-dwconv-problem.h"

namespace {

void run(benchmark::State& state, const kiln::QS8DwconvKernel* kern) {
  kiln::bench::Qs8DwconvProblem p(kern, state.range(0), state.range(1), state.range(2), state.range(3),
                                  state.range(4));
  for (auto _ : state) {
    p.run();
    benchmark::DoNotOptimize(p.output());
    benchmark::ClobberMemory();
  }
  state.counters["OPS"] = benchmark::Counter(p.flops(), benchmark::Counter::kIsIterationInvariantRate);
}

// {H, W, C, K, S}: MobileNetV1/V2 3x3 layers, a stride-2 one, MobileNetV3's 5x5.
const std::vector<std::vector<int64_t>> kShapes = {
    {112, 112, 32, 3, 1}, {56, 56, 128, 3, 1}, {112, 112, 64, 3, 2}, {28, 28, 120, 5, 1}, {14, 14, 480, 3, 1}};

const int kRegistered = [] {
  auto* f = benchmark::RegisterBenchmark("f32_dwconv_default", run, nullptr);
  for (const auto& s : kShapes) f->Args(s);
  f->ArgNames({"H", "W", "C", "K", "S"});
  for (const kiln::QS8DwconvKernel& kern : kiln::qs8_dwconv_kernels()) {
    auto* b = benchmark::RegisterBenchmark(kern.name, run, &kern);
    for (const auto& s : kShapes)
      if (kern.taps == 0 || kern.taps == static_cast<size_t>(s[3] * s[3])) b->Args(s);
    b->ArgNames({"H", "W", "C", "K", "S"});
  }
  return 0;
}();

}  // namespace
