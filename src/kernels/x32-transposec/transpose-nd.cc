// The N-D transpose driver (API in x32-transposec.h): normalize, then copy runs or
// transpose 2-D blocks.
#include <algorithm>
#include <cstring>
#include <string_view>

#include "kernels/x32-transposec/x32-transposec.h"

namespace kiln {

TransposeNdPlan::TransposeNdPlan(size_t element_size, size_t rank, const int64_t* dims, const int64_t* perm,
                                 const TransposecKernel* kernel) {
  // Elements the kernels do not know move as byte runs: one more (innermost, unmoved) dim.
  int64_t d[kMaxRank + 1], p[kMaxRank + 1];
  size_t r = rank;
  es_ = element_size;
  for (size_t i = 0; i < rank; ++i) d[i] = dims[i], p[i] = perm[i];
  if (es_ != 1 && es_ != 2 && es_ != 4 && es_ != 8) {
    d[r] = static_cast<int64_t>(es_), p[r] = static_cast<int64_t>(r);
    ++r;
    es_ = 1;
  }
  size_t total = 1;
  for (size_t i = 0; i < r; ++i) total *= static_cast<size_t>(d[i]);
  total_bytes_ = total * es_;
  kernel_ = kernel ? kernel : &transposec_default_kernel(es_);
  if (total == 0) {
    tiles_ = 0;
    return;
  }
  // Drop size-1 dims: renumber the rest in input order.
  int64_t renum[kMaxRank + 1];
  size_t k = 0;
  for (size_t i = 0; i < r; ++i) renum[i] = d[i] == 1 ? -1 : static_cast<int64_t>(k++);
  int64_t q[kMaxRank + 1], qd[kMaxRank + 1];  // output order, input dims renumbered
  size_t m = 0;
  for (size_t j = 0; j < r; ++j)
    if (renum[p[j]] >= 0) q[m] = renum[p[j]], qd[m++] = d[p[j]];
  // Merge runs of output positions that are consecutive input dims: they stay adjacent.
  int64_t run_first[kMaxRank + 1], run_size[kMaxRank + 1];
  size_t runs = 0;
  for (size_t j = 0; j < m; ++j) {
    if (runs > 0 && q[j] == q[j - 1] + 1) {
      run_size[runs - 1] *= qd[j];
    } else {
      run_first[runs] = q[j], run_size[runs] = qd[j];
      ++runs;
    }
  }
  // Runs in input order give the merged input dims; the perm maps output run -> input rank.
  n_ = runs;
  for (size_t a = 0; a < runs; ++a) {
    size_t rank_in = 0;
    for (size_t b = 0; b < runs; ++b) rank_in += run_first[b] < run_first[a];
    perm_[a] = static_cast<int64_t>(rank_in);
    dims_[rank_in] = run_size[a];
  }
  if (n_ <= 1) {  // a copy of the whole tensor
    mode_ = Mode::kMemcpy;
    tiles_ = 1;
    return;
  }
  int64_t in_stride[kMaxRank], out_stride[kMaxRank];
  in_stride[n_ - 1] = out_stride[n_ - 1] = 1;
  for (size_t i = n_ - 1; i-- > 0;) {
    in_stride[i] = in_stride[i + 1] * dims_[i + 1];
    out_stride[i] = out_stride[i + 1] * dims_[perm_[i + 1]];
  }
  const int64_t es = static_cast<int64_t>(es_);
  const size_t last = n_ - 1;
  size_t jb = 0;  // output position of the input's innermost dim
  while (static_cast<size_t>(perm_[jb]) != last) ++jb;
  if (jb == last) {  // innermost dim unchanged (normalization merged it with nothing after)
    mode_ = Mode::kRuns;
    run_bytes_ = static_cast<size_t>(dims_[last]) * es_;
  } else {
    mode_ = Mode::kTiles;
    const size_t a = static_cast<size_t>(perm_[last]);
    bh_ = static_cast<size_t>(dims_[a]), bw_ = static_cast<size_t>(dims_[last]);
    in_row_ = static_cast<size_t>(in_stride[a] * es), out_row_ = static_cast<size_t>(out_stride[jb] * es);
    nbh_ = (bh_ + kBlock - 1) / kBlock, nbw_ = (bw_ + kBlock - 1) / kBlock;
    // A block thinner than the tile (NCHW -> NHWC of 3 channels) never fills a register
    // tile; the scalar kernel's plain edge loop measured ~1.8x faster there than the AVX2
    // file's (src/kernels/README.md).
    if (!kernel && (bh_ < kernel_->tile || bw_ < kernel_->tile))
      for (const TransposecKernel& k : transposec_kernels())
        if (k.element_size == es_ && std::string_view(k.name).ends_with("_scalar")) kernel_ = &k;
  }
  outer_n_ = 0;
  outer_count_ = 1;
  for (size_t j = 0; j < last; ++j) {
    if (mode_ == Mode::kTiles && j == jb) continue;
    outer_size_[outer_n_] = dims_[perm_[j]];
    outer_in_[outer_n_] = in_stride[perm_[j]] * es;
    outer_out_[outer_n_] = out_stride[j] * es;
    outer_count_ *= static_cast<size_t>(outer_size_[outer_n_]);
    ++outer_n_;
  }
  tiles_ = mode_ == Mode::kRuns ? outer_count_ : outer_count_ * nbh_ * nbw_;
}

void TransposeNdPlan::run_tiles(const void* in, void* out, size_t begin, size_t end) const {
  const uint8_t* x = static_cast<const uint8_t*>(in);
  uint8_t* y = static_cast<uint8_t*>(out);
  if (begin >= end) return;
  if (mode_ == Mode::kMemcpy) {
    std::memcpy(y, x, total_bytes_);
    return;
  }
  const size_t per_outer = mode_ == Mode::kRuns ? 1 : nbh_ * nbw_;
  // Odometer over the outer loops, started at the first tile's outer index.
  int64_t idx[kMaxRank];
  size_t o = begin / per_outer, t = begin % per_outer;
  for (size_t i = outer_n_; i-- > 0;) {
    idx[i] = static_cast<int64_t>(o % static_cast<size_t>(outer_size_[i]));
    o /= static_cast<size_t>(outer_size_[i]);
  }
  for (size_t tile = begin; tile < end;) {
    int64_t off_in = 0, off_out = 0;
    for (size_t i = 0; i < outer_n_; ++i) off_in += idx[i] * outer_in_[i], off_out += idx[i] * outer_out_[i];
    if (mode_ == Mode::kRuns) {
      std::memcpy(y + off_out, x + off_in, run_bytes_);
      ++tile;
    } else {
      for (; t < per_outer && tile < end; ++t, ++tile) {
        const size_t ih = t / nbw_ * kBlock, jw = t % nbw_ * kBlock;
        kernel_->fn(x + off_in + ih * in_row_ + jw * es_, y + off_out + jw * out_row_ + ih * es_, in_row_, out_row_,
                    std::min(kBlock, bw_ - jw), std::min(kBlock, bh_ - ih));
      }
      t = 0;
    }
    for (size_t i = outer_n_; i-- > 0;) {
      if (++idx[i] < outer_size_[i]) break;
      idx[i] = 0;
    }
  }
}

void transpose_nd(size_t element_size, size_t rank, const int64_t* dims, const int64_t* perm, const void* in,
                  void* out, const TransposecKernel* kernel) {
  const TransposeNdPlan plan(element_size, rank, dims, perm, kernel);
  plan.run_tiles(in, out, 0, plan.tiles());
}

}  // namespace kiln
