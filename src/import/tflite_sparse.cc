// Densification of TFLite sparse constants. The format (a variant of TACO) lists the
// dense tensor's dimensions, plus optional block dimensions, in a traversal order; each
// level is either DENSE (every index present) or SPARSE_CSR (array_segments delimit, per
// position of the previous level, a run of array_indices). The stored values are the
// leaves of that traversal in order.
#include <cstring>

#include "import/tflite_tensor.h"

namespace kiln {
namespace {

// Reads a SparseIndexVector union as int64 values.
Result<std::vector<int64_t>> index_vector(tflite::SparseIndexVector type, const void* v, const std::string& what) {
  std::vector<int64_t> out;
  switch (type) {
    case tflite::SparseIndexVector::Int32Vector: {
      const auto* x = static_cast<const tflite::Int32Vector*>(v)->values();
      if (x) out.assign(x->begin(), x->end());
      break;
    }
    case tflite::SparseIndexVector::Uint16Vector: {
      const auto* x = static_cast<const tflite::Uint16Vector*>(v)->values();
      if (x) out.assign(x->begin(), x->end());
      break;
    }
    case tflite::SparseIndexVector::Uint8Vector: {
      const auto* x = static_cast<const tflite::Uint8Vector*>(v)->values();
      if (x) out.assign(x->begin(), x->end());
      break;
    }
    default: return invalid_model(what + ": sparse dimension without index arrays");
  }
  return out;
}

struct Level {
  bool dense = true;
  int64_t size = 0;  // dense levels
  std::vector<int64_t> segments, indices;
};

struct Densifier {
  std::vector<Level> levels;
  std::vector<int64_t> order;       // traversal_order: level -> dimension (n + k of them)
  std::vector<int64_t> block_map;   // block dimension j -> original dimension
  std::vector<int64_t> block_size;  // per original dimension (1 when not blocked)
  Dims dims;
  const uint8_t* values = nullptr;
  int64_t num_values = 0, next = 0;
  size_t es = 0;
  uint8_t* out = nullptr;
  std::vector<int64_t> coord;
  std::string what;

  Status leaf() {
    if (next >= num_values) return invalid_model(what + ": sparse tensor lists more positions than stored values");
    const size_t n = dims.size();
    int64_t off = 0;
    for (size_t d = 0; d < n; ++d) {
      int64_t c = coord[d] * block_size[d];
      for (size_t j = 0; j < block_map.size(); ++j)
        if (block_map[j] == static_cast<int64_t>(d)) c += coord[n + j];
      if (c < 0 || c >= dims[d]) return invalid_model(what + ": sparse index out of range in dimension " + std::to_string(d));
      off = off * dims[d] + c;
    }
    std::memcpy(out + off * es, values + next * es, es);
    ++next;
    return Status::Ok();
  }

  Status walk(size_t level, int64_t parent) {
    if (level == levels.size()) return leaf();
    const Level& l = levels[level];
    const size_t dim = static_cast<size_t>(order[level]);
    if (l.dense) {
      for (int64_t i = 0; i < l.size; ++i) {
        coord[dim] = i;
        KILN_RETURN_IF_ERROR(walk(level + 1, parent * l.size + i));
      }
      return Status::Ok();
    }
    if (parent < 0 || parent + 1 >= static_cast<int64_t>(l.segments.size()))
      return invalid_model(what + ": sparse segment index out of range at level " + std::to_string(level));
    const int64_t b = l.segments[parent], e = l.segments[parent + 1];
    if (b < 0 || e < b || e > static_cast<int64_t>(l.indices.size()))
      return invalid_model(what + ": bad sparse segment [" + std::to_string(b) + ", " + std::to_string(e) + ")");
    for (int64_t j = b; j < e; ++j) {
      coord[dim] = l.indices[j];
      KILN_RETURN_IF_ERROR(walk(level + 1, j));
    }
    return Status::Ok();
  }
};

}  // namespace

Result<Tensor> densify_tflite(const Tensor& values, const Dims& dense_dims, const tflite::SparsityParameters& sp,
                              const std::string& what) {
  Densifier d;
  d.what = what + " (sparse)";
  d.dims = dense_dims;
  const size_t n = dense_dims.size();
  if (!sp.traversal_order() || !sp.dim_metadata()) return invalid_model(d.what + ": missing traversal_order or dim_metadata");
  d.order.assign(sp.traversal_order()->begin(), sp.traversal_order()->end());
  if (sp.block_map()) d.block_map.assign(sp.block_map()->begin(), sp.block_map()->end());
  const size_t total = n + d.block_map.size();
  if (total > 16) return unsupported(d.what + ": more than 16 sparse levels");  // bounds the recursion
  if (d.order.size() != total || sp.dim_metadata()->size() != total)
    return invalid_model(d.what + ": traversal_order and dim_metadata must have " + std::to_string(total) + " entries");
  std::vector<bool> seen(total, false);
  for (int64_t o : d.order) {
    if (o < 0 || o >= static_cast<int64_t>(total) || seen[o]) return invalid_model(d.what + ": traversal_order is not a permutation");
    seen[o] = true;
  }
  for (const tflite::DimensionMetadata* m : *sp.dim_metadata()) {
    if (!m) return invalid_model(d.what + ": missing dim_metadata entry");
    Level l;
    l.dense = m->format() == tflite::DimensionType::DENSE;
    if (l.dense) {
      l.size = m->dense_size();
      if (l.size < 0) return invalid_model(d.what + ": negative dense_size");
    } else {
      KILN_ASSIGN_OR_RETURN(l.segments, index_vector(m->array_segments_type(), m->array_segments(), d.what));
      KILN_ASSIGN_OR_RETURN(l.indices, index_vector(m->array_indices_type(), m->array_indices(), d.what));
    }
    d.levels.push_back(std::move(l));
  }
  // Block sizes come from the dense size of each block dimension's level.
  d.block_size.assign(n, 1);
  for (size_t j = 0; j < d.block_map.size(); ++j) {
    const int64_t orig = d.block_map[j];
    if (orig < 0 || orig >= static_cast<int64_t>(n)) return invalid_model(d.what + ": block_map entry out of range");
    for (size_t lv = 0; lv < total; ++lv)
      if (d.order[lv] == static_cast<int64_t>(n + j)) {
        if (!d.levels[lv].dense) return unsupported(d.what + ": sparse block dimensions are not supported");
        d.block_size[orig] = d.levels[lv].size;
      }
  }
  KILN_ASSIGN_OR_RETURN(Tensor out, Tensor::make(values.dtype(), dense_dims));
  d.values = static_cast<const uint8_t*>(values.raw());
  d.num_values = values.size();
  d.es = dtype_size(values.dtype());
  d.out = static_cast<uint8_t*>(out.mutable_raw());
  d.coord.assign(total, 0);
  KILN_RETURN_IF_ERROR(d.walk(0, 0));
  if (d.next != d.num_values)
    return invalid_model(d.what + ": " + std::to_string(d.num_values) + " stored values but the index arrays address " +
                         std::to_string(d.next));
  return out;
}

}  // namespace kiln
