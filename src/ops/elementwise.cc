#include "ops/elementwise.h"

#include <algorithm>

namespace kiln {

BroadcastPlan make_broadcast_plan(const Dims& out, std::initializer_list<const Dims*> ins) {
  BroadcastPlan p;
  p.num_inputs = static_cast<int>(std::min<size_t>(ins.size(), BroadcastPlan::kMaxInputs));
  p.size = num_elements(out);
  std::vector<int64_t> st[BroadcastPlan::kMaxInputs];
  int k = 0;
  for (const Dims* d : ins) {
    if (k == p.num_inputs) break;
    st[k++] = broadcast_strides(*d, out);
  }
  for (size_t d = 0; d < out.size(); ++d) {
    if (out[d] == 1) continue;
    bool merge = !p.shape.empty();
    for (int j = 0; j < p.num_inputs && merge; ++j) {
      int64_t outer = p.strides[j].back(), inner = st[j][d];
      merge = (outer == 0 && inner == 0) || (inner != 0 && outer == inner * out[d]);
    }
    if (merge) {
      p.shape.back() *= out[d];
      for (int j = 0; j < p.num_inputs; ++j) p.strides[j].back() = st[j][d];
    } else {
      p.shape.push_back(out[d]);
      for (int j = 0; j < p.num_inputs; ++j) p.strides[j].push_back(st[j][d]);
    }
  }
  return p;
}

Result<Dims> broadcast_all(std::initializer_list<const Dims*> ins, const std::string& what) {
  Dims r;
  for (const Dims* d : ins) {
    auto b = broadcast_dims(r, *d);
    if (!b.ok()) return b.status().with_context(what);
    r = std::move(b).value();
  }
  return r;
}

namespace {
template <class T>
void broadcast_copy_t(const BroadcastPlan& p, const T* in, T* out) {
  for_each_run(p, [&](const int64_t* off, int64_t o, int64_t n, const int64_t* s) {
    if (s[0]) {
      std::memcpy(out + o, in + off[0], static_cast<size_t>(n) * sizeof(T));
    } else {
      const T v = in[off[0]];
      std::fill(out + o, out + o + n, v);
    }
  });
}

template <class T>
void strided_copy_t(const T* src, int64_t stride, T* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] = src[i * stride];
}
// dst[i][j] = src[i + j * s] for i < rows, j < cols, in 16x16 tiles.
template <class T>
void transpose_block_t(const T* src, int64_t s, T* dst, int64_t rows, int64_t cols) {
  constexpr int64_t B = 16;
  for (int64_t i0 = 0; i0 < rows; i0 += B) {
    const int64_t i1 = std::min(i0 + B, rows);
    for (int64_t j0 = 0; j0 < cols; j0 += B) {
      const int64_t j1 = std::min(j0 + B, cols);
      for (int64_t i = i0; i < i1; ++i)
        for (int64_t j = j0; j < j1; ++j) dst[i * cols + j] = src[i + j * s];
    }
  }
}

void transpose_block(const uint8_t* src, int64_t s, uint8_t* dst, int64_t rows, int64_t cols, size_t es) {
  switch (es) {
    case 1: transpose_block_t(src, s, dst, rows, cols); break;
    case 2:
      transpose_block_t(reinterpret_cast<const uint16_t*>(src), s, reinterpret_cast<uint16_t*>(dst), rows, cols);
      break;
    case 4:
      transpose_block_t(reinterpret_cast<const uint32_t*>(src), s, reinterpret_cast<uint32_t*>(dst), rows, cols);
      break;
    default:
      transpose_block_t(reinterpret_cast<const uint64_t*>(src), s, reinterpret_cast<uint64_t*>(dst), rows, cols);
      break;
  }
}
}  // namespace

void broadcast_copy(const BroadcastPlan& p, const void* in, void* out, size_t elem_size) {
  switch (elem_size) {
    case 1: broadcast_copy_t(p, static_cast<const uint8_t*>(in), static_cast<uint8_t*>(out)); break;
    case 2: broadcast_copy_t(p, static_cast<const uint16_t*>(in), static_cast<uint16_t*>(out)); break;
    case 4: broadcast_copy_t(p, static_cast<const uint32_t*>(in), static_cast<uint32_t*>(out)); break;
    case 8: broadcast_copy_t(p, static_cast<const uint64_t*>(in), static_cast<uint64_t*>(out)); break;
    default: break;
  }
}

void strided_copy(const uint8_t* src, int64_t stride, uint8_t* dst, int64_t n, size_t elem_size) {
  if (stride == 1) {
    std::memcpy(dst, src, static_cast<size_t>(n) * elem_size);
    return;
  }
  switch (elem_size) {
    case 1: strided_copy_t(src, stride, dst, n); break;
    case 2: strided_copy_t(reinterpret_cast<const uint16_t*>(src), stride, reinterpret_cast<uint16_t*>(dst), n); break;
    case 4: strided_copy_t(reinterpret_cast<const uint32_t*>(src), stride, reinterpret_cast<uint32_t*>(dst), n); break;
    case 8: strided_copy_t(reinterpret_cast<const uint64_t*>(src), stride, reinterpret_cast<uint64_t*>(dst), n); break;
    default:
      for (int64_t i = 0; i < n; ++i) std::memcpy(dst + i * elem_size, src + i * stride * elem_size, elem_size);
  }
}

