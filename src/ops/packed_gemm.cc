#include "ops/packed_gemm.h"

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "platform/thread_pool.h"

namespace kiln {
namespace {

std::atomic<bool>& reference_flag() {
  static std::atomic<bool> flag([] {
    const char* env = std::getenv("KILN_REFERENCE_KERNELS");
    return env != nullptr && std::strcmp(env, "1") == 0;
  }());
  return flag;
}

std::atomic<bool>& sparse_flag() {
  static std::atomic<bool> flag([] {
    const char* env = std::getenv("KILN_SPARSE_KERNELS");
    return env == nullptr || std::strcmp(env, "0") != 0;
  }());
  return flag;
}

}  // namespace

bool use_reference_kernels() { return reference_flag().load(std::memory_order_relaxed); }
void set_use_reference_kernels(bool on) { reference_flag().store(on, std::memory_order_relaxed); }
bool sparse_kernels_enabled() { return sparse_flag().load(std::memory_order_relaxed); }
void set_sparse_kernels_enabled(bool on) { sparse_flag().store(on, std::memory_order_relaxed); }

void spmm_multiply(const F32SpmmKernel& kern, const F32SpmmPacked& w, size_t m, const float* a, size_t a_stride,
                   float* c, size_t c_stride, F32MinMax minmax) {
  if (m == 0 || w.n == 0) return;
  F32SpmmArgs args;
  args.m = m, args.a = a, args.a_stride = a_stride, args.w = &w, args.c = c, args.c_stride = c_stride;
  args.minmax = minmax;
  const size_t need = f32_spmm_workspace_size(kern, w);
  parallel_for(f32_spmm_row_tiles(kern, m), [&](size_t begin, size_t end) {
    // Scratch per thread, grown once to the largest layer and then reused.
    thread_local std::vector<float> workspace;
    if (workspace.size() < need) workspace.resize(need);
    f32_spmm_tiles(kern, args, begin, end, workspace.data());
  });
}

void PackedGemmWeights::pack(size_t n, size_t k, const float* b, ptrdiff_t b_stride_k, ptrdiff_t b_stride_n,
                             float scale, const float* bias, ptrdiff_t bias_stride, float bias_scale,
                             bool allow_sparse) {
  n_ = n;
  k_ = k;
  kern_ = nullptr;
  row_kern_ = nullptr;
  spmm_ = nullptr;
  sparse_ = F32SpmmPacked();
  if (allow_sparse && sparse_kernels_enabled() && f32_spmm_preferred(n, k, f32_count_zeros(n, k, b, b_stride_k, b_stride_n))) {
    spmm_ = &f32_spmm_default_kernel();
    sparse_ = f32_spmm_pack(spmm_->mr, n, k, b, b_stride_k, b_stride_n, bias, bias_stride, scale, bias_scale);
    data_.clear();
    if (f32_spmm_min_rows() <= 1) return;  // no dense copy needed: sparse wins for every M
  }
  kern_ = &f32_gemm_default_kernel();
  row_kern_ = f32_gemm_single_row_kernel(kern_->nr);
  data_.resize(f32_gemm_packed_size(kern_->nr, n, k));
  f32_gemm_pack(kern_->nr, n, k, b, b_stride_k, b_stride_n, bias, bias_stride, data_.data());
  if (scale != 1.f || bias_scale != 1.f) {  // Gemm's alpha / beta, folded into the weights
    const size_t panel = kern_->nr * (k + 1);
    for (size_t off = 0; off < data_.size(); off += panel) {
      for (size_t j = 0; j < kern_->nr; ++j) data_[off + j] *= bias_scale;
      for (size_t j = kern_->nr; j < panel; ++j) data_[off + j] *= scale;
    }
  }
}

void PackedGemmWeights::multiply(size_t m, const float* a, size_t a_stride, float* c, size_t c_stride,
                                 F32MinMax minmax) const {
  if (spmm_ && (m >= f32_spmm_min_rows() || kern_ == nullptr)) {
    spmm_multiply(*spmm_, sparse_, m, a, a_stride, c, c_stride, minmax);
    return;
  }
  F32GemmArgs args;
  args.m = m;
  args.n = n_;
  args.k = k_;
  args.a = a;
  args.a_stride = a_stride;
  args.packed_w = data_.data();
  args.c = c;
  args.c_stride = c_stride;
  args.minmax = minmax;
  if (m == 0 || n_ == 0) return;
  const F32GemmKernel& kern = m == 1 && row_kern_ ? *row_kern_ : *kern_;
  // Threads split the larger of the two tile counts (row tiles or column panels), so the
  // chunks stay even; each thread runs its slice blocked like the single-threaded GEMM.
  const size_t rows = f32_gemm_row_tiles(kern, m), panels = f32_gemm_col_panels(kern, n_);
  // Below ~2^18 multiply-adds (a recurrent step's GEMV, small 1-D convolutions) handing
  // tiles to another thread costs more than it saves, most of all on a busy machine.
  constexpr size_t kMinParallelMacs = size_t{1} << 18;
  if (m * n_ * k_ < kMinParallelMacs) {
    f32_gemm_blocked(kern, args, 0, rows, 0, panels);
    return;
  }
  if (rows >= panels)
    parallel_for(rows, [&](size_t begin, size_t end) { f32_gemm_blocked(kern, args, begin, end, 0, panels); });
  else
    parallel_for(panels, [&](size_t begin, size_t end) { f32_gemm_blocked(kern, args, 0, rows, begin, end); });
}

}  // namespace kiln
