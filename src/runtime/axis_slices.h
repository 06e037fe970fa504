// Slicing a tensor into its sub-tensors along one axis and stacking them back: the
// data movement of Scan (scan inputs are read slice by slice, scan outputs stacked).
#pragma once
#include <vector>

#include "core/status.h"
#include "core/tensor.h"

namespace kiln {

// The sub-tensor at `index` along `axis` (that axis removed), copied out.
Result<Tensor> take_along_axis(const Tensor& t, int64_t axis, int64_t index);

// Stacks `parts` (same dtype and dims) along a new axis `axis` (0..rank of a part).
// `count` >= parts.size() is the new axis' extent; positions past parts.size() are zero.
Result<Tensor> stack_along_axis(const std::vector<Tensor>& parts, int64_t axis, int64_t count);

}  // namespace kiln
