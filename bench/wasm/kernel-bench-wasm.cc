// Entry points for bench/wasm-gemm.mjs and bench/wasm-conv.mjs: the machine's WASM SIMD128
// f32 peak (independent chains of dependent mul+add), f32 GEMM runs per microkernel, and
// NHWC convolution runs (IGEMM / depthwise microkernels, NhwcConvKernels, the NCHW
// reference convolution), so Node can time them.
#include <emscripten/emscripten.h>
#include <wasm_simd128.h>

#include <vector>

#include "kernels/f32-dwconv/f32-dwconv.h"
#include "kernels/f32-gemm/f32-gemm.h"
#include "kernels/f32-qc8w-dwconv/f32-qc8w-dwconv.h"
#include "kernels/qd8-f32-qc8w-gemm/qd8-f32-qc8w-gemm.h"
#include "kernels/f32-igemm/conv-indirection.h"
#include "kernels/f32-igemm/f32-igemm.h"
#include "kernels/reference/reference.h"
#include "ops/conv_nhwc_kernels.h"

namespace {

// kChains independent accumulators, each a dependent chain acc = acc * x + y: enough
// chains hide the mul+add latency, so the loop runs at the throughput limit.
template <int kChains>
float peak_loop(int iters, float seed) {
  v128_t acc[kChains];
  for (int c = 0; c < kChains; ++c) acc[c] = wasm_f32x4_splat(seed + static_cast<float>(c));
  const v128_t x = wasm_f32x4_splat(0.999f), y = wasm_f32x4_splat(0.001f);
  for (int i = 0; i < iters; ++i)
#pragma clang loop unroll(full)
    for (int c = 0; c < kChains; ++c) acc[c] = wasm_f32x4_add(wasm_f32x4_mul(acc[c], x), y);
  v128_t s = acc[0];
  for (int c = 1; c < kChains; ++c) s = wasm_f32x4_add(s, acc[c]);
  return wasm_f32x4_extract_lane(s, 0);
}

struct GemmProblem {
  const kiln::F32GemmKernel* kern;
  kiln::F32GemmArgs args;
  std::vector<float> a, packed, c;
};

// A kiln.DynamicQuantMatMul-shaped problem: quantize A's rows, then the int8 GEMM.
struct QD8Problem {
  const kiln::QD8GemmKernel* kern;
  kiln::QD8GemmArgs args;
  std::vector<float> a, c;
  std::vector<int8_t> qa;
  std::vector<int32_t> packed;
  std::vector<kiln::QD8RowParams> params;
};

// One convolution layer {H, W, Cin, Cout, groups, K, stride}, padding K / 2, run by
// `kind`: 0 an IGEMM microkernel, 1 a depthwise microkernel (index `kernel` in its
// list), 2 NhwcConvKernels, 3 the NCHW reference convolution.
struct ConvProblem {
  int kind = 0;
  const kiln::F32IgemmKernel* igemm = nullptr;
  const kiln::F32DwconvKernel* dwconv = nullptr;
  kiln::ConvGeometry g;
  std::vector<float> x, w, bias, packed, zero, y;
  std::vector<const float*> ind;
  kiln::F32IgemmArgs iargs;
  kiln::F32DwconvArgs dargs;
  const kiln::F32QC8WDwconvKernel* qdwconv = nullptr;  // kind 4: int8 weights
  std::vector<int8_t> qw;
  std::vector<int32_t> qpacked;
  kiln::F32QC8WDwconvArgs qargs;
  kiln::NhwcConvKernels op;
};

std::vector<float> fill(size_t n, size_t salt) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<float>((i * 7919 + salt) % 113) / 113.f - 0.5f;
  return v;
}

}  // namespace

