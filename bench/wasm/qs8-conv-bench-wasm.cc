// The qs8-qc8w IGEMM family for bench/wasm-qs8-conv.mjs: one group-1 layer (padding K / 2),
// run by kind: every qs8 IGEMM kernel (int8 in and out), every activation-epilogue qs8 IGEMM
// kernel (HardSwish), then the default f32 IGEMM and the default qd8 IGEMM (image already
// quantized) on the same layer, as bench/qs8-conv-bench.cc.
#include <emscripten/emscripten.h>

#include <vector>

#include "kernels/f32-igemm/conv-indirection.h"
#include "kernels/f32-igemm/f32-igemm.h"
#include "kernels/qd8-f32-qc8w-igemm/qd8-f32-qc8w-igemm.h"
#include "kernels/qs8-qc8w-igemm/qs8-qc8w-igemm.h"

namespace {
struct QS8ConvProblem {
  int kind = 0;  // < qs8 + act kernel count: that qs8 kernel; == count: f32 default; count + 1: qd8 default
  kiln::NhwcConv2dShape shape;
  std::vector<int8_t> x8, zero8, y8;
  std::vector<float> xf, zerof, yf, packed_f;
  std::vector<int32_t> packed;
  std::vector<const int8_t*> ind8;
  std::vector<const float*> indf;
  kiln::QS8IgemmArgs qs8;
  kiln::F32IgemmArgs f32;
  kiln::QD8IgemmArgs qd8;
};

std::vector<int8_t> qdata(size_t n, size_t salt) {
  std::vector<int8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<int8_t>(static_cast<int>((i * 7919 + salt) % 255) - 127);
  return v;
}
std::vector<float> fdata(size_t n, size_t salt) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<float>((i * 7919 + salt) % 113) / 113.f - 0.5f;
  return v;
}
}  // namespace

