#include "import/tflite_tensor.h"

#include <algorithm>
#include <cstring>

#include "core/half.h"

namespace kiln {

const char* tflite_type_name(tflite::TensorType t) {
  const char* n = tflite::EnumNameTensorType(t);
  return (n && *n) ? n : "unknown";
}

Result<DType> dtype_from_tflite(tflite::TensorType t, const std::string& what) {
  switch (t) {
    case tflite::TensorType::FLOAT32: return DType::kF32;
    case tflite::TensorType::FLOAT16: return DType::kF16;
    case tflite::TensorType::FLOAT64: return DType::kF64;
    case tflite::TensorType::INT32: return DType::kI32;
    case tflite::TensorType::INT64: return DType::kI64;
    case tflite::TensorType::INT16: return DType::kI16;
    case tflite::TensorType::INT8: return DType::kI8;
    case tflite::TensorType::UINT8: return DType::kU8;
    case tflite::TensorType::UINT16: return DType::kU16;
    case tflite::TensorType::UINT32: return DType::kU32;
    case tflite::TensorType::UINT64: return DType::kU64;
    case tflite::TensorType::BOOL: return DType::kBool;
    default:
      return unsupported(what + ": TFLite tensor type " + tflite_type_name(t) + " (" +
                         std::to_string(static_cast<int>(t)) + ") is not supported");
  }
}

bool tflite_is_quantized(const tflite::Tensor& t) {
  const auto* q = t.quantization();
  return q && q->scale() && q->scale()->size() > 0;
}

Result<Tensor> tflite_constant(const tflite::Model& model, const tflite::Tensor& t, const std::string& what) {
  const auto* buffers = model.buffers();
  const uint32_t bi = t.buffer();
  if (bi == 0 || !buffers) return Tensor();
  if (bi >= buffers->size())
    return invalid_model(what + ": buffer index " + std::to_string(bi) + " is out of range (the model has " +
                         std::to_string(buffers->size()) + " buffers)");
  const tflite::Buffer* b = buffers->Get(bi);
  if (!b) return invalid_model(what + ": buffer " + std::to_string(bi) + " is missing");
  if (b->offset() > 1)
    return unsupported(what + ": weights stored outside the FlatBuffer (models over 2 GB) are not supported");
  if (!b->data() || b->data()->size() == 0) return Tensor();

  KILN_ASSIGN_OR_RETURN(DType dt, dtype_from_tflite(t.type(), what));
  Dims dims;
  if (t.shape())
    for (int32_t d : *t.shape()) {
      if (d < 0) return invalid_model(what + ": a constant has a negative dimension " + std::to_string(d));
      dims.push_back(d);
    }
  const size_t es = dtype_size(dt);
  const size_t have = b->data()->size();
  if (t.sparsity()) {
    if (have % es != 0)
      return invalid_model(what + ": sparse buffer of " + std::to_string(have) + " bytes is not a whole number of " +
                           dtype_name(dt) + " values");
    // A dense tensor far larger than its stored values means a corrupted shape.
    uint64_t dense = 1;
    for (int64_t d : dims) dense = (d == 0 || dense <= (uint64_t{1} << 40) / static_cast<uint64_t>(d)) ? dense * d : (uint64_t{1} << 40);
    if (dense * es > std::max<uint64_t>(uint64_t{64} * have, uint64_t{1} << 20))
      return invalid_model(what + ": sparse tensor of shape " + dims_to_string(dims) + " is implausibly large for its " +
                           std::to_string(have) + " stored bytes");
    KILN_ASSIGN_OR_RETURN(Tensor values, Tensor::make(dt, {static_cast<int64_t>(have / es)}));
    std::memcpy(values.mutable_raw(), b->data()->data(), have);
    return densify_tflite(values, dims, *t.sparsity(), what);
  }
  // Checked before allocating, so a corrupted shape cannot ask for gigabytes.
  uint64_t need = es;
  for (int64_t d : dims) need = (d == 0 || need <= kMaxTensorBytes / static_cast<uint64_t>(d)) ? need * d : kMaxTensorBytes + 1;
  if (need != have)
    return invalid_model(what + ": buffer holds " + std::to_string(have) + " bytes, shape " + dims_to_string(dims) +
                         " of " + dtype_name(dt) + " needs " + std::to_string(need));
  KILN_ASSIGN_OR_RETURN(Tensor out, Tensor::make(dt, dims));
  // Copied rather than viewed: the file bytes need not outlive the import, and weights
  // are transposed/dequantized anyway.
  std::memcpy(out.mutable_raw(), b->data()->data(), have);
  return out;
}

Result<Tensor> f16_to_f32(const Tensor& t) {
  KILN_ASSIGN_OR_RETURN(Tensor out, Tensor::make(DType::kF32, t.dims()));
  const uint16_t* s = t.data<uint16_t>();
  float* d = out.mutable_data<float>();
  for (int64_t i = 0; i < t.size(); ++i) d[i] = half_to_float(s[i]);
  return out;
}

Result<Tensor> dequantize_tflite(const Tensor& q, const tflite::QuantizationParameters& qp, const std::string& what) {
  const DType dt = q.dtype();
  if (dt != DType::kI8 && dt != DType::kU8 && dt != DType::kI16 && dt != DType::kI32)
    return unsupported(what + ": dequantizing " + dtype_name(dt) + " is not supported (int8, uint8, int16, int32 are)");
  if (qp.details_type() != tflite::QuantizationDetails::NONE)
    return unsupported(what + ": custom quantization is not supported");
  const auto* scale = qp.scale();
  const auto* zp = qp.zero_point();
  if (!scale || scale->size() == 0) return invalid_model(what + ": quantized tensor has no scale");
  const int64_t channels = scale->size();
  if (zp && zp->size() != 0 && static_cast<int64_t>(zp->size()) != channels)
    return invalid_model(what + ": " + std::to_string(channels) + " scales but " + std::to_string(zp->size()) +
                         " zero points");
  int64_t axis = 0, outer = 1, inner = 1, n = 1;
  if (channels > 1) {
    axis = qp.quantized_dimension();
    if (axis < 0 || axis >= q.rank())
      return invalid_model(what + ": quantized_dimension " + std::to_string(axis) + " is outside rank " +
                           std::to_string(q.rank()));
    n = q.dim(axis);
    if (n != channels)
      return invalid_model(what + ": " + std::to_string(channels) + " scales for dimension " + std::to_string(axis) +
                           " of size " + std::to_string(n));
    for (int64_t i = 0; i < axis; ++i) outer *= q.dim(i);
    for (int64_t i = axis + 1; i < q.rank(); ++i) inner *= q.dim(i);
  } else {
    inner = q.size();
  }
  KILN_ASSIGN_OR_RETURN(Tensor out, Tensor::make(DType::kF32, q.dims()));
  float* d = out.mutable_data<float>();
  int64_t i = 0;
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t c = 0; c < n; ++c) {
      const float s = scale->Get(static_cast<uint32_t>(c));
      const int64_t z = (zp && zp->size()) ? zp->Get(static_cast<uint32_t>(c)) : 0;
      for (int64_t k = 0; k < inner; ++k, ++i) d[i] = s * static_cast<float>(q.get_i64(i) - z);
    }
  return out;
}

