// One depthwise layer (NHWC, C channels, K x K, stride S, padding K / 2) set up for either
// the default f32 depthwise kernel or a qs8-qc8w depthwise kernel, so the native
// (qs8-dwconv-bench.cc) and WASM (wasm/qs8-dwconv-bench-wasm.cc) benchmarks time the same
// work: packed weights and the indirection buffer are built once, run() is one layer.
#pragma once
#include <cstdint>
#include <vector>

#include "kernels/f32-dwconv/f32-dwconv.h"
#include "kernels/f32-igemm/conv-indirection.h"
#include "kernels/qs8-qc8w-dwconv/qs8-qc8w-dwconv.h"

namespace kiln::bench {

class Qs8DwconvProblem {
 public:
  // qs8 == nullptr: the f32 default kernel for K x K.
  Qs8DwconvProblem(const QS8DwconvKernel* qs8, size_t h, size_t w, size_t c, size_t k, size_t stride)
      : Qs8DwconvProblem(qs8, nullptr, h, w, c, k, stride) {}
  // An activation-epilogue (HardSwish) kernel on the same layer; scales chosen so the outputs
  // span HardSwish's knee and the clamp (not all saturated).
  Qs8DwconvProblem(const QS8DwconvActKernel* act, size_t h, size_t w, size_t c, size_t k, size_t stride)
      : Qs8DwconvProblem(nullptr, act, h, w, c, k, stride) {}
  Qs8DwconvProblem(const QS8DwconvKernel* qs8, const QS8DwconvActKernel* act, size_t h, size_t w, size_t c,
                   size_t k, size_t stride)
      : qs8_(qs8), act_(act) {
    if (act_) qs8_shape_ = QS8DwconvKernel{act_->name, act_->taps, act_->ct, nullptr, act_->kr};
    s_.in_h = h, s_.in_w = w, s_.kernel_h = s_.kernel_w = k, s_.stride_h = s_.stride_w = stride;
    s_.pad_top = s_.pad_left = static_cast<ptrdiff_t>(k / 2), s_.pixel_stride = c;
    s_.out_h = (h + 2 * (k / 2) - k) / stride + 1, s_.out_w = (w + 2 * (k / 2) - k) / stride + 1;
    const size_t ks = k * k, px = s_.out_h * s_.out_w;
    flops_ = 2.0 * static_cast<double>(px * c * ks);
    const QS8DwconvKernel* qk = act_ ? &qs8_shape_ : qs8_;
    if (qk) {
      xq_.resize(h * w * c), wq_.resize(c * ks), zq_.assign(c, 3), yq_.resize(px * c);
      for (size_t i = 0; i < xq_.size(); ++i) xq_[i] = static_cast<int8_t>((i * 7919 + 1) % 251);
      for (size_t i = 0; i < wq_.size(); ++i) wq_[i] = static_cast<int8_t>((i * 7919 + 2) % 255);
      const std::vector<int32_t> bias(c, 100);
      const std::vector<float> scale(c, 1.f / 2000.f);
      packed_q_.resize(qs8_dwconv_packed_size(qk->ct, c, ks, qk->kr) / 4);
      qs8_dwconv_pack(qk->ct, c, ks, 3, wq_.data(), bias.data(), scale.data(), packed_q_.data(), qk->kr);
      indq_.resize(nhwc_conv_indirection_size(s_, 1));
      nhwc_conv_indirection_init(s_, 1, xq_.data(), zq_.data(), indq_.data());
      qargs_.pixels = px, qargs_.channels = c, qargs_.ks = ks, qargs_.indirection = indq_.data();
      qargs_.zero = zq_.data(), qargs_.packed_w = packed_q_.data(), qargs_.out = yq_.data(), qargs_.out_stride = c;
      qargs_.params = QS8RequantParams{-2, -128, 127};
    } else {
      f32_ = &f32_dwconv_default_kernel(ks);
      xf_.resize(h * w * c), wf_.resize(c * ks), zf_.assign(c, 0.f), yf_.resize(px * c);
      for (size_t i = 0; i < xf_.size(); ++i) xf_[i] = static_cast<float>((i * 7919 + 1) % 113) / 113.f - 0.5f;
      for (size_t i = 0; i < wf_.size(); ++i) wf_[i] = static_cast<float>((i * 7919 + 2) % 113) / 113.f - 0.5f;
      packed_f_.resize(f32_dwconv_packed_size(f32_->ct, c, ks));
      f32_dwconv_pack(f32_->ct, c, ks, wf_.data(), nullptr, packed_f_.data());
      indf_.resize(nhwc_conv_indirection_size(s_, 1));
      nhwc_conv_indirection_init(s_, 1, xf_.data(), zf_.data(), indf_.data());
      fargs_.pixels = px, fargs_.channels = c, fargs_.ks = ks, fargs_.indirection = indf_.data();
      fargs_.zero = zf_.data(), fargs_.packed_w = packed_f_.data(), fargs_.out = yf_.data(), fargs_.out_stride = c;
    }
  }
  void run() {
    if (act_)
      act_->fn(qargs_.channels, qargs_.pixels, qargs_.ks, qargs_.indirection, qargs_.packed_w, qargs_.out,
               qargs_.out_stride, 0, qargs_.zero, &act_params_);
    else if (qs8_)
      qs8_dwconv_pixels(*qs8_, qargs_, 0, qargs_.pixels);
    else
      f32_dwconv(*f32_, fargs_);
  }
  double flops() const { return flops_; }  // 2 x multiply-adds: "GOP/s" for int8
  const char* name() const { return act_ ? act_->name : qs8_ ? qs8_->name : f32_->name; }
  const void* output() const { return qs8_ || act_ ? static_cast<const void*>(yq_.data()) : yf_.data(); }

 private:
  const QS8DwconvKernel* qs8_;
  const QS8DwconvActKernel* act_;
  QS8DwconvKernel qs8_shape_{};  // act_'s packing parameters
  QS8ActParams act_params_{0.05f, -2, -128, 127};
  const F32DwconvKernel* f32_ = nullptr;
  NhwcConv2dShape s_;
  double flops_ = 0;
  std::vector<int8_t> xq_, wq_, zq_, yq_;
  std::vector<int32_t> packed_q_;
  std::vector<const int8_t*> indq_;
  QS8DwconvArgs qargs_;
  std::vector<float> xf_, wf_, zf_, yf_, packed_f_;
  std::vector<const float*> indf_;
  F32DwconvArgs fargs_;
};

}  // namespace kiln::bench