void copy_strided(const uint8_t* src, const Dims& dims, const std::vector<int64_t>& strides, uint8_t* dst,
                  size_t es) {
  const int64_t total = num_elements(dims);
  if (total == 0) return;
  std::vector<int64_t> size, stride;
  for (size_t k = 0; k < dims.size(); ++k) {
    const int64_t d = dims[k], st = strides[k];
    if (d == 1) continue;
    if (!size.empty() && stride.back() == st * d) {
      size.back() *= d;
      stride.back() = st;
    } else {
      size.push_back(d);
      stride.push_back(st);
    }
  }
  if (size.empty()) {
    std::memcpy(dst, src, es);
    return;
  }
  const size_t m = size.size();
  const int64_t ses = static_cast<int64_t>(es);
  // When the input's contiguous dim is the second-to-last output dim (NCHW <-> NHWC),
  // copy the last two dims as cache-friendly blocks of a 2-D transpose.
  const bool blocked = m >= 2 && stride[m - 2] == 1 && stride[m - 1] != 1 && stride[m - 1] != 0 && size[m - 2] >= 4 &&
                       (es == 1 || es == 2 || es == 4 || es == 8);
  const size_t inner_dims = blocked ? 2 : 1;
  const int64_t n = blocked ? size[m - 2] * size[m - 1] : size[m - 1];
  std::vector<int64_t> idx(m, 0);
  int64_t off = 0;
  for (int64_t o = 0; o < total; o += n) {
    if (blocked) transpose_block(src + off * ses, stride[m - 1], dst + o * ses, size[m - 2], size[m - 1], es);
    else strided_copy(src + off * ses, stride[m - 1], dst + o * ses, n, es);
    for (size_t d = m - inner_dims; d-- > 0;) {
      if (++idx[d] < size[d]) {
        off += stride[d];
        break;
      }
      idx[d] = 0;
      off -= stride[d] * (size[d] - 1);
    }
  }
}

std::vector<TensorInfo> infos_of(std::span<const Tensor> in) {
  std::vector<TensorInfo> r(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (!in[i].defined()) continue;
    r[i].dtype = in[i].dtype();
    r[i].dims = in[i].dims();
    r[i].value = &in[i];
  }
  return r;
}

Status check_output_count(const OpContext& ctx, size_t min, size_t max) {
  const size_t n = ctx.node.outputs.size();
  if (n < min || n > max)
    return invalid_model(ctx.node.describe() + ": expects " + std::to_string(min) +
                         (min == max ? "" : ".." + std::to_string(max)) + " outputs, got " + std::to_string(n));
  return Status::Ok();
}

Result<TensorInfo> infer_and_check(Op& op, std::span<const Tensor> in, std::span<const Tensor> out,
                                   const std::string& who) {
  std::vector<TensorInfo> info = infos_of(in);
  TensorInfo expect;
  KILN_RETURN_IF_ERROR(op.infer(info, std::span<TensorInfo>(&expect, 1)));
  KILN_RETURN_IF_ERROR(check_outputs(out, std::span<const TensorInfo>(&expect, 1), who));
  return expect;
}

Status check_outputs(std::span<const Tensor> out, std::span<const TensorInfo> expect, const std::string& who) {
  if (out.size() < expect.size())
    return internal_error(who + ": run received " + std::to_string(out.size()) + " outputs, expected " +
                          std::to_string(expect.size()));
  for (size_t i = 0; i < expect.size(); ++i) {
    if (!expect[i].present()) continue;
    if (out[i].dtype() != expect[i].dtype || out[i].dims() != expect[i].dims)
      return internal_error(who + ": output " + std::to_string(i) + " was allocated as " + dtype_name(out[i].dtype()) +
                            dims_to_string(out[i].dims()) + " but the op computes " + dtype_name(expect[i].dtype) +
                            dims_to_string(expect[i].dims));
  }
  return Status::Ok();
}

Result<double> read_scalar_f64(const Tensor& t, const std::string& what) {
  if (t.size() != 1)
    return invalid_argument(what + " must have exactly one element, got shape " + dims_to_string(t.dims()));
  if (!dtype_is_valid_storage(t.dtype())) return invalid_argument(what + " has no numeric dtype");
  return t.get_f64(0);
}

Result<int64_t> read_scalar_i64(const Tensor& t, const std::string& what) {
  if (t.size() != 1)
    return invalid_argument(what + " must have exactly one element, got shape " + dims_to_string(t.dims()));
  if (t.dtype() != DType::kI64 && t.dtype() != DType::kI32)
    return invalid_argument(what + " must be int64 or int32, got " + dtype_name(t.dtype()));
  return t.get_i64(0);
}

Result<int64_t> checked_num_elements(const Dims& d, const std::string& what) {
  // The bound applies to the product of the non-zero dims too, so an empty tensor cannot
  // carry absurd dims that overflow stride arithmetic later.
  int64_t nonzero = 1;
  bool empty = false;
  for (int64_t x : d) {
    if (x < 0) return invalid_argument(what + ": shape " + dims_to_string(d) + " has a negative size");
    if (x == 0) {
      empty = true;
      continue;
    }
    if (nonzero > static_cast<int64_t>(kMaxTensorBytes) / x)
      return out_of_range(what + ": shape " + dims_to_string(d) + " is too large");
    nonzero *= x;
  }
  return empty ? 0 : nonzero;
}

Result<std::vector<int64_t>> normalize_axes(const std::vector<int64_t>& axes, int64_t rank, const std::string& what) {
  std::vector<int64_t> r;
  std::vector<bool> seen(static_cast<size_t>(rank), false);
  for (int64_t a : axes) {
    KILN_ASSIGN_OR_RETURN(int64_t n, normalize_axis(a, rank, what));
    if (seen[static_cast<size_t>(n)]) return invalid_argument(what + ": axis " + std::to_string(a) + " is repeated");
    seen[static_cast<size_t>(n)] = true;
    r.push_back(n);
  }
  return r;
}

}  // namespace kiln
