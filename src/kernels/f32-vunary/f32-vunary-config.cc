// The f32-vunary config table: the kernels of this build the CPU can run, and per op the
// one the ops use (variant by measurement, src/kernels/README.md).
#include <string>
#include <string_view>
#include <vector>

#include "kernels/f32-vunary/f32-vunary.h"
#include "kernels/simd/cpu-arch.h"

namespace kiln {
namespace {

constexpr const char* kOpNames[kF32VunaryOpCount] = {"sigmoid",     "tanh",    "exp",    "erf",
                                                     "gelu",        "gelutanh", "hardsigmoid", "hswish",
                                                     "lrelu",       "swish",   "clamp"};

std::vector<F32VunaryKernel> available_kernels() {
  std::vector<F32VunaryKernel> out;
#define KILN_F32_VUNARY(name, op, arch, tile) \
  if (kernel_arch_available(#arch)) out.push_back({#name, F32VunaryOp::op, #arch, tile, name});
#include "kernels/f32-vunary/f32-vunary-list.h"
#undef KILN_F32_VUNARY
#define KILN_F32_VUNARY_REFERENCE(name, op) out.push_back({#name, F32VunaryOp::op, "reference", 1, name});
#include "kernels/f32-vunary/f32-vunary-reference-list.h"
#undef KILN_F32_VUNARY_REFERENCE
  return out;
}

const F32VunaryKernel* pick(F32VunaryOp op) {
  // Best measured first (src/kernels/README.md); the first one this build and CPU have wins.
  const std::string stem = std::string("f32_v") + kOpNames[static_cast<int>(op)];
  for (const std::string& name : {stem + "_x16_avx2", stem + "_x16_simd", stem + "_x8_vec", stem + "_reference"})
    for (const F32VunaryKernel& k : f32_vunary_kernels())
      if (name == k.name) return &k;
  return nullptr;  // unreachable: every op has a reference
}

}  // namespace

const char* f32_vunary_op_name(F32VunaryOp op) {
  const int i = static_cast<int>(op);
  return i >= 0 && i < kF32VunaryOpCount ? kOpNames[i] : "unknown";
}

std::span<const F32VunaryKernel> f32_vunary_kernels() {
  static const std::vector<F32VunaryKernel> kernels = available_kernels();
  return kernels;
}

const F32VunaryKernel& f32_vunary_default_kernel(F32VunaryOp op) {
  static const auto table = [] {
    std::vector<const F32VunaryKernel*> t;
    for (int i = 0; i < kF32VunaryOpCount; ++i) t.push_back(pick(static_cast<F32VunaryOp>(i)));
    return t;
  }();
  return *table[static_cast<int>(op)];
}

const F32VunaryKernel& f32_vunary_reference_kernel(F32VunaryOp op) {
  const std::span<const F32VunaryKernel> ks = f32_vunary_kernels();
  for (const F32VunaryKernel& k : ks)
    if (k.op == op && std::string_view(k.arch) == "reference") return k;
  return ks.back();  // unreachable: the reference list covers every op
}

}  // namespace kiln
