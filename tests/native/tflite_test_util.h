// Builds small .tflite files in tests with the flatc-generated builder API of
// src/import/tflite_schema.fbs, plus plain NHWC reference math to check them against
// (written directly from TFLite's definitions, independent of kiln's NCHW kernels).
#pragma once
#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "core/half.h"
#include "import/tflite_schema_generated.h"

namespace kiln::testing {

class TflModel {
 public:
  TflModel() { buffers_.push_back(tflite::CreateBuffer(fbb_)); }

  int buffer(const void* data, size_t n) {
    fbb_.ForceVectorAlignment(n, 1, 16);
    auto v = fbb_.CreateVector(static_cast<const uint8_t*>(data), n);
    buffers_.push_back(tflite::CreateBuffer(fbb_, v));
    return static_cast<int>(buffers_.size() - 1);
  }
  int tensor(const std::string& name, const std::vector<int32_t>& shape,
             tflite::TensorType type = tflite::TensorType::FLOAT32, int buf = 0,
             flatbuffers::Offset<tflite::QuantizationParameters> q = 0,
             flatbuffers::Offset<tflite::SparsityParameters> sp = 0) {
    auto s = fbb_.CreateVector(shape);
    auto n = fbb_.CreateString(name);
    tensors_.push_back(tflite::CreateTensor(fbb_, s, type, static_cast<uint32_t>(buf), n, q, false, sp));
    return static_cast<int>(tensors_.size() - 1);
  }
  int f32(const std::string& name, const std::vector<int32_t>& shape, const std::vector<float>& v) {
    return tensor(name, shape, tflite::TensorType::FLOAT32, buffer(v.data(), v.size() * 4));
  }
  int f16(const std::string& name, const std::vector<int32_t>& shape, const std::vector<float>& v) {
    std::vector<uint16_t> h(v.size());
    for (size_t i = 0; i < v.size(); ++i) h[i] = float_to_half(v[i]);
    return tensor(name, shape, tflite::TensorType::FLOAT16, buffer(h.data(), h.size() * 2));
  }
  int i32(const std::string& name, const std::vector<int32_t>& shape, const std::vector<int32_t>& v) {
    return tensor(name, shape, tflite::TensorType::INT32, buffer(v.data(), v.size() * 4));
  }
  // int8 with per-tensor (one scale) or per-channel scales along `axis`.
  int q8(const std::string& name, const std::vector<int32_t>& shape, const std::vector<int8_t>& v,
         const std::vector<float>& scales, const std::vector<int64_t>& zps, int axis) {
    int b = buffer(v.data(), v.size());
    auto q = tflite::CreateQuantizationParametersDirect(fbb_, nullptr, nullptr, &scales, &zps,
                                                        tflite::QuantizationDetails::NONE, 0, axis);
    return tensor(name, shape, tflite::TensorType::INT8, b, q);
  }
  int act(const std::string& name, const std::vector<int32_t>& shape) { return tensor(name, shape); }

  int opcode(tflite::BuiltinOperator code, const std::string& custom = "") {
    const int8_t dep = static_cast<int32_t>(code) < 127 ? static_cast<int8_t>(code) : 127;
    codes_.push_back(tflite::CreateOperatorCodeDirect(fbb_, dep, custom.empty() ? nullptr : custom.c_str(), 1, code));
    return static_cast<int>(codes_.size() - 1);
  }
  void op(tflite::BuiltinOperator code, const std::vector<int32_t>& in, const std::vector<int32_t>& out,
          tflite::BuiltinOptions type = tflite::BuiltinOptions::NONE, flatbuffers::Offset<void> opts = 0,
          const std::string& custom = "") {
    const int oc = opcode(code, custom);
    ops_.push_back(tflite::CreateOperatorDirect(fbb_, static_cast<uint32_t>(oc), &in, &out, type, opts));
  }
  flatbuffers::FlatBufferBuilder& fbb() { return fbb_; }

  std::vector<uint8_t> finish(const std::vector<int32_t>& inputs, const std::vector<int32_t>& outputs) {
    auto sg = tflite::CreateSubGraphDirect(fbb_, &tensors_, &inputs, &outputs, &ops_, "main");
    std::vector<flatbuffers::Offset<tflite::SubGraph>> sgs = {sg};
    auto m = tflite::CreateModelDirect(fbb_, 3, &codes_, &sgs, "kiln test", &buffers_);
    tflite::FinishModelBuffer(fbb_, m);
    return std::vector<uint8_t>(fbb_.GetBufferPointer(), fbb_.GetBufferPointer() + fbb_.GetSize());
  }

