// Tensor: dtype + dims + a pointer into a shared, 64-byte aligned buffer.
// Copies share the buffer (cheap); weights point straight into the model file bytes.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/status.h"

namespace kiln {

using Dims = std::vector<int64_t>;

// Number of elements; 1 for a scalar (empty dims).
int64_t num_elements(const Dims& dims);
std::string dims_to_string(const Dims& dims);  // "[1,3,48,320]"

// Largest tensor kiln will allocate (bytes). Guards against absurd shapes from bad files.
constexpr uint64_t kMaxTensorBytes = uint64_t{1} << 32;

class Tensor {
 public:
  Tensor() = default;

  // Allocates zero-filled storage. Fails on negative dims or sizes over kMaxTensorBytes.
  static Result<Tensor> make(DType dtype, Dims dims);
  // Wraps memory owned by `owner` (kept alive as long as any copy of the tensor lives).
  static Tensor view(DType dtype, Dims dims, std::shared_ptr<const void> owner, const void* data);
  // Scalar / vector helpers for constants built in code.
  static Tensor scalar_f32(float v);
  static Tensor from_i64(const std::vector<int64_t>& v, Dims dims);
  static Tensor from_f32(const std::vector<float>& v, Dims dims);

  DType dtype() const { return dtype_; }
  const Dims& dims() const { return dims_; }
  int64_t rank() const { return static_cast<int64_t>(dims_.size()); }
  int64_t dim(int64_t i) const { return dims_[static_cast<size_t>(i)]; }
  int64_t size() const { return num_elements(dims_); }
  size_t bytes() const { return static_cast<size_t>(size()) * dtype_size(dtype_); }
  bool defined() const { return dtype_ != DType::kUndefined; }

  template <class T> const T* data() const { return static_cast<const T*>(data_); }
  template <class T> T* mutable_data() { return static_cast<T*>(const_cast<void*>(data_)); }
  const void* raw() const { return data_; }
  void* mutable_raw() { return const_cast<void*>(data_); }

  // Same buffer, new dims (element count must match). Used by Reshape/Squeeze/...
  Result<Tensor> reshaped(Dims dims) const;
  // Deep copy into fresh storage.
  Tensor clone() const;
  // Reads element i as double / int64 whatever the dtype (for shape math and tests).
  double get_f64(int64_t i) const;
  int64_t get_i64(int64_t i) const;

 private:
  DType dtype_ = DType::kUndefined;
  Dims dims_;
  std::shared_ptr<const void> owner_;
  const void* data_ = nullptr;
};

// 64-byte aligned, zero-filled buffer.
std::shared_ptr<void> aligned_alloc_shared(size_t bytes);

}  // namespace kiln
