// Reference loops of the integer ops (ops/qlinear_util.h): plain int32 arithmetic, exact.
#include "ops/qlinear_util.h"

#include "kernels/reference/index_util.h"
#include "ops/op.h"

namespace kiln {

namespace {
Status check_count(const TensorInfo& t, int64_t channels, const char* name, const std::string& who) {
  const int64_t count = num_elements(t.dims);
  if (count != 1 && (count != channels || t.dims.size() != 1))
    return unsupported(who + name + " must be a scalar" +
                       (channels > 1 ? " or 1-D of size " + std::to_string(channels) : std::string()) + ", got " +
                       dims_to_string(t.dims));
  return Status::Ok();
}
}  // namespace

Status check_zero_point_input(std::span<const TensorInfo> in, size_t i, DType want, int64_t channels, const char* name,
                              const std::string& who) {
  if (i >= in.size() || !in[i].present()) return Status::Ok();
  if (in[i].dtype != want)
    return invalid_model(who + name + " is " + dtype_name(in[i].dtype) + " but its tensor is " + dtype_name(want));
  return check_count(in[i], channels, name, who);
}

Status check_scale_input(std::span<const TensorInfo> in, size_t i, int64_t channels, const char* name,
                         const std::string& who) {
  if (i >= in.size() || !in[i].present()) return invalid_model(who + name + " is required");
  KILN_RETURN_IF_ERROR(expect_dtype(in[i], {DType::kF32}, who + "input " + name));
  return check_count(in[i], channels, name, who);
}

std::vector<int32_t> int_values(const Tensor& t) {
  std::vector<int32_t> v(static_cast<size_t>(t.size()));
  for (int64_t i = 0; i < t.size(); ++i) v[static_cast<size_t>(i)] = static_cast<int32_t>(t.get_i64(i));
  return v;
}

namespace {
template <class T>
void widen(const T* x, int64_t n, const std::vector<int32_t>& zp, int64_t inner, int32_t* y) {
  if (zp.size() == 1) {
    for (int64_t i = 0; i < n; ++i) y[i] = static_cast<int32_t>(x[i]) - zp[0];
    return;
  }
  const int64_t nz = static_cast<int64_t>(zp.size());
  for (int64_t i = 0; i < n; ++i) y[i] = static_cast<int32_t>(x[i]) - zp[static_cast<size_t>((i / inner) % nz)];
}
}  // namespace

std::vector<int32_t> widen_centered(const Tensor& t, const std::vector<int32_t>& zero_points, int64_t inner) {
  std::vector<int32_t> y(static_cast<size_t>(t.size()));
  const std::vector<int32_t> zp = zero_points.empty() ? std::vector<int32_t>{0} : zero_points;
  if (t.dtype() == DType::kU8)
    widen(t.data<uint8_t>(), t.size(), zp, inner, y.data());
  else
    widen(t.data<int8_t>(), t.size(), zp, inner, y.data());
  return y;
}

void qs32_conv_reference(const ConvGeometry& g, const int32_t* x, const int32_t* w, const int32_t* bias, int32_t* y) {
  using refk::next_index;
  using refk::product;
  const size_t r = g.rank;
  const int64_t in_plane = product(g.in, r), out_plane = product(g.out, r), k_size = product(g.kernel, r);
  int64_t in_stride[kMaxSpatialDims] = {};
  if (r > 0) {
    in_stride[r - 1] = 1;
    for (size_t d = r - 1; d-- > 0;) in_stride[d] = in_stride[d + 1] * g.in[d + 1];
  }
  const size_t channels = g.groups * g.group_out;
  for (size_t b = 0; b < g.batch; ++b)
    for (size_t ch = 0; ch < channels; ++ch) {
      const size_t grp = ch / g.group_out;
      int32_t* yp = y + static_cast<int64_t>(b * channels + ch) * out_plane;
      int64_t oidx[kMaxSpatialDims] = {};
      for (int64_t o = 0; o < out_plane; ++o, next_index(oidx, g.out, r)) {
        int32_t acc = bias ? bias[ch] : 0;
        for (size_t ic = 0; ic < g.group_in; ++ic) {
          const int32_t* xp = x + static_cast<int64_t>((b * g.groups + grp) * g.group_in + ic) * in_plane;
          const int32_t* wp = w + static_cast<int64_t>(ch * g.group_in + ic) * k_size;
          int64_t kidx[kMaxSpatialDims] = {};
          for (int64_t t = 0; t < k_size; ++t, next_index(kidx, g.kernel, r)) {
            int64_t off = 0;
            bool inside = true;
            for (size_t d = 0; d < r && inside; ++d) {
              const int64_t c = oidx[d] * g.stride[d] - g.pad_begin[d] + kidx[d] * g.dilation[d];
              inside = c >= 0 && c < g.in[d];
              off += c * in_stride[d];
            }
            if (inside) acc += xp[off] * wp[t];  // padding is the zero point: 0 once centered
          }
        }
        yp[o] = acc;
      }
    }
}

Result<IntMatMulPlan> int_matmul_plan(const Dims& a_in, const Dims& b_in, const std::string& who) {
  if (a_in.empty() || b_in.empty()) return invalid_argument(who + "MatMul inputs must have rank >= 1");
  Dims a = a_in, b = b_in;
  const bool a1 = a.size() == 1, b1 = b.size() == 1;
  if (a1) a.insert(a.begin(), 1);
  if (b1) b.push_back(1);
  IntMatMulPlan p;
  p.m = a[a.size() - 2], p.k = a[a.size() - 1], p.n = b[b.size() - 1];
  if (b[b.size() - 2] != p.k)
    return invalid_argument(who + "A " + dims_to_string(a_in) + " and B " + dims_to_string(b_in) +
                            " have different inner dimensions");
  const Dims ab(a.begin(), a.end() - 2), bb(b.begin(), b.end() - 2);
  auto batch = broadcast_dims(ab, bb);
  if (!batch.ok())
    return invalid_argument(who + "batch dims of A " + dims_to_string(a_in) + " and B " + dims_to_string(b_in) +
                            " do not broadcast");
  const Dims out_batch = *batch;
  p.batches = num_elements(out_batch);
  p.a_batches = num_elements(ab), p.b_batches = num_elements(bb);
  const std::vector<int64_t> as = broadcast_strides(ab, out_batch), bs = broadcast_strides(bb, out_batch);
  // broadcast_strides gives element strides of a dims tensor; here one "element" is a matrix.
  std::vector<int64_t> idx(out_batch.size(), 0);
  for (int64_t i = 0; i < p.batches; ++i) {
    int64_t ai = 0, bi = 0;
    for (size_t d = 0; d < idx.size(); ++d) ai += idx[d] * as[d], bi += idx[d] * bs[d];
    p.a_index.push_back(ai), p.b_index.push_back(bi);
    for (size_t d = idx.size(); d-- > 0;) {
      if (++idx[d] < out_batch[d]) break;
      idx[d] = 0;
    }
  }
  p.out = out_batch;
  if (!a1) p.out.push_back(p.m);
  if (!b1) p.out.push_back(p.n);
  return p;
}

}  // namespace kiln
