// What the GEMM-shaped ops (MatMul, Gemm, 1x1 Conv) share: weights packed once for the
// configured f32 GEMM microkernel, and a switch back to the reference kernels so tests
// can compare both paths (also KILN_REFERENCE_KERNELS=1 in the environment). Pruned
// weights (enough exact zeros, f32_spmm_preferred) are packed for the SpMM kernels
// instead, which skip the zeros.
#pragma once
#include <cstddef>
#include <vector>

#include "kernels/f32-gemm/f32-gemm.h"
#include "kernels/f32-spmm/f32-spmm.h"

namespace kiln {

// True when ops must use the plain reference kernels; read once from the environment.
bool use_reference_kernels();
void set_use_reference_kernels(bool on);
// Whether weights may be packed sparse (default on; KILN_SPARSE_KERNELS=0 in the
// environment turns it off, e.g. to time dense against sparse on one pruned model).
bool sparse_kernels_enabled();
void set_sparse_kernels_enabled(bool on);

// C = A x sparse W on the current thread pool (row tiles split; per-thread scratch).
void spmm_multiply(const F32SpmmKernel& kern, const F32SpmmPacked& w, size_t m, const float* a, size_t a_stride,
                   float* c, size_t c_stride, F32MinMax minmax);

// B (k x n, any element strides) times `scale`, with an optional bias (n values at
// bias_stride, times bias_scale), packed for the default microkernel, or for the SpMM
// kernels when allow_sparse and the weight is sparse enough (f32_spmm_preferred).
class PackedGemmWeights {
 public:
  PackedGemmWeights() = default;
  void pack(size_t n, size_t k, const float* b, ptrdiff_t b_stride_k, ptrdiff_t b_stride_n, float scale = 1.f,
            const float* bias = nullptr, ptrdiff_t bias_stride = 0, float bias_scale = 1.f, bool allow_sparse = true);
  bool packed() const { return kern_ != nullptr || spmm_ != nullptr; }
  bool sparse() const { return spmm_ != nullptr; }
  size_t n() const { return n_; }
  size_t k() const { return k_; }
  // C[m, n] (row stride c_stride) = clamp(A[m, k] (row stride a_stride) x B + bias), split
  // over the current thread pool (platform/thread_pool.h); bit-identical for any count.
  // One row (m = 1) runs the build's one-row kernel of the same NR when it has one.
  void multiply(size_t m, const float* a, size_t a_stride, float* c, size_t c_stride,
                F32MinMax minmax = F32MinMax()) const;

 private:
  const F32GemmKernel* kern_ = nullptr;
  // Sparse weights: spmm_ is set; kern_ too (a dense copy) when few rows run faster dense.
  const F32SpmmKernel* spmm_ = nullptr;
  const F32GemmKernel* row_kern_ = nullptr;  // 1 x kern_->nr, or null
  size_t n_ = 0, k_ = 0;
  std::vector<float> data_;
  F32SpmmPacked sparse_;
};

}  // namespace kiln
