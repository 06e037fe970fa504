#include "core/tensor.h"

#include <cstdlib>
#include <cstring>

#include "core/half.h"

namespace kiln {

int64_t num_elements(const Dims& dims) {
  int64_t n = 1;
  for (int64_t d : dims) n *= d;
  return n;
}

std::string dims_to_string(const Dims& dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) {
    if (i) s += ",";
    s += std::to_string(dims[i]);
  }
  return s + "]";
}

std::shared_ptr<void> aligned_alloc_shared(size_t bytes) {
  size_t rounded = (bytes + 63) / 64 * 64;
  if (rounded == 0) rounded = 64;
  void* p = std::aligned_alloc(64, rounded);
  if (!p) return nullptr;
  std::memset(p, 0, rounded);
  return std::shared_ptr<void>(p, [](void* q) { std::free(q); });
}

Result<Tensor> Tensor::make(DType dtype, Dims dims) {
  if (!dtype_is_valid_storage(dtype))
    return invalid_argument(std::string("cannot allocate a tensor of dtype ") + dtype_name(dtype));
  uint64_t n = 1;
  for (int64_t d : dims) {
    if (d < 0) return invalid_argument("negative dimension in shape " + dims_to_string(dims));
    if (d != 0 && n > kMaxTensorBytes / static_cast<uint64_t>(d))
      return out_of_range("tensor of shape " + dims_to_string(dims) + " is too large");
    n *= static_cast<uint64_t>(d);
  }
  if (n * dtype_size(dtype) > kMaxTensorBytes)
    return out_of_range("tensor of shape " + dims_to_string(dims) + " (" + dtype_name(dtype) +
                        ") exceeds the 4 GiB limit");
  auto buf = aligned_alloc_shared(static_cast<size_t>(n * dtype_size(dtype)));
  if (!buf) return out_of_range("out of memory allocating " + dims_to_string(dims));
  Tensor t;
  t.dtype_ = dtype;
  t.dims_ = std::move(dims);
  t.data_ = buf.get();
  t.owner_ = std::move(buf);
  return t;
}

Tensor Tensor::view(DType dtype, Dims dims, std::shared_ptr<const void> owner, const void* data) {
  Tensor t;
  t.dtype_ = dtype;
  t.dims_ = std::move(dims);
  t.owner_ = std::move(owner);
  t.data_ = data;
  return t;
}

Tensor Tensor::scalar_f32(float v) { return from_f32({v}, {}); }

Tensor Tensor::from_i64(const std::vector<int64_t>& v, Dims dims) {
  Tensor t = make(DType::kI64, std::move(dims)).value();
  if (!v.empty()) std::memcpy(t.mutable_raw(), v.data(), v.size() * sizeof(int64_t));
  return t;
}

Tensor Tensor::from_f32(const std::vector<float>& v, Dims dims) {
  Tensor t = make(DType::kF32, std::move(dims)).value();
  if (!v.empty()) std::memcpy(t.mutable_raw(), v.data(), v.size() * sizeof(float));
  return t;
}

Result<Tensor> Tensor::reshaped(Dims dims) const {
  if (num_elements(dims) != size())
    return invalid_argument("cannot reshape " + dims_to_string(dims_) + " to " + dims_to_string(dims));
  Tensor t = *this;
  t.dims_ = std::move(dims);
  return t;
}

Tensor Tensor::clone() const {
  Tensor t = make(dtype_, dims_).value();
  if (bytes()) std::memcpy(t.mutable_raw(), data_, bytes());
  return t;
}

double Tensor::get_f64(int64_t i) const {
  switch (dtype_) {
    case DType::kF32: return data<float>()[i];
    case DType::kF64: return data<double>()[i];
    case DType::kF16: return half_to_float(data<uint16_t>()[i]);
    case DType::kI8: return data<int8_t>()[i];
    case DType::kU8: case DType::kBool: return data<uint8_t>()[i];
    case DType::kI16: return data<int16_t>()[i];
    case DType::kU16: return data<uint16_t>()[i];
    case DType::kI32: return data<int32_t>()[i];
    case DType::kU32: return data<uint32_t>()[i];
    case DType::kI64: return static_cast<double>(data<int64_t>()[i]);
    case DType::kU64: return static_cast<double>(data<uint64_t>()[i]);
    default: return 0;
  }
}

int64_t Tensor::get_i64(int64_t i) const {
  switch (dtype_) {
    case DType::kI64: return data<int64_t>()[i];
    case DType::kI32: return data<int32_t>()[i];
    case DType::kU64: return static_cast<int64_t>(data<uint64_t>()[i]);
    default: return static_cast<int64_t>(get_f64(i));
  }
}

}  // namespace kiln
