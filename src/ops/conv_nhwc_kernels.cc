#include "ops/conv_nhwc_kernels.h"

#include <algorithm>
#include <cstdint>

#include "ops/packed_gemm.h"
#include "platform/thread_pool.h"

namespace kiln {

bool NhwcConvKernels::Key::operator==(const Key& o) const {
  const NhwcConv2dShape &a = shape, &b = o.shape;
  return valid && o.valid && a.in_h == b.in_h && a.in_w == b.in_w && a.out_h == b.out_h && a.out_w == b.out_w &&
         a.kernel_h == b.kernel_h && a.kernel_w == b.kernel_w && a.stride_h == b.stride_h &&
         a.stride_w == b.stride_w && a.dilation_h == b.dilation_h && a.dilation_w == b.dilation_w &&
         a.pad_top == b.pad_top && a.pad_left == b.pad_left && a.pixel_stride == b.pixel_stride;
}

bool NhwcConvKernels::pack(size_t groups, size_t group_in, size_t group_out, size_t kh, size_t kw, const float* w,
                           const float* bias) {
  path_ = Path::kNone;
  key_ = Key();
  weights_.clear();
  spmm_ = nullptr;
  sparse_ = F32SpmmPacked();
  if (use_reference_kernels() || groups == 0 || group_in == 0 || group_out == 0 || kh == 0 || kw == 0) return false;
  groups_ = groups, group_in_ = group_in, group_out_ = group_out, kh_ = kh, kw_ = kw;
  const size_t ks = kh * kw;
  if (group_in == 1 && group_out == 1) {  // depthwise, channel multiplier 1: W is [C][ks]
    dwconv_ = &f32_dwconv_default_kernel(ks);
    weights_.resize(f32_dwconv_packed_size(dwconv_->ct, groups, ks));
    f32_dwconv_pack(dwconv_->ct, groups, ks, w, bias, weights_.data());
    path_ = Path::kDwconv;
    return true;
  }
  // Everything else (incl. depthwise with a channel multiplier) is IGEMM per group.
  igemm_ = &f32_igemm_default_kernel();
  gemm_ = nullptr;
  if (groups == 1 && ks == 1) {  // ks = 1 IGEMM weights are GEMM weights for the same NR
    const F32GemmKernel& g = f32_gemm_default_kernel();
    if (g.nr == igemm_->nr) gemm_ = &g;
    // W [Cout][Cin] is B (k = Cin, n = Cout) read transposed.
    if (gemm_ && sparse_kernels_enabled() &&
        f32_spmm_preferred(group_out, group_in, f32_count_zeros(group_out, group_in, w, 1, static_cast<ptrdiff_t>(group_in)))) {
      spmm_ = &f32_spmm_default_kernel();
      sparse_ = f32_spmm_pack(spmm_->mr, group_out, group_in, w, 1, static_cast<ptrdiff_t>(group_in), bias, 1);
    }
  }
  group_packed_ = f32_igemm_packed_size(igemm_->nr, group_out, group_in, ks);
  weights_.resize(groups * group_packed_);
  for (size_t grp = 0; grp < groups; ++grp)
    f32_igemm_pack(igemm_->nr, group_out, group_in, ks, w + grp * group_out * group_in * ks,
                   bias ? bias + grp * group_out : nullptr, weights_.data() + grp * group_packed_);
  path_ = Path::kIgemm;
  return true;
}

bool NhwcConvKernels::is_pointwise(const NhwcConv2dShape& s) const {
  return gemm_ != nullptr && s.kernel_h == 1 && s.kernel_w == 1 && s.stride_h == 1 && s.stride_w == 1 &&
         s.pad_top == 0 && s.pad_left == 0 && s.out_h == s.in_h && s.out_w == s.in_w;
}

void NhwcConvKernels::prepare(const NhwcConv2dShape& s, const float* x) {
  Key key;
  key.shape = s;
  key.valid = true;
  if (key == key_) return;
  const size_t mr = path_ == Path::kIgemm ? igemm_->mr : 1;
  indirection_.resize(nhwc_conv_indirection_size(s, mr));
  // One zero row: kc floats for IGEMM, all channels for depthwise.
  zero_.assign(std::max<size_t>(1, path_ == Path::kIgemm ? group_in_ : groups_), 0.f);
  nhwc_conv_indirection_init(s, mr, x, zero_.data(), indirection_.data());
  base_ = x;
  key_ = key;
}

void NhwcConvKernels::run(const ConvGeometry& g, const float* x, float* y, F32MinMax minmax) {
  if (path_ == Path::kNone || (g.rank != 1 && g.rank != 2)) return;
  NhwcConv2dShape s;
  const size_t h = g.rank == 2 ? 0 : 1;  // rank 1: a single row (H = 1)
  const size_t wd = g.rank - 1;
  if (h == 0) {
    s.in_h = static_cast<size_t>(g.in[0]), s.out_h = static_cast<size_t>(g.out[0]);
    s.kernel_h = static_cast<size_t>(g.kernel[0]), s.stride_h = static_cast<size_t>(g.stride[0]);
    s.dilation_h = static_cast<size_t>(g.dilation[0]), s.pad_top = static_cast<ptrdiff_t>(g.pad_begin[0]);
  }
  s.in_w = static_cast<size_t>(g.in[wd]), s.out_w = static_cast<size_t>(g.out[wd]);
  s.kernel_w = static_cast<size_t>(g.kernel[wd]), s.stride_w = static_cast<size_t>(g.stride[wd]);
  s.dilation_w = static_cast<size_t>(g.dilation[wd]), s.pad_left = static_cast<ptrdiff_t>(g.pad_begin[wd]);
  // The packed weights fix the kernel size (the op checks W against g; stay in bounds anyway).
  if (s.kernel_h != kh_ || s.kernel_w != kw_ || g.groups != groups_ || g.group_in != group_in_ ||
      g.group_out != group_out_)
    return;
  const size_t cin = groups_ * group_in_, cout = groups_ * group_out_;
  s.pixel_stride = cin;
  const size_t in_pixels = s.in_h * s.in_w, out_pixels = s.out_h * s.out_w;
  if (g.batch == 0 || out_pixels == 0) return;

  if (path_ == Path::kIgemm && spmm_ && is_pointwise(s) && g.batch * in_pixels >= f32_spmm_min_rows()) {  // NHWC rows x sparse W
    spmm_multiply(*spmm_, sparse_, g.batch * in_pixels, x, cin, y, cout, minmax);
    return;
  }
  if (path_ == Path::kIgemm && is_pointwise(s)) {  // NHWC rows x packed W: one GEMM
    F32GemmArgs args;
    args.m = g.batch * in_pixels, args.n = cout, args.k = cin;
    args.a = x, args.a_stride = cin;
    args.packed_w = weights_.data(), args.c = y, args.c_stride = cout, args.minmax = minmax;
    parallel_for(f32_gemm_row_tiles(*gemm_, args.m), [&](size_t begin, size_t end) {
      f32_gemm_blocked(*gemm_, args, begin, end, 0, f32_gemm_col_panels(*gemm_, cout));
    });
    return;
  }
  prepare(s, x);
  // Byte offset from the buffer's base to this input (wraps when x < base_).
  const size_t moved = reinterpret_cast<uintptr_t>(x) - reinterpret_cast<uintptr_t>(base_);
  for (size_t b = 0; b < g.batch; ++b) {
    const size_t image = moved + b * in_pixels * cin * sizeof(float);
    float* yb = y + b * out_pixels * cout;
    if (path_ == Path::kDwconv) {
      F32DwconvArgs args;
      args.pixels = out_pixels, args.channels = groups_, args.ks = kh_ * kw_;
      args.indirection = indirection_.data(), args.a_offset = image, args.zero = zero_.data();
      args.packed_w = weights_.data(), args.out = yb, args.out_stride = cout, args.minmax = minmax;
      parallel_for(out_pixels, [&](size_t begin, size_t end) { f32_dwconv_pixels(*dwconv_, args, begin, end); });
      continue;
    }
    for (size_t grp = 0; grp < groups_; ++grp) {
      F32IgemmArgs args;
      args.m = out_pixels, args.n = group_out_, args.kc = group_in_, args.ks = kh_ * kw_;
      args.indirection = indirection_.data();
      args.a_offset = image + grp * group_in_ * sizeof(float);
      args.zero = zero_.data();
      args.packed_w = weights_.data() + grp * group_packed_;
      args.c = yb + grp * group_out_, args.c_stride = cout, args.minmax = minmax;
      // Threads take disjoint row tiles (each writes its own outputs: bit-identical results).
      const size_t panels = (group_out_ + igemm_->nr - 1) / igemm_->nr;
      parallel_for((out_pixels + igemm_->mr - 1) / igemm_->mr,
                   [&](size_t begin, size_t end) { f32_igemm_tiles(*igemm_, args, begin, end, 0, panels); });
    }
  }
}

}  // namespace kiln