extern "C" {
// The qs8 kinds: the requantizing kernels, then the activation-epilogue ones.
EMSCRIPTEN_KEEPALIVE int kiln_bench_qs8_igemm_kernel_count() {
  return static_cast<int>(kiln::qs8_igemm_kernels().size() + kiln::qs8_igemm_act_kernels().size());
}
// Names of the kinds: the qs8 kernels, then the two comparison kernels.
EMSCRIPTEN_KEEPALIVE const char* kiln_bench_qs8_igemm_kind_name(int i) {
  const int n = kiln_bench_qs8_igemm_kernel_count(), nq = static_cast<int>(kiln::qs8_igemm_kernels().size());
  if (i < nq) return kiln::qs8_igemm_kernels()[i].name;
  if (i < n) return kiln::qs8_igemm_act_kernels()[i - nq].name;
  return i == n ? kiln::f32_igemm_default_kernel().name : kiln::qd8_igemm_default_kernel().name;
}
EMSCRIPTEN_KEEPALIVE const char* kiln_bench_qs8_igemm_default_kernel() { return kiln::qs8_igemm_default_kernel().name; }

EMSCRIPTEN_KEEPALIVE QS8ConvProblem* kiln_bench_qs8_conv_create(int kind, int h, int w, int cin, int cout, int k,
                                                                int stride) {
  auto* p = new QS8ConvProblem;
  p->kind = kind;
  kiln::NhwcConv2dShape& s = p->shape;
  s.in_h = h, s.in_w = w, s.kernel_h = s.kernel_w = k, s.stride_h = s.stride_w = stride;
  s.pad_top = s.pad_left = k / 2, s.pixel_stride = cin;
  s.out_h = (h + 2 * (k / 2) - k) / stride + 1, s.out_w = (w + 2 * (k / 2) - k) / stride + 1;
  const size_t m = s.out_h * s.out_w, ks = static_cast<size_t>(k) * k, n = cout, kc = cin;
  const int count = kiln_bench_qs8_igemm_kernel_count();
  if (kind < count) {
    const int nq = static_cast<int>(kiln::qs8_igemm_kernels().size());
    const size_t mr = kind < nq ? kiln::qs8_igemm_kernels()[kind].mr : kiln::qs8_igemm_act_kernels()[kind - nq].mr;
    const size_t nr = kind < nq ? kiln::qs8_igemm_kernels()[kind].nr : kiln::qs8_igemm_act_kernels()[kind - nq].nr;
    p->x8 = qdata(static_cast<size_t>(h) * w * cin, 1);
    p->zero8.assign(kc, 3);
    const std::vector<int8_t> qw = qdata(n * kc * ks, 2);
    const std::vector<float> scale(n, 0.0005f);
    const std::vector<int32_t> bias(n, 100);
    p->ind8.resize(kiln::nhwc_conv_indirection_size(s, mr));
    kiln::nhwc_conv_indirection_init(s, mr, p->x8.data(), p->zero8.data(), p->ind8.data());
    p->packed.resize((kiln::qs8_igemm_packed_size(nr, n, kc, ks) + 3) / 4);
    kiln::qs8_igemm_pack(nr, n, kc, ks, 3, qw.data(), scale.data(), bias.data(), p->packed.data());
    p->y8.resize(m * n);
    p->qs8.m = m, p->qs8.n = n, p->qs8.kc = kc, p->qs8.ks = ks, p->qs8.indirection = p->ind8.data();
    p->qs8.zero = p->zero8.data(), p->qs8.packed_w = p->packed.data(), p->qs8.c = p->y8.data(), p->qs8.c_stride = n;
    p->qs8.act_params = kiln::QS8ActParams{0.05f, 0, -128, 127};
  } else if (kind == count) {
    const kiln::F32IgemmKernel& kern = kiln::f32_igemm_default_kernel();
    p->xf = fdata(static_cast<size_t>(h) * w * cin, 1);
    p->zerof.assign(kc, 0.f);
    const std::vector<float> wf = fdata(n * kc * ks, 2), bias = fdata(n, 3);
    p->indf.resize(kiln::nhwc_conv_indirection_size(s, kern.mr));
    kiln::nhwc_conv_indirection_init(s, kern.mr, p->xf.data(), p->zerof.data(), p->indf.data());
    p->packed_f.resize(kiln::f32_igemm_packed_size(kern.nr, n, kc, ks));
    kiln::f32_igemm_pack(kern.nr, n, kc, ks, wf.data(), bias.data(), p->packed_f.data());
    p->yf.resize(m * n);
    p->f32.m = m, p->f32.n = n, p->f32.kc = kc, p->f32.ks = ks, p->f32.indirection = p->indf.data();
    p->f32.zero = p->zerof.data(), p->f32.packed_w = p->packed_f.data(), p->f32.c = p->yf.data(), p->f32.c_stride = n;
  } else {
    const kiln::QD8IgemmKernel& kern = kiln::qd8_igemm_default_kernel();
    p->x8 = qdata(static_cast<size_t>(h) * w * cin + 16, 1);  // the qd8 kernels read 8-blocks
    p->zero8.assign(kiln::qd8_padded_k(kc) + 8, 3);
    const std::vector<int8_t> qw = qdata(n * kc * ks, 2);
    const std::vector<float> scale(n, 0.01f), bias = fdata(n, 3);
    p->ind8.resize(kiln::nhwc_conv_indirection_size(s, kern.mr));
    kiln::nhwc_conv_indirection_init(s, kern.mr, p->x8.data(), p->zero8.data(), p->ind8.data());
    p->packed.resize((kiln::qd8_igemm_packed_size(kern.nr, n, kc, ks) + 3) / 4);
    kiln::qd8_igemm_pack(kern.nr, n, kc, ks, qw.data(), scale.data(), bias.data(), p->packed.data());
    p->yf.resize(m * n);
    p->qd8.m = m, p->qd8.n = n, p->qd8.kc = kc, p->qd8.ks = ks, p->qd8.indirection = p->ind8.data();
    p->qd8.zero = p->zero8.data(), p->qd8.quant.zero_point = 3, p->qd8.quant.scale = 0.02f;
    p->qd8.packed_w = p->packed.data(), p->qd8.c = p->yf.data(), p->qd8.c_stride = n;
  }
  return p;
}

EMSCRIPTEN_KEEPALIVE int kiln_bench_qs8_conv_run(QS8ConvProblem* p, int reps) {
  const int count = kiln_bench_qs8_igemm_kernel_count(), nq = static_cast<int>(kiln::qs8_igemm_kernels().size());
  for (int r = 0; r < reps; ++r) {
    if (p->kind < nq)
      kiln::qs8_igemm(kiln::qs8_igemm_kernels()[p->kind], p->qs8);
    else if (p->kind < count)
      kiln::qs8_igemm(kiln::qs8_igemm_act_kernels()[p->kind - nq], p->qs8);
    else if (p->kind == count)
      kiln::f32_igemm(kiln::f32_igemm_default_kernel(), p->f32);
    else
      kiln::qd8_igemm(kiln::qd8_igemm_default_kernel(), p->qd8);
  }
  return p->y8.empty() ? static_cast<int>(p->yf[0]) : p->y8[0];
}

EMSCRIPTEN_KEEPALIVE void kiln_bench_qs8_conv_destroy(QS8ConvProblem* p) { delete p; }
}
