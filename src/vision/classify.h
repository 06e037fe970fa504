// Classifier post-processing: softmax over rows and the top k of a score vector.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/status.h"

namespace kiln::vision {

// Softmax of each row of `row` values (max-subtracted, exp and sum in double); n must be a
// non-zero multiple of row. T is float or double.
template <class T>
Status softmax_rows(const T* data, size_t n, size_t row, float* out);

struct TopEntry {
  int64_t index;
  double value;
};

// The k largest values, highest first, ties by lower index; NaN is skipped.
template <class T>
Result<std::vector<TopEntry>> top_k(const T* data, size_t n, int64_t k);

}  // namespace kiln::vision
