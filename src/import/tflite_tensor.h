// Constant tensors of a TFLite model as kiln Tensors: buffer decoding (dtype, size and
// alignment checks), sparse densification, fp16 -> f32 and int dequantization, and the
// layout permutations the importer applies to weights.
#pragma once
#include <string>
#include <vector>

#include "core/status.h"
#include "core/tensor.h"
#include "import/tflite_schema_generated.h"

namespace kiln {

// kiln dtype of a TFLite tensor type; unsupported types are an error naming `what`.
Result<DType> dtype_from_tflite(tflite::TensorType t, const std::string& what);
const char* tflite_type_name(tflite::TensorType t);

// True when the tensor carries scale (and zero point) quantization parameters.
bool tflite_is_quantized(const tflite::Tensor& t);

// The data of a constant tensor exactly as stored (densified if sparse), or an undefined
// Tensor when the tensor has no buffer data (an activation).
Result<Tensor> tflite_constant(const tflite::Model& model, const tflite::Tensor& t, const std::string& what);

// real = scale * (q - zero_point), per tensor or along quantized_dimension; int8/uint8/
// int16/int32 in, float32 out.
Result<Tensor> dequantize_tflite(const Tensor& q, const tflite::QuantizationParameters& qp, const std::string& what);

// float16 -> float32.
Result<Tensor> f16_to_f32(const Tensor& t);

// Densifies a sparse constant (TFLite's TACO-style format); `values` holds the stored
// non-zero values in traversal order.
Result<Tensor> densify_tflite(const Tensor& values, const Dims& dense_dims, const tflite::SparsityParameters& sp,
                              const std::string& what);

// out.dims[i] = in.dims[perm[i]] (any fixed-size dtype).
Result<Tensor> transpose_constant(const Tensor& in, const std::vector<int64_t>& perm);

}  // namespace kiln
