#include "import/onnx_tensor.h"

#include <cstring>

namespace kiln {

Result<DType> dtype_from_onnx(int32_t onnx_type, const std::string& what) {
  switch (onnx_type) {
    case onnx::TensorProto::FLOAT: return DType::kF32;
    case onnx::TensorProto::UINT8: return DType::kU8;
    case onnx::TensorProto::INT8: return DType::kI8;
    case onnx::TensorProto::UINT16: return DType::kU16;
    case onnx::TensorProto::INT16: return DType::kI16;
    case onnx::TensorProto::INT32: return DType::kI32;
    case onnx::TensorProto::INT64: return DType::kI64;
    case onnx::TensorProto::BOOL: return DType::kBool;
    case onnx::TensorProto::FLOAT16: return DType::kF16;
    case onnx::TensorProto::DOUBLE: return DType::kF64;
    case onnx::TensorProto::UINT32: return DType::kU32;
    case onnx::TensorProto::UINT64: return DType::kU64;
    case onnx::TensorProto::STRING: return unsupported(what + ": string tensors are not supported");
    case onnx::TensorProto::BFLOAT16: return unsupported(what + ": bfloat16 tensors are not supported");
    case onnx::TensorProto::COMPLEX64:
    case onnx::TensorProto::COMPLEX128: return unsupported(what + ": complex tensors are not supported");
    case onnx::TensorProto::UNDEFINED: return invalid_model(what + ": element type is undefined");
    default: return invalid_model(what + ": unknown element type " + std::to_string(onnx_type));
  }
}

namespace {

// Copies a repeated typed field into the tensor, narrowing each element to T.
template <class T, class Field>
Status copy_field(const Field& field, Tensor& out, const std::string& what, const char* field_name) {
  const int64_t n = out.size();
  if (static_cast<int64_t>(field.size()) != n)
    return invalid_model(what + ": shape " + dims_to_string(out.dims()) + " needs " + std::to_string(n) +
                         " elements but " + field_name + " holds " + std::to_string(field.size()));
  T* dst = out.mutable_data<T>();
  for (int64_t i = 0; i < n; ++i) dst[i] = static_cast<T>(field.Get(static_cast<int>(i)));
  return Status::Ok();
}

}  // namespace

Result<Tensor> tensor_from_onnx(const onnx::TensorProto& t, const std::string& what) {
  if (t.data_location() == onnx::TensorProto::EXTERNAL || t.external_data_size() > 0) {
    std::string loc;
    for (const auto& kv : t.external_data())
      if (kv.key() == "location") loc = kv.value();
    return unsupported(what + ": data is stored in an external file" + (loc.empty() ? "" : " ('" + loc + "')") +
                       "; external data is not supported (save the model with all tensors inside the .onnx file)");
  }
  if (t.has_segment()) return unsupported(what + ": segmented tensors are not supported");
  KILN_ASSIGN_OR_RETURN(DType dtype, dtype_from_onnx(t.data_type(), what));
  Dims dims;
  for (int64_t d : t.dims()) {
    if (d < 0) return invalid_model(what + ": negative dimension " + std::to_string(d));
    dims.push_back(d);
  }
  auto made = Tensor::make(dtype, dims);
  if (!made.ok()) return made.status().with_context(what);
  Tensor out = std::move(made).value();
  const int64_t n = out.size();

  if (t.has_raw_data()) {
    const std::string& raw = t.raw_data();
    if (raw.size() != out.bytes())
      return invalid_model(what + ": raw_data holds " + std::to_string(raw.size()) + " bytes, shape " +
                           dims_to_string(dims) + " of " + dtype_name(dtype) + " needs " + std::to_string(out.bytes()));
    // ONNX raw data is little-endian, as are both kiln targets.
    if (!raw.empty()) std::memcpy(out.mutable_raw(), raw.data(), raw.size());
    if (dtype == DType::kBool) {
      uint8_t* b = out.mutable_data<uint8_t>();
      for (int64_t i = 0; i < n; ++i) b[i] = b[i] ? 1 : 0;
    }
    return out;
  }
  if (n == 0) return out;

  switch (dtype) {
    case DType::kF32: KILN_RETURN_IF_ERROR(copy_field<float>(t.float_data(), out, what, "float_data")); break;
    case DType::kF64: KILN_RETURN_IF_ERROR(copy_field<double>(t.double_data(), out, what, "double_data")); break;
    case DType::kI64: KILN_RETURN_IF_ERROR(copy_field<int64_t>(t.int64_data(), out, what, "int64_data")); break;
    case DType::kI32: KILN_RETURN_IF_ERROR(copy_field<int32_t>(t.int32_data(), out, what, "int32_data")); break;
    case DType::kI16: KILN_RETURN_IF_ERROR(copy_field<int16_t>(t.int32_data(), out, what, "int32_data")); break;
    case DType::kI8: KILN_RETURN_IF_ERROR(copy_field<int8_t>(t.int32_data(), out, what, "int32_data")); break;
    case DType::kU16: KILN_RETURN_IF_ERROR(copy_field<uint16_t>(t.int32_data(), out, what, "int32_data")); break;
    case DType::kU8: KILN_RETURN_IF_ERROR(copy_field<uint8_t>(t.int32_data(), out, what, "int32_data")); break;
    // float16 values travel as their 16-bit patterns in int32_data.
    case DType::kF16: KILN_RETURN_IF_ERROR(copy_field<uint16_t>(t.int32_data(), out, what, "int32_data")); break;
    case DType::kBool: {
      KILN_RETURN_IF_ERROR(copy_field<uint8_t>(t.int32_data(), out, what, "int32_data"));
      uint8_t* b = out.mutable_data<uint8_t>();
      for (int64_t i = 0; i < n; ++i) b[i] = t.int32_data(static_cast<int>(i)) != 0 ? 1 : 0;
      break;
    }
    case DType::kU32: KILN_RETURN_IF_ERROR(copy_field<uint32_t>(t.uint64_data(), out, what, "uint64_data")); break;
    case DType::kU64: KILN_RETURN_IF_ERROR(copy_field<uint64_t>(t.uint64_data(), out, what, "uint64_data")); break;
    default: return unsupported(what + ": cannot read data of type " + dtype_name(dtype));
  }
  return out;
}

}  // namespace kiln
