// The fast kernels behind an NHWC 2-D Conv: weights packed once, then per call the best
// family for the layer: a 1x1 stride-1 unpadded group-1 layer is a plain GEMM on the
// NHWC rows (no transposes), a depthwise layer (one input and one output channel per
// group) runs the depthwise microkernels, everything else runs IGEMM per group. A
// pointwise layer with pruned weights (f32_spmm_preferred) runs the SpMM kernels instead
// of the GEMM (the IGEMM packing is kept for strided / padded uses of the same op). The
// indirection buffer is cached per input geometry and reused while only the input
// address or the batch size changes (the kernels add a byte offset to its pointers).
#pragma once
#include <cstddef>
#include <vector>

#include "kernels/f32-dwconv/f32-dwconv.h"
#include "kernels/f32-igemm/conv-indirection.h"
#include "kernels/f32-igemm/f32-igemm.h"
#include "kernels/f32-spmm/f32-spmm.h"
#include "kernels/reference/reference.h"

namespace kiln {

class NhwcConvKernels {
 public:
  // w: ONNX layout [M = groups*group_out, group_in, kh, kw]; bias: M values or null.
  // Returns false (and stays unpacked) when no fast kernel applies; the op then uses its reference.
  bool pack(size_t groups, size_t group_in, size_t group_out, size_t kh, size_t kw, const float* w, const float* bias);
  bool packed() const { return path_ != Path::kNone; }
  bool sparse() const { return spmm_ != nullptr; }
  // x: [N, H, W, groups*group_in]; y: [N, OH, OW, groups*group_out], both NHWC, dense.
  // Caches the indirection buffer per input geometry; must not be called concurrently on one object.
  // g (rank 2, or rank 1 as H = 1) must have the packed groups, channels and kernel size.
  void run(const ConvGeometry& g, const float* x, float* y, F32MinMax minmax);

 private:
  enum class Path { kNone, kDwconv, kIgemm };
  // The indirection buffer's key: the image shape and window (not the batch or address).
  struct Key {
    NhwcConv2dShape shape;
    bool valid = false;
    bool operator==(const Key& o) const;
  };

  void prepare(const NhwcConv2dShape& s, const float* x);
  bool is_pointwise(const NhwcConv2dShape& s) const;

  Path path_ = Path::kNone;
  size_t groups_ = 0, group_in_ = 0, group_out_ = 0, kh_ = 0, kw_ = 0;
  const F32IgemmKernel* igemm_ = nullptr;
  const F32GemmKernel* gemm_ = nullptr;  // same tile as igemm_ (1x1 group-1 layers), or null
  const F32DwconvKernel* dwconv_ = nullptr;
  const F32SpmmKernel* spmm_ = nullptr;  // pointwise layers with pruned weights, or null
  F32SpmmPacked sparse_;
  std::vector<float> weights_;  // IGEMM: per group, packed for igemm_; depthwise: for dwconv_
  size_t group_packed_ = 0;     // floats per group in weights_ (IGEMM)

  Key key_;
  const float* base_ = nullptr;  // the input address the indirection pointers were built for
  std::vector<const float*> indirection_;
  std::vector<float> zero_;
};

}  // namespace kiln
