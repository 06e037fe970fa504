#include "runtime/axis_slices.h"

#include <cstring>

namespace kiln {

namespace {

int64_t product(const Dims& d, size_t from, size_t to) {
  int64_t p = 1;
  for (size_t i = from; i < to; ++i) p *= d[i];
  return p;
}

}  // namespace

Result<Tensor> take_along_axis(const Tensor& t, int64_t axis, int64_t index) {
  if (axis < 0 || axis >= t.rank())
    return invalid_argument("axis " + std::to_string(axis) + " is out of range for shape " + dims_to_string(t.dims()));
  if (index < 0 || index >= t.dim(axis))
    return invalid_argument("index " + std::to_string(index) + " is out of range for axis " + std::to_string(axis) +
                            " of shape " + dims_to_string(t.dims()));
  const Dims& d = t.dims();
  const auto a = static_cast<size_t>(axis);
  Dims out_dims(d.begin(), d.end());
  out_dims.erase(out_dims.begin() + axis);
  KILN_ASSIGN_OR_RETURN(Tensor out, Tensor::make(t.dtype(), out_dims));
  const int64_t outer = product(d, 0, a);
  const size_t inner = static_cast<size_t>(product(d, a + 1, d.size())) * dtype_size(t.dtype());
  const auto* src = static_cast<const uint8_t*>(t.raw());
  auto* dst = static_cast<uint8_t*>(out.mutable_raw());
  for (int64_t o = 0; o < outer; ++o)
    std::memcpy(dst + static_cast<size_t>(o) * inner,
                src + (static_cast<size_t>(o * d[a] + index)) * inner, inner);
  return out;
}

Result<Tensor> stack_along_axis(const std::vector<Tensor>& parts, int64_t axis, int64_t count) {
  if (parts.empty()) return invalid_argument("nothing to stack");
  const Tensor& first = parts[0];
  if (axis < 0 || axis > first.rank())
    return invalid_argument("stack axis " + std::to_string(axis) + " is out of range for parts of shape " +
                            dims_to_string(first.dims()));
  if (count < static_cast<int64_t>(parts.size()))
    return invalid_argument("stack extent " + std::to_string(count) + " is below the part count " +
                            std::to_string(parts.size()));
  for (const Tensor& p : parts)
    if (p.dtype() != first.dtype() || p.dims() != first.dims())
      return invalid_argument("parts differ: " + std::string(dtype_name(first.dtype())) +
                              dims_to_string(first.dims()) + " vs " + dtype_name(p.dtype()) + dims_to_string(p.dims()));
  const Dims& d = first.dims();
  const auto a = static_cast<size_t>(axis);
  Dims out_dims(d.begin(), d.end());
  out_dims.insert(out_dims.begin() + axis, count);
  KILN_ASSIGN_OR_RETURN(Tensor out, Tensor::make(first.dtype(), out_dims));  // zero-filled
  const int64_t outer = product(d, 0, a);
  const size_t inner = static_cast<size_t>(product(d, a, d.size())) * dtype_size(first.dtype());
  auto* dst = static_cast<uint8_t*>(out.mutable_raw());
  for (size_t i = 0; i < parts.size(); ++i) {
    const auto* src = static_cast<const uint8_t*>(parts[i].raw());
    for (int64_t o = 0; o < outer; ++o)
      std::memcpy(dst + (static_cast<size_t>(o * count) + i) * inner, src + static_cast<size_t>(o) * inner, inner);
  }
  return out;
}

}  // namespace kiln
