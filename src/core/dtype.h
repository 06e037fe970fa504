// Element types. Values match ONNX TensorProto.DataType so import is a cast.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace kiln {

enum class DType : int32_t {
  kUndefined = 0,
  kF32 = 1,
  kU8 = 2,
  kI8 = 3,
  kU16 = 4,
  kI16 = 5,
  kI32 = 6,
  kI64 = 7,
  kString = 8,  // never stored as tensor data; named so errors can say "string"
  kBool = 9,
  kF16 = 10,
  kF64 = 11,
  kU32 = 12,
  kU64 = 13,
};

size_t dtype_size(DType t);  // 0 for undefined/string
const char* dtype_name(DType t);  // "float32", "int64", ... (the names JS uses)
bool dtype_from_name(const std::string& name, DType* out);
bool dtype_is_valid_storage(DType t);  // has a fixed element size

}  // namespace kiln