 private:
  flatbuffers::FlatBufferBuilder fbb_;
  std::vector<flatbuffers::Offset<tflite::Buffer>> buffers_;
  std::vector<flatbuffers::Offset<tflite::Tensor>> tensors_;
  std::vector<flatbuffers::Offset<tflite::OperatorCode>> codes_;
  std::vector<flatbuffers::Offset<tflite::Operator>> ops_;
};

// Deterministic values in [-1, 1).
inline std::vector<float> ramp(size_t n, uint32_t seed) {
  std::vector<float> v(n);
  uint32_t s = seed * 2654435761u + 1;
  for (auto& x : v) {
    s = s * 1664525u + 1013904223u;
    x = static_cast<float>((s >> 8) & 0xffff) / 32768.f - 1.f;
  }
  return v;
}

// TFLite output size and leading padding for one spatial dimension.
inline void tfl_window(int in, int k, int stride, int dil, bool same, int* out, int* pad) {
  const int ek = (k - 1) * dil + 1;
  if (same) {
    *out = (in + stride - 1) / stride;
    *pad = std::max((*out - 1) * stride + ek - in, 0) / 2;
  } else {
    *out = (in - ek) / stride + 1;
    *pad = 0;
  }
}

// NHWC convolution. Filter OHWI (depthwise=false, with groups = C / I) or 1HWO with
// output channel o reading input channel o / multiplier (depthwise=true).
inline std::vector<float> ref_conv(const std::vector<float>& x, int n, int h, int w, int c, const std::vector<float>& f,
                                   int o, int kh, int kw, int fi, const std::vector<float>& bias, int sh, int sw,
                                   int dh, int dw, bool same, bool depthwise, int* oh_out, int* ow_out) {
  int oh, ow, pt, pl;
  tfl_window(h, kh, sh, dh, same, &oh, &pt);
  tfl_window(w, kw, sw, dw, same, &ow, &pl);
  *oh_out = oh, *ow_out = ow;
  std::vector<float> y(static_cast<size_t>(n) * oh * ow * o);
  const int groups = depthwise ? c : c / fi;
  const int opg = o / groups;
  for (int b = 0; b < n; ++b)
    for (int yy = 0; yy < oh; ++yy)
      for (int xx = 0; xx < ow; ++xx)
        for (int oc = 0; oc < o; ++oc) {
          double acc = bias.empty() ? 0 : bias[oc];
          const int g = oc / opg;
          for (int ky = 0; ky < kh; ++ky)
            for (int kx = 0; kx < kw; ++kx) {
              const int iy = yy * sh - pt + ky * dh, ix = xx * sw - pl + kx * dw;
              if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
              if (depthwise) {
                acc += x[((b * h + iy) * w + ix) * c + g] * f[(ky * kw + kx) * o + oc];
              } else {
                for (int i = 0; i < fi; ++i)
                  acc += x[((b * h + iy) * w + ix) * c + g * fi + i] * f[((oc * kh + ky) * kw + kx) * fi + i];
              }
            }
          y[((b * oh + yy) * ow + xx) * o + oc] = static_cast<float>(acc);
        }
  return y;
}

// NHWC max or average pooling; the average counts only in-bounds elements (as TFLite).
inline std::vector<float> ref_pool(const std::vector<float>& x, int n, int h, int w, int c, int kh, int kw, int sh,
                                   int sw, bool same, bool max, int* oh_out, int* ow_out) {
  int oh, ow, pt, pl;
  tfl_window(h, kh, sh, 1, same, &oh, &pt);
  tfl_window(w, kw, sw, 1, same, &ow, &pl);
  *oh_out = oh, *ow_out = ow;
  std::vector<float> y(static_cast<size_t>(n) * oh * ow * c);
  for (int b = 0; b < n; ++b)
    for (int yy = 0; yy < oh; ++yy)
      for (int xx = 0; xx < ow; ++xx)
        for (int ch = 0; ch < c; ++ch) {
          double acc = max ? -INFINITY : 0;
          int count = 0;
          for (int ky = 0; ky < kh; ++ky)
            for (int kx = 0; kx < kw; ++kx) {
              const int iy = yy * sh - pt + ky, ix = xx * sw - pl + kx;
              if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
              const float v = x[((b * h + iy) * w + ix) * c + ch];
              acc = max ? std::max<double>(acc, v) : acc + v;
              ++count;
            }
          y[((b * oh + yy) * ow + xx) * c + ch] = static_cast<float>(max ? acc : acc / count);
        }
  return y;
}

}  // namespace kiln::testing