Result<Tensor> transpose_constant(const Tensor& in, const std::vector<int64_t>& perm) {
  const size_t r = perm.size();
  if (static_cast<int64_t>(r) != in.rank()) return invalid_argument("transpose_constant: perm rank mismatch");
  Dims od(r);
  for (size_t i = 0; i < r; ++i) od[i] = in.dim(perm[i]);
  KILN_ASSIGN_OR_RETURN(Tensor out, Tensor::make(in.dtype(), od));
  const size_t es = dtype_size(in.dtype());
  std::vector<int64_t> in_stride(r, 1);
  for (size_t i = r; i-- > 1;) in_stride[i - 1] = in_stride[i] * in.dim(static_cast<int64_t>(i));
  std::vector<int64_t> idx(r, 0);
  const auto* src = static_cast<const uint8_t*>(in.raw());
  auto* dst = static_cast<uint8_t*>(out.mutable_raw());
  for (int64_t o = 0; o < out.size(); ++o) {
    int64_t off = 0;
    for (size_t i = 0; i < r; ++i) off += idx[i] * in_stride[perm[i]];
    std::memcpy(dst + o * es, src + off * es, es);
    for (size_t i = r; i-- > 0;) {
      if (++idx[i] < od[i]) break;
      idx[i] = 0;
    }
  }
  return out;
}

}  // namespace kiln
