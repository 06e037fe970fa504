#include "ops/resize_kernels.h"

#include <algorithm>
#include <cstring>

#include "platform/thread_pool.h"

namespace kiln {
namespace {

bool is_identity(const ResizeAxis& a) {
  if (a.taps != 1 || a.in_size != a.out_size) return false;
  for (int64_t o = 0; o < a.out_size; ++o)
    if (a.index[o] != o || (a.outside && a.outside[o])) return false;
  return true;
}

// Output index o of an axis as two taps and the weight of the second (nearest: i1 = i0, 0).
struct TwoTaps {
  int64_t i0, i1;
  float alpha;
};
TwoTaps two_taps(const ResizeAxis& a, int64_t o) {
  if (a.taps == 1) return {a.index[o], a.index[o], 0.f};
  return {a.index[2 * o], a.index[2 * o + 1], a.weight[2 * o + 1]};
}

const float* offset_ptr(size_t bytes) { return reinterpret_cast<const float*>(static_cast<uintptr_t>(bytes)); }

}  // namespace

void ResizeKernels::set_kernels(const F32IbilinearKernel* linear, const F32IbilinearChwKernel* chw,
                                const X32IgatherKernel* nearest) {
  if (linear) linear_ = linear;
  if (chw) chw_ = chw;
  if (nearest) nearest_ = nearest;
}

bool ResizeKernels::plan(size_t rank, const ResizeAxis* axes) {
  path_ = Path::kNone;
  if (!linear_) linear_ = &f32_ibilinear_default_kernel();
  if (!chw_) chw_ = &f32_ibilinear_chw_default_kernel();
  if (!nearest_) nearest_ = &x32_igather_default_kernel();
  size_t resized[2], n = 0;
  for (size_t d = 0; d < rank; ++d) {
    if (is_identity(axes[d])) continue;
    if (n == 2 || (axes[d].taps != 1 && axes[d].taps != 2)) return false;
    resized[n++] = d;
  }
  if (n == 2 && resized[1] != resized[0] + 1) return false;
  size_t elements = 1;
  for (size_t d = 0; d < rank; ++d) elements *= static_cast<size_t>(axes[d].out_size);
  if (n == 0) {
    copy_elements_ = elements;
    path_ = Path::kCopy;
    return true;
  }
  // W is the last resized axis; H the one before it, or a size-1 stand-in.
  const size_t w_axis = resized[n - 1];
  static const int64_t kZero = 0;
  static const float kOne = 1.f;
  ResizeAxis unit;
  unit.index = &kZero;
  unit.weight = &kOne;
  const ResizeAxis& h = n == 2 ? axes[resized[0]] : unit;
  const ResizeAxis& w = axes[w_axis];
  const size_t h_axis = n == 2 ? resized[0] : w_axis;
  outer_ = 1, c_ = 1;
  for (size_t d = 0; d < h_axis; ++d) outer_ *= static_cast<size_t>(axes[d].in_size);
  for (size_t d = w_axis + 1; d < rank; ++d) c_ *= static_cast<size_t>(axes[d].in_size);
  ih_ = static_cast<size_t>(h.in_size), iw_ = static_cast<size_t>(w.in_size);
  oh_ = static_cast<size_t>(h.out_size), ow_ = static_cast<size_t>(w.out_size);
  if (elements == 0) return false;  // the op returns before running empty outputs

  const bool nearest = h.taps == 1 && w.taps == 1;
  const bool chw = !nearest && c_ == 1 && iw_ >= 2;
  path_ = nearest ? Path::kNearest : (chw ? Path::kLinearChw : Path::kLinear);
  const size_t per_pixel = nearest ? 1 : (chw ? 2 : 4);
  indirection_.assign(oh_ * ow_ * per_pixel, nullptr);
  weights_.assign(nearest ? 0 : oh_ * ow_ * 2, 0.f);
  same_as_previous_.assign(oh_, 0);
  outside_h_.clear(), outside_w_.clear();
  if (h.outside || w.outside) {
    outside_h_.assign(oh_, 0), outside_w_.assign(ow_, 0);
    for (size_t o = 0; o < oh_; ++o) outside_h_[o] = h.outside ? h.outside[o] : 0;
    for (size_t o = 0; o < ow_; ++o) outside_w_[o] = w.outside ? w.outside[o] : 0;
  }
  const size_t px = c_ * sizeof(float);  // bytes per input pixel
  std::vector<TwoTaps> cols(ow_);
  for (size_t o = 0; o < ow_; ++o) {
    TwoTaps t = two_taps(w, static_cast<int64_t>(o));
    if (chw) {  // the kernel reads p[0] and p[1]: keep i0 + 1 inside the row
      if (t.i1 == t.i0) t = t.i0 + 1 < w.in_size ? TwoTaps{t.i0, t.i0 + 1, 0.f} : TwoTaps{t.i0 - 1, t.i0, 1.f};
      if (t.i1 != t.i0 + 1) return path_ = Path::kNone, false;
    }
    cols[o] = t;
  }
  TwoTaps prev{-1, -1, 0.f};
  for (size_t r = 0; r < oh_; ++r) {
    const TwoTaps t = two_taps(h, static_cast<int64_t>(r));
    same_as_previous_[r] = r > 0 && t.i0 == prev.i0 && t.i1 == prev.i1 && t.alpha == prev.alpha &&
                           (outside_h_.empty() || outside_h_[r] == outside_h_[r - 1]);
    prev = t;
    const size_t top = static_cast<size_t>(t.i0) * iw_, bottom = static_cast<size_t>(t.i1) * iw_;
    for (size_t o = 0; o < ow_; ++o) {
      const size_t p = r * ow_ + o;
      const TwoTaps& c = cols[o];
      const float** ind = indirection_.data() + p * per_pixel;
      if (nearest) {
        ind[0] = offset_ptr((top + static_cast<size_t>(c.i0)) * px);
        continue;
      }
      weights_[2 * p] = c.alpha, weights_[2 * p + 1] = t.alpha;
      ind[0] = offset_ptr((top + static_cast<size_t>(c.i0)) * px);
      if (chw) {
        ind[1] = offset_ptr((bottom + static_cast<size_t>(c.i0)) * px);
      } else {
        ind[1] = offset_ptr((top + static_cast<size_t>(c.i1)) * px);
        ind[2] = offset_ptr((bottom + static_cast<size_t>(c.i0)) * px);
        ind[3] = offset_ptr((bottom + static_cast<size_t>(c.i1)) * px);
      }
    }
  }
  return true;
}

// Output rows [row0, row1) of one image (NHWC) or plane (NCHW).
void ResizeKernels::compute_rows(const float* x, float* y, size_t image, size_t row0, size_t row1) const {
  const size_t in_image = ih_ * iw_ * c_, out_row = ow_ * c_;
  const size_t input_offset = reinterpret_cast<uintptr_t>(x + image * in_image);
  float* out = y + (image * oh_ + row0) * out_row;
  const size_t pixels = (row1 - row0) * ow_, first = row0 * ow_;
  switch (path_) {
    case Path::kNearest:
      nearest_->fn(pixels, c_, reinterpret_cast<const uint32_t* const*>(indirection_.data() + first), input_offset,
                   reinterpret_cast<uint32_t*>(out), c_);
      break;
    case Path::kLinear:
      linear_->fn(pixels, c_, indirection_.data() + 4 * first, input_offset, weights_.data() + 2 * first, out, c_);
      break;
    case Path::kLinearChw:
      chw_->fn(pixels, 1, indirection_.data() + 2 * first, input_offset, weights_.data() + 2 * first, out, 0, 0);
      break;
    default: break;
  }
}

void ResizeKernels::fix_outside(float* y, float extrapolation, size_t image, size_t row) const {
  if (outside_h_.empty()) return;
  float* out = y + (image * oh_ + row) * ow_ * c_;
  if (outside_h_[row]) {
    std::fill(out, out + ow_ * c_, extrapolation);
    return;
  }
  for (size_t o = 0; o < ow_; ++o)
    if (outside_w_[o]) std::fill(out + o * c_, out + (o + 1) * c_, extrapolation);
}

void ResizeKernels::run_rows(const float* x, float* y, float extrapolation, size_t begin, size_t end) const {
  if (path_ == Path::kCopy) {  // one "row": the whole tensor
    if (begin < end) std::memcpy(y, x, copy_elements_ * sizeof(float));
    return;
  }
  const size_t out_row = ow_ * c_;
  // Runs of computed rows go to the kernel in one call; a row whose source rows equal the
  // previous row's (nearest / integer upsampling) is a copy of the row just written.
  size_t r = begin;
  while (r < end) {
    const size_t image = r / oh_, row = r % oh_;
    const size_t image_end = std::min(end, (image + 1) * oh_);
    if (r > begin && same_as_previous_[row]) {
      float* dst = y + r * out_row;
      std::memcpy(dst, dst - out_row, out_row * sizeof(float));
      ++r;
      continue;
    }
    size_t stop = r + 1;
    while (stop < image_end && !same_as_previous_[stop % oh_]) ++stop;
    compute_rows(x, y, image, row, row + (stop - r));
    for (size_t k = r; k < stop; ++k) fix_outside(y, extrapolation, image, k % oh_);
    r = stop;
  }
}

void ResizeKernels::run(const float* x, float* y, float extrapolation) const {
  if (path_ == Path::kCopy) return run_rows(x, y, extrapolation, 0, 1);
  // About 16 KiB of output per task keeps the pool's split from costing more than the rows.
  const size_t row_bytes = ow_ * c_ * sizeof(float);
  const size_t rows_per_task = std::max<size_t>(1, (16384 + row_bytes - 1) / row_bytes);
  const size_t tasks = (rows() + rows_per_task - 1) / rows_per_task;
  parallel_for(tasks, [&](size_t b, size_t e) {
    run_rows(x, y, extrapolation, b * rows_per_task, std::min(rows(), e * rows_per_task));
  });
}

}  // namespace kiln
