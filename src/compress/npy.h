// NumPy .npy files (format versions 1-3, little-endian, C order) <-> kiln Tensor.
// Supported dtypes: float32/float64/float16, int64/int32/int16/int8, uint8/uint16/
// uint32/uint64, bool. Fortran order, big-endian data and malformed headers are errors.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/tensor.h"

namespace kiln::npy {

// `what` names the source (a file path) in error messages.
Result<Tensor> parse(const uint8_t* data, size_t size, const std::string& what);
Result<Tensor> read_file(const std::string& path);

Result<std::vector<uint8_t>> serialize(const Tensor& t);
Status write_file(const std::string& path, const Tensor& t);

}  // namespace kiln::npy
