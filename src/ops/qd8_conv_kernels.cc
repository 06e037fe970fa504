#include "ops/qd8_conv_kernels.h"

#include <algorithm>
#include <cstring>

#include "platform/thread_pool.h"

namespace kiln {

void QD8ConvKernels::pack(size_t groups, size_t group_in, size_t group_out, size_t kh, size_t kw, const int8_t* qw,
                          const float* scale, const float* bias) {
  igemm_ = nullptr;
  dwconv_ = nullptr;
  have_shape_ = false;
  dw_base_ = nullptr;
  if (groups == 0 || group_in == 0 || group_out == 0 || kh == 0 || kw == 0) return;
  groups_ = groups, group_in_ = group_in, group_out_ = group_out, kh_ = kh, kw_ = kw;
  const size_t ks = kh * kw;
  if (group_in == 1 && group_out == 1) {  // depthwise: W is [C][ks]
    dwconv_ = &f32_qc8w_dwconv_default_kernel(ks);
    weights_.assign(f32_qc8w_dwconv_packed_size(dwconv_->ct, groups, ks) / 4, 0);
    f32_qc8w_dwconv_pack(dwconv_->ct, groups, ks, qw, scale, bias, weights_.data());
    return;
  }
  igemm_ = &qd8_igemm_default_kernel();
  gemm_ = nullptr;
  if (groups == 1 && ks == 1 && qd8_gemm_default_kernel().nr == igemm_->nr) gemm_ = &qd8_gemm_default_kernel();
  group_words_ = (qd8_igemm_packed_size(igemm_->nr, group_out, group_in, ks) + 3) / 4;
  weights_.assign(groups * group_words_, 0);
  for (size_t grp = 0; grp < groups; ++grp)
    qd8_igemm_pack(igemm_->nr, group_out, group_in, ks, qw + grp * group_out * group_in * ks, scale + grp * group_out,
                   bias ? bias + grp * group_out : nullptr, weights_.data() + grp * group_words_);
}

bool QD8ConvKernels::pointwise(const ConvGeometry& g) {
  if (g.rank != 2 || g.groups != 1) return false;
  for (size_t d = 0; d < 2; ++d)
    if (g.kernel[d] != 1 || g.stride[d] != 1 || g.pad_begin[d] != 0 || g.out[d] != g.in[d]) return false;
  return true;
}

bool QD8ConvKernels::accepts(const ConvGeometry& g) const {
  return (igemm_ || dwconv_) && g.rank == 2 && g.groups == groups_ && g.group_in == group_in_ &&
         g.group_out == group_out_ && static_cast<size_t>(g.kernel[0]) == kh_ && static_cast<size_t>(g.kernel[1]) == kw_;
}

void QD8ConvKernels::run(const ConvGeometry& g, const float* x, float* y, F32MinMax minmax) {
  if (!accepts(g)) return;  // the op asks first; stay in bounds anyway
  const size_t cin = groups_ * group_in_, cout = groups_ * group_out_;
  const size_t in_px = static_cast<size_t>(g.in[0] * g.in[1]), out_px = static_cast<size_t>(g.out[0] * g.out[1]);
  if (g.batch == 0 || out_px == 0) return;

  if (gemm_ && pointwise(g)) {  // every pixel a row, quantized on its own
    const size_t m = g.batch * in_px, kp = qd8_padded_k(cin);
    image_.resize(m * kp);
    row_params_.resize(m);
    have_shape_ = false;  // image_ no longer holds the layout the indirection points into
    qd8_quantize_rows(m, cin, x, cin, image_.data(), kp, row_params_.data());
    QD8GemmArgs args;
    args.m = m, args.n = cout, args.k = cin, args.qa = image_.data(), args.qa_stride = kp;
    args.row_params = row_params_.data(), args.packed_w = weights_.data(), args.c = y, args.c_stride = cout;
    args.minmax = minmax;
    const size_t panels = (cout + gemm_->nr - 1) / gemm_->nr;
    parallel_for((m + gemm_->mr - 1) / gemm_->mr,
                 [&](size_t begin, size_t end) { qd8_gemm_tiles(*gemm_, args, begin, end, 0, panels); });
    return;
  }

  NhwcConv2dShape s;
  s.in_h = static_cast<size_t>(g.in[0]), s.in_w = static_cast<size_t>(g.in[1]);
  s.out_h = static_cast<size_t>(g.out[0]), s.out_w = static_cast<size_t>(g.out[1]);
  s.kernel_h = kh_, s.kernel_w = kw_;
  s.stride_h = static_cast<size_t>(g.stride[0]), s.stride_w = static_cast<size_t>(g.stride[1]);
  s.dilation_h = static_cast<size_t>(g.dilation[0]), s.dilation_w = static_cast<size_t>(g.dilation[1]);
  s.pad_top = static_cast<ptrdiff_t>(g.pad_begin[0]), s.pad_left = static_cast<ptrdiff_t>(g.pad_begin[1]);
  s.pixel_stride = cin;
  if (dwconv_) {
    run_depthwise(g, s, x, y, minmax);
    return;
  }
  const bool same = have_shape_ && s.in_h == shape_.in_h && s.in_w == shape_.in_w && s.out_h == shape_.out_h &&
                    s.out_w == shape_.out_w && s.stride_h == shape_.stride_h && s.stride_w == shape_.stride_w &&
                    s.dilation_h == shape_.dilation_h && s.dilation_w == shape_.dilation_w &&
                    s.pad_top == shape_.pad_top && s.pad_left == shape_.pad_left;
  if (!same) {
    // One image, padded to the quantizer's block, + 8 bytes: the last pixel's k block reads
    // round_up(group_in, 8) bytes from its group's first channel.
    image_.assign(qd8_padded_k(in_px * cin) + 8, 0);
    zero_.assign(qd8_padded_k(group_in_) + 8, 0);
    indirection_.resize(nhwc_conv_indirection_size(s, igemm_->mr));
    nhwc_conv_indirection_init(s, igemm_->mr, image_.data(), zero_.data(), indirection_.data());
    shape_ = s;
    have_shape_ = true;
  }
  for (size_t b = 0; b < g.batch; ++b) {
    QD8RowParams quant;
    qd8_quantize_rows(1, in_px * cin, x + b * in_px * cin, in_px * cin, image_.data(), image_.size(), &quant);
    std::memset(zero_.data(), quant.zero_point, zero_.size());  // padding taps: (zp - zp) * w = 0
    float* yb = y + b * out_px * cout;
    for (size_t grp = 0; grp < groups_; ++grp) {
      QD8IgemmArgs args;
      args.m = out_px, args.n = group_out_, args.kc = group_in_, args.ks = kh_ * kw_;
      args.indirection = indirection_.data(), args.a_offset = grp * group_in_, args.zero = zero_.data();
      args.quant = quant, args.packed_w = weights_.data() + grp * group_words_;
      args.c = yb + grp * group_out_, args.c_stride = cout, args.minmax = minmax;
      const size_t panels = qd8_igemm_col_panels(*igemm_, group_out_);
      parallel_for(qd8_igemm_pixel_tiles(*igemm_, out_px),
                   [&](size_t begin, size_t end) { qd8_igemm_tiles(*igemm_, args, begin, end, 0, panels); });
    }
  }
}

void QD8ConvKernels::run_depthwise(const ConvGeometry& g, const NhwcConv2dShape& s, const float* x, float* y,
                                   F32MinMax minmax) {
  const size_t c = groups_, in_px = s.in_h * s.in_w, out_px = s.out_h * s.out_w;
  const bool same = have_shape_ && s.in_h == shape_.in_h && s.in_w == shape_.in_w && s.out_h == shape_.out_h &&
                    s.out_w == shape_.out_w && s.stride_h == shape_.stride_h && s.stride_w == shape_.stride_w &&
                    s.dilation_h == shape_.dilation_h && s.dilation_w == shape_.dilation_w &&
                    s.pad_top == shape_.pad_top && s.pad_left == shape_.pad_left;
  if (!same) {
    dw_zero_.assign(c, 0.f);
    dw_indirection_.resize(nhwc_conv_indirection_size(s, 1));
    nhwc_conv_indirection_init(s, 1, x, dw_zero_.data(), dw_indirection_.data());
    dw_base_ = x;
    shape_ = s;
    have_shape_ = true;
  }
  // Byte offset from the buffer's base to this input (wraps when x < dw_base_).
  const size_t moved = reinterpret_cast<uintptr_t>(x) - reinterpret_cast<uintptr_t>(dw_base_);
  for (size_t b = 0; b < g.batch; ++b) {
    F32QC8WDwconvArgs args;
    args.pixels = out_px, args.channels = c, args.ks = kh_ * kw_;
    args.indirection = dw_indirection_.data(), args.a_offset = moved + b * in_px * c * sizeof(float);
    args.zero = dw_zero_.data(), args.packed_w = weights_.data();
    args.out = y + b * out_px * c, args.out_stride = c, args.minmax = minmax;
    parallel_for(out_px, [&](size_t begin, size_t end) { f32_qc8w_dwconv_pixels(*dwconv_, args, begin, end); });
  }
}

void qd8_conv_nhwc_reference(const ConvGeometry& g, const float* x, const int8_t* qw, const float* scale,
                             const float* bias, float* y) {
  const size_t cin = g.groups * g.group_in, cout = g.groups * g.group_out;
  const size_t in_px = static_cast<size_t>(g.in[0] * g.in[1]);
  const size_t per_out = g.group_in * static_cast<size_t>(g.kernel[0] * g.kernel[1]);
  std::vector<float> w(cout * per_out);
  for (size_t j = 0; j < cout; ++j)
    for (size_t t = 0; t < per_out; ++t) w[j * per_out + t] = scale[j] * static_cast<float>(qw[j * per_out + t]);
  if (QD8ConvKernels::depthwise(g)) {  // float activations (f32-qc8w-dwconv)
    f32_conv_nhwc_reference(g, x, w.data(), bias, y);
    return;
  }
  // Rows quantized as the kernels do: a pixel each (pointwise) or an image each.
  const bool pw = QD8ConvKernels::pointwise(g);
  const size_t rows = pw ? g.batch * in_px : g.batch, k = pw ? cin : in_px * cin, kp = qd8_padded_k(k);
  std::vector<int8_t> q(rows * kp);
  std::vector<QD8RowParams> params(rows);
  qd8_quantize_rows_reference(rows, k, x, k, q.data(), kp, params.data());
  std::vector<float> xd(rows * k);
  for (size_t r = 0; r < rows; ++r)
    for (size_t i = 0; i < k; ++i)
      xd[r * k + i] = params[r].scale * static_cast<float>(q[r * kp + i] - params[r].zero_point);
  f32_conv_nhwc_reference(g, xd.data(), w.data(), bias, y);
}

}  // namespace kiln