extern "C" {

// FLOPs per call = iters * chains * 4 lanes * 2.
EMSCRIPTEN_KEEPALIVE float kiln_bench_peak(int chains, int iters, float seed) {
  switch (chains) {
    case 4: return peak_loop<4>(iters, seed);
    case 8: return peak_loop<8>(iters, seed);
    case 12: return peak_loop<12>(iters, seed);
    default: return peak_loop<16>(iters, seed);
  }
}

EMSCRIPTEN_KEEPALIVE int kiln_bench_kernel_count() { return static_cast<int>(kiln::f32_gemm_kernels().size()); }
EMSCRIPTEN_KEEPALIVE const char* kiln_bench_kernel_name(int i) { return kiln::f32_gemm_kernels()[i].name; }
EMSCRIPTEN_KEEPALIVE const char* kiln_bench_default_kernel() { return kiln::f32_gemm_default_kernel().name; }

EMSCRIPTEN_KEEPALIVE GemmProblem* kiln_bench_gemm_create(int kernel, int m, int n, int k) {
  auto* p = new GemmProblem;
  p->kern = &kiln::f32_gemm_kernels()[kernel];
  p->a.resize(static_cast<size_t>(m) * k);
  std::vector<float> b(static_cast<size_t>(k) * n);
  for (size_t i = 0; i < p->a.size(); ++i) p->a[i] = static_cast<float>((i * 7919) % 113) / 113.f - 0.5f;
  for (size_t i = 0; i < b.size(); ++i) b[i] = static_cast<float>((i * 104729) % 127) / 127.f - 0.5f;
  p->packed.resize(kiln::f32_gemm_packed_size(p->kern->nr, n, k));
  kiln::f32_gemm_pack(p->kern->nr, n, k, b.data(), n, 1, nullptr, 0, p->packed.data());
  p->c.resize(static_cast<size_t>(m) * n);
  p->args.m = m, p->args.n = n, p->args.k = k;
  p->args.a = p->a.data(), p->args.a_stride = k;
  p->args.packed_w = p->packed.data(), p->args.c = p->c.data(), p->args.c_stride = n;
  return p;
}

EMSCRIPTEN_KEEPALIVE float kiln_bench_gemm_run(GemmProblem* p, int reps) {
  for (int r = 0; r < reps; ++r) kiln::f32_gemm(*p->kern, p->args);
  return p->c[0];
}

EMSCRIPTEN_KEEPALIVE void kiln_bench_gemm_destroy(GemmProblem* p) { delete p; }

// The qd8-f32-qc8w family (bench/wasm-qd8-gemm.mjs): same shapes and data as above.
EMSCRIPTEN_KEEPALIVE int kiln_bench_qd8_kernel_count() { return static_cast<int>(kiln::qd8_gemm_kernels().size()); }
EMSCRIPTEN_KEEPALIVE const char* kiln_bench_qd8_kernel_name(int i) { return kiln::qd8_gemm_kernels()[i].name; }
EMSCRIPTEN_KEEPALIVE const char* kiln_bench_qd8_default_kernel() { return kiln::qd8_gemm_default_kernel().name; }

EMSCRIPTEN_KEEPALIVE QD8Problem* kiln_bench_qd8_create(int kernel, int m, int n, int k) {
  auto* p = new QD8Problem;
  p->kern = &kiln::qd8_gemm_kernels()[kernel];
  const size_t kp = kiln::qd8_padded_k(k);
  p->a.resize(static_cast<size_t>(m) * k);
  std::vector<float> b(static_cast<size_t>(k) * n), w_scale(n);
  for (size_t i = 0; i < p->a.size(); ++i) p->a[i] = static_cast<float>((i * 7919) % 113) / 113.f - 0.5f;
  for (size_t i = 0; i < b.size(); ++i) b[i] = static_cast<float>((i * 104729) % 127) / 127.f - 0.5f;
  std::vector<int8_t> qw(b.size());
  kiln::qc8w_quantize_columns(n, k, b.data(), n, 1, qw.data(), w_scale.data());
  p->packed.resize((kiln::qd8_gemm_packed_size(p->kern->nr, n, k) + 3) / 4);
  kiln::qd8_gemm_pack(p->kern->nr, n, k, qw.data(), n, 1, w_scale.data(), nullptr, p->packed.data());
  p->qa.resize(static_cast<size_t>(m) * kp);
  p->params.resize(m);
  p->c.resize(static_cast<size_t>(m) * n);
  p->args.m = m, p->args.n = n, p->args.k = k;
  p->args.qa = p->qa.data(), p->args.qa_stride = kp, p->args.row_params = p->params.data();
  p->args.packed_w = p->packed.data(), p->args.c = p->c.data(), p->args.c_stride = n;
  return p;
}

EMSCRIPTEN_KEEPALIVE float kiln_bench_qd8_run(QD8Problem* p, int reps) {
  const size_t m = p->args.m, k = p->args.k;
  for (int r = 0; r < reps; ++r) {
    kiln::qd8_quantize_rows(m, k, p->a.data(), k, p->qa.data(), p->args.qa_stride, p->params.data());
    kiln::qd8_gemm(*p->kern, p->args);
  }
  return p->c[0];
}

EMSCRIPTEN_KEEPALIVE void kiln_bench_qd8_destroy(QD8Problem* p) { delete p; }
EMSCRIPTEN_KEEPALIVE int kiln_bench_igemm_count() { return static_cast<int>(kiln::f32_igemm_kernels().size()); }
EMSCRIPTEN_KEEPALIVE const char* kiln_bench_igemm_name(int i) { return kiln::f32_igemm_kernels()[i].name; }
EMSCRIPTEN_KEEPALIVE int kiln_bench_dwconv_count() { return static_cast<int>(kiln::f32_dwconv_kernels().size()); }
EMSCRIPTEN_KEEPALIVE const char* kiln_bench_dwconv_name(int i) { return kiln::f32_dwconv_kernels()[i].name; }
EMSCRIPTEN_KEEPALIVE int kiln_bench_dwconv_taps(int i) { return static_cast<int>(kiln::f32_dwconv_kernels()[i].taps); }

EMSCRIPTEN_KEEPALIVE int kiln_bench_qdwconv_count() { return static_cast<int>(kiln::f32_qc8w_dwconv_kernels().size()); }
EMSCRIPTEN_KEEPALIVE const char* kiln_bench_qdwconv_name(int i) { return kiln::f32_qc8w_dwconv_kernels()[i].name; }
EMSCRIPTEN_KEEPALIVE int kiln_bench_qdwconv_taps(int i) { return static_cast<int>(kiln::f32_qc8w_dwconv_kernels()[i].taps); }

EMSCRIPTEN_KEEPALIVE ConvProblem* kiln_bench_conv_create(int kind, int kernel, int h, int w, int cin, int cout,
                                                         int groups, int k, int stride) {
  auto* p = new ConvProblem;
  p->kind = kind;
  kiln::ConvGeometry& g = p->g;
  g.groups = groups, g.group_in = cin / groups, g.group_out = cout / groups, g.rank = 2;
  const int in[2] = {h, w};
  for (int d = 0; d < 2; ++d) {
    g.in[d] = in[d], g.kernel[d] = k, g.stride[d] = stride, g.dilation[d] = 1, g.pad_begin[d] = k / 2;
    g.out[d] = (in[d] + 2 * (k / 2) - k) / stride + 1;
  }
  const size_t ks = static_cast<size_t>(k) * k, out_pixels = static_cast<size_t>(g.out[0] * g.out[1]);
  p->x = fill(static_cast<size_t>(h) * w * cin, 1);
  p->w = fill(static_cast<size_t>(cout) * g.group_in * ks, 2);
  p->bias = fill(cout, 3);
  p->y.resize(out_pixels * cout);
  kiln::NhwcConv2dShape s;
  s.in_h = h, s.in_w = w, s.out_h = g.out[0], s.out_w = g.out[1], s.kernel_h = s.kernel_w = k;
  s.stride_h = s.stride_w = stride, s.pad_top = s.pad_left = k / 2, s.pixel_stride = cin;
  p->zero.assign(cin, 0.f);
  if (kind == 0) {
    p->igemm = &kiln::f32_igemm_kernels()[kernel];
    p->packed.resize(kiln::f32_igemm_packed_size(p->igemm->nr, cout, cin, ks));
    kiln::f32_igemm_pack(p->igemm->nr, cout, cin, ks, p->w.data(), p->bias.data(), p->packed.data());
    p->ind.resize(kiln::nhwc_conv_indirection_size(s, p->igemm->mr));
    kiln::nhwc_conv_indirection_init(s, p->igemm->mr, p->x.data(), p->zero.data(), p->ind.data());
    kiln::F32IgemmArgs& a = p->iargs;
    a.m = out_pixels, a.n = cout, a.kc = cin, a.ks = ks, a.indirection = p->ind.data(), a.zero = p->zero.data();
    a.packed_w = p->packed.data(), a.c = p->y.data(), a.c_stride = cout;
  } else if (kind == 1) {
    p->dwconv = &kiln::f32_dwconv_kernels()[kernel];
    p->packed.resize(kiln::f32_dwconv_packed_size(p->dwconv->ct, cin, ks));
    kiln::f32_dwconv_pack(p->dwconv->ct, cin, ks, p->w.data(), p->bias.data(), p->packed.data());
    p->ind.resize(kiln::nhwc_conv_indirection_size(s, 1));
    kiln::nhwc_conv_indirection_init(s, 1, p->x.data(), p->zero.data(), p->ind.data());
    kiln::F32DwconvArgs& a = p->dargs;
    a.pixels = out_pixels, a.channels = cin, a.ks = ks, a.indirection = p->ind.data(), a.zero = p->zero.data();
    a.packed_w = p->packed.data(), a.out = p->y.data(), a.out_stride = cin;
  } else if (kind == 4) {
    p->qdwconv = &kiln::f32_qc8w_dwconv_kernels()[kernel];
    p->qw.resize(p->w.size());
    for (size_t i = 0; i < p->w.size(); ++i) p->qw[i] = static_cast<int8_t>(p->w[i] * 250.f);
    const std::vector<float> scale(cin, 1.f / 250.f);
    p->qpacked.resize(kiln::f32_qc8w_dwconv_packed_size(p->qdwconv->ct, cin, ks) / 4);
    kiln::f32_qc8w_dwconv_pack(p->qdwconv->ct, cin, ks, p->qw.data(), scale.data(), p->bias.data(), p->qpacked.data());
    p->ind.resize(kiln::nhwc_conv_indirection_size(s, 1));
    kiln::nhwc_conv_indirection_init(s, 1, p->x.data(), p->zero.data(), p->ind.data());
    kiln::F32QC8WDwconvArgs& a = p->qargs;
    a.pixels = out_pixels, a.channels = cin, a.ks = ks, a.indirection = p->ind.data(), a.zero = p->zero.data();
    a.packed_w = p->qpacked.data(), a.out = p->y.data(), a.out_stride = cin;
  } else if (kind == 2) {
    p->op.pack(groups, g.group_in, g.group_out, k, k, p->w.data(), p->bias.data());
  }
  return p;
}

EMSCRIPTEN_KEEPALIVE float kiln_bench_conv_run(ConvProblem* p, int reps) {
  for (int r = 0; r < reps; ++r) {
    switch (p->kind) {
      case 0: kiln::f32_igemm(*p->igemm, p->iargs); break;
      case 1: kiln::f32_dwconv(*p->dwconv, p->dargs); break;
      case 4: kiln::f32_qc8w_dwconv(*p->qdwconv, p->qargs); break;
      case 2: p->op.run(p->g, p->x.data(), p->y.data(), kiln::F32MinMax()); break;
      default: kiln::f32_conv_reference(p->g, p->x.data(), p->w.data(), p->bias.data(), p->y.data());
    }
  }
  return p->y[0];
}

EMSCRIPTEN_KEEPALIVE void kiln_bench_conv_destroy(ConvProblem* p) { delete p; }
}
