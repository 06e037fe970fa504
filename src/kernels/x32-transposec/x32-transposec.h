// Transposition microkernels (XNNPACK's transposec) and the N-D transpose driver.
//
// A microkernel transposes one block: the input has block_height rows of block_width
// elements (input_stride bytes apart), the output block_width rows of block_height elements
// (output_stride bytes apart). The fast kernels move full tiles with register shuffles
// (4x4: SIMD128 shuffles; 8x8: AVX2 unpack + permute) and the partial edge tiles with
// scalar loops. Elements of 1, 2 and 8 bytes use the scalar tile kernels.
//
// transpose_nd (transpose-nd.cc) first drops size-1 dims and merges dims that stay
// adjacent, then either copies contiguous runs (innermost dim unchanged) or runs the 2-D
// kernel over blocks of the remaining outer loops, in parallel (parallel_for on the
// calling thread's pool; every block writes its own outputs, so results do not depend on
// the thread count).
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>

#include "kernels/f32-gemm/f32-gemm.h"  // KILN_F32_GEMM_{SIMD,AVX2,VEC}, KILN_KERNEL_PICKED_ONLY

namespace kiln {

using TransposecUkernelFn = void (*)(const void* input, void* output, size_t input_stride, size_t output_stride,
                                     size_t block_width, size_t block_height);

struct TransposecKernel {
  const char* name;     // e.g. "x32_transposec_8x8_avx2": file, test and benchmark share it
  size_t element_size;  // bytes: 1, 2, 4 or 8
  size_t tile;          // tile rows = tile columns
  TransposecUkernelFn fn;
};

#define KILN_TRANSPOSEC(name, element_size, tile, arch)                                                 \
  void name(const void* input, void* output, size_t input_stride, size_t output_stride, size_t block_width, \
            size_t block_height);
#include "kernels/x32-transposec/x32-transposec-list.h"
#undef KILN_TRANSPOSEC

// Every kernel this build and CPU can run, and the one the driver uses per element size
// (1, 2, 4 or 8 bytes).
std::span<const TransposecKernel> transposec_kernels();
const TransposecKernel& transposec_default_kernel(size_t element_size);

// out = transpose(in, perm) for a dense tensor of `rank` dims of `element_size`-byte
// elements: output dim j is input dim perm[j] (ONNX's Transpose). perm must be a
// permutation of 0..rank-1 (the op validates it). Any element size works (sizes other than
// 1, 2, 4, 8 move as byte runs).
//
// The plan normalizes the problem once; run_tiles(begin, end) does tiles [begin, end) of
// tiles() and is re-entrant, so a thread pool can split the range (each tile writes its
// own outputs: results never depend on the split).
class TransposeNdPlan {
 public:
  // `kernel` overrides the 2-D kernel (tests, benchmarks); it must have the element size.
  TransposeNdPlan(size_t element_size, size_t rank, const int64_t* dims, const int64_t* perm,
                  const TransposecKernel* kernel = nullptr);
  size_t tiles() const { return tiles_; }
  void run_tiles(const void* in, void* out, size_t begin, size_t end) const;
  // What the normalization left (tests, benchmarks): dims in input order and the perm.
  size_t rank() const { return n_; }
  const int64_t* dims() const { return dims_; }
  const int64_t* perm() const { return perm_; }
  bool is_copy() const { return mode_ != Mode::kTiles; }

  static constexpr size_t kMaxRank = 16;  // after merging; more dims than this cannot stay apart
  static constexpr size_t kBlock = 64;    // a tile is at most kBlock x kBlock elements

 private:
  enum class Mode { kMemcpy, kRuns, kTiles };
  Mode mode_ = Mode::kMemcpy;
  size_t es_ = 1, n_ = 0, tiles_ = 0;
  int64_t dims_[kMaxRank] = {}, perm_[kMaxRank] = {};
  size_t total_bytes_ = 0;
  // kRuns: runs of run_bytes_; kTiles: bh_ x bw_ blocks split in kBlock tiles.
  size_t run_bytes_ = 0, bh_ = 0, bw_ = 0, in_row_ = 0, out_row_ = 0, nbh_ = 0, nbw_ = 0;
  // Outer loops in output order (innermost last): size, input and output byte strides.
  size_t outer_n_ = 0, outer_count_ = 1;
  int64_t outer_size_[kMaxRank] = {}, outer_in_[kMaxRank] = {}, outer_out_[kMaxRank] = {};
  const TransposecKernel* kernel_ = nullptr;
};

// The whole transposition on the calling thread.
void transpose_nd(size_t element_size, size_t rank, const int64_t* dims, const int64_t* perm, const void* in,
                  void* out, const TransposecKernel* kernel = nullptr);

}  // namespace kiln
