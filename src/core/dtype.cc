#include "core/dtype.h"

namespace kiln {

size_t dtype_size(DType t) {
  switch (t) {
    case DType::kF32: case DType::kI32: case DType::kU32: return 4;
    case DType::kU8: case DType::kI8: case DType::kBool: return 1;
    case DType::kU16: case DType::kI16: case DType::kF16: return 2;
    case DType::kI64: case DType::kF64: case DType::kU64: return 8;
    default: return 0;
  }
}

const char* dtype_name(DType t) {
  switch (t) {
    case DType::kF32: return "float32";
    case DType::kU8: return "uint8";
    case DType::kI8: return "int8";
    case DType::kU16: return "uint16";
    case DType::kI16: return "int16";
    case DType::kI32: return "int32";
    case DType::kI64: return "int64";
    case DType::kString: return "string";
    case DType::kBool: return "bool";
    case DType::kF16: return "float16";
    case DType::kF64: return "float64";
    case DType::kU32: return "uint32";
    case DType::kU64: return "uint64";
    default: return "undefined";
  }
}

bool dtype_from_name(const std::string& name, DType* out) {
  for (int i = 1; i <= 13; ++i) {
    DType t = static_cast<DType>(i);
    if (name == dtype_name(t) && dtype_size(t) != 0) { *out = t; return true; }
  }
  return false;
}

bool dtype_is_valid_storage(DType t) { return dtype_size(t) != 0; }

}  // namespace kiln
