// write_model: Model -> .kiln bytes (layout in model_io.h, schema in model.fbs).
// Plan first (graph order, tensor table, segment layout, hashes), then build the
// table, then copy the weights once into the output.
#include <cstring>
#include <limits>
#include <map>

#include "flatbuffers/flatbuffers.h"
#include "format/layout.h"
#include "format/model_generated.h"
#include "format/model_io.h"
#include "format/sha256.h"

namespace kiln {
namespace {

using format::align_up;
namespace fbs = flatbuffers;

// The schema's enums mirror kiln's; a mismatch would silently corrupt files.
static_assert(static_cast<int>(fb::DType::U64) == static_cast<int>(DType::kU64));
static_assert(static_cast<int>(fb::DType::F16) == static_cast<int>(DType::kF16));
static_assert(static_cast<int>(fb::AttrKind::Graph) == static_cast<int>(Attribute::Kind::kGraph));
static_assert(static_cast<int>(fb::AttrKind::Tensor) == static_cast<int>(Attribute::Kind::kTensor));
static_assert(static_cast<int>(fb::AttrKind::Int) == static_cast<int>(Attribute::Kind::kInt));

// Where one tensor-table entry's bytes go.
struct Placement {
  const Tensor* tensor = nullptr;  // null: the entry has no data
  uint32_t segment = 0;
  uint64_t offset = 0;  // inside the segment
};

struct SegmentPlan {
  uint64_t offset = 0;  // inside the data area
  uint64_t length = 0;
  std::vector<size_t> entries;  // tensor-table entries placed here, in order
  Sha256Digest sha256{};
};

class Writer {
 public:
  Writer(const Model& m, const WriteOptions& o) : m_(m), opt_(o) {}
  Result<std::vector<uint8_t>> run();

 private:
  Status collect(const Graph& g, int depth);
  Status check_constant(const Tensor& t, const std::string& what) const;
  Status plan_segments();
  void hash_segments();
  fbs::Offset<fb::Tensor> write_tensor(size_t entry);
  fbs::Offset<fb::Graph> write_graph(const Graph& g);
  fbs::Offset<fb::Attribute> write_attribute(const std::string& name, const Attribute& a);

  const Model& m_;
  WriteOptions opt_;
  fbs::FlatBufferBuilder fbb_{1 << 16};
  std::vector<const Graph*> graphs_;                 // [0] = main graph, then depth-first
  std::map<const Attribute*, int> graph_index_;      // graph attributes -> graphs_ index
  std::map<const Attribute*, int> tensor_index_;     // tensor attributes -> table entry
  std::vector<Placement> entries_;                   // one per tensor-table entry
  std::vector<SegmentPlan> segments_;
};

// Assigns graph indices and attribute-tensor entries in a fixed (depth-first) order.
Status Writer::collect(const Graph& g, int depth) {
  if (depth > format::kMaxGraphDepth)
    return invalid_model("subgraphs nested deeper than " + std::to_string(format::kMaxGraphDepth) + " levels");
  for (const Node& n : g.nodes) {
    for (const auto& [name, a] : n.attrs) {
      if (a.kind == Attribute::Kind::kGraph) {
        if (!a.g) return invalid_model(n.describe() + ": graph attribute '" + name + "' holds no graph");
        graph_index_[&a] = static_cast<int>(graphs_.size());
        graphs_.push_back(a.g.get());
        KILN_RETURN_IF_ERROR(collect(*a.g, depth + 1));
      } else if (a.kind == Attribute::Kind::kTensor) {
        std::string what = n.describe() + ": tensor attribute '" + name + "'";
        if (!a.t.defined()) return invalid_model(what + " holds no tensor");
        KILN_RETURN_IF_ERROR(check_constant(a.t, what));
        tensor_index_[&a] = static_cast<int>(entries_.size());
        entries_.push_back(Placement{&a.t});
      }
    }
  }
  return Status::Ok();
}

Status Writer::check_constant(const Tensor& t, const std::string& what) const {
  if (!dtype_is_valid_storage(t.dtype()))
    return unsupported(what + ": cannot store " + dtype_name(t.dtype()) + " data");
  if (t.rank() > static_cast<int64_t>(format::kMaxRank))
    return invalid_model(what + ": rank " + std::to_string(t.rank()) + " exceeds " + std::to_string(format::kMaxRank));
  uint64_t n = 1;
  for (int64_t d : t.dims()) {
    if (d < 0) return invalid_model(what + ": negative dimension in " + dims_to_string(t.dims()));
    if (d != 0 && n > kMaxTensorBytes / static_cast<uint64_t>(d))
      return out_of_range(what + ": shape " + dims_to_string(t.dims()) + " is too large");
    n *= static_cast<uint64_t>(d);
  }
  if (n * dtype_size(t.dtype()) > kMaxTensorBytes)
    return out_of_range(what + ": " + dims_to_string(t.dims()) + " exceeds the 4 GiB tensor limit");
  if (n > 0 && !t.raw()) return invalid_model(what + ": has a shape but no data");
  return Status::Ok();
}

// Packs constants into segments of about opt_.segment_bytes, each constant 64-byte
// aligned; a constant larger than that fills a segment of its own.
Status Writer::plan_segments() {
  for (size_t e = 0; e < entries_.size(); ++e) {
    Placement& p = entries_[e];
    if (!p.tensor) continue;
    uint64_t len = p.tensor->bytes();
    if (segments_.empty() || (len > 0 && segments_.back().length > 0 &&
                              align_up(segments_.back().length) + len > opt_.segment_bytes)) {
      uint64_t start = segments_.empty() ? 0 : align_up(segments_.back().offset + segments_.back().length);
      segments_.push_back(SegmentPlan{start, 0, {}, {}});
    }
    SegmentPlan& s = segments_.back();
    if (segments_.size() > std::numeric_limits<uint32_t>::max()) return out_of_range("too many segments");
    p.segment = static_cast<uint32_t>(segments_.size() - 1);
    // Empty constants sit at offset 0 so they never extend the segment.
    p.offset = len == 0 ? 0 : align_up(s.length);
    if (len > 0) s.length = p.offset + len;
    s.entries.push_back(e);
  }
  return Status::Ok();
}

// Hashes each segment exactly as it will be laid out, zero padding included.
void Writer::hash_segments() {
  static const uint8_t kZeros[format::kDataAlign] = {};
  for (SegmentPlan& s : segments_) {
    Sha256 h;
    uint64_t pos = 0;
    for (size_t e : s.entries) {
      const Placement& p = entries_[e];
      uint64_t len = p.tensor->bytes();
      if (len == 0) continue;
      h.update(kZeros, static_cast<size_t>(p.offset - pos));
      h.update(p.tensor->raw(), static_cast<size_t>(len));
      pos = p.offset + len;
    }
    s.sha256 = h.finish();
  }
}

fbs::Offset<fb::Tensor> Writer::write_tensor(size_t entry) {
  const size_t nv = m_.values.size();
  const Value* v = entry < nv ? &m_.values[entry] : nullptr;
  const Placement& p = entries_[entry];

  fbs::Offset<fbs::String> name = v ? fbb_.CreateString(v->name) : 0;
  fbs::Offset<fbs::Vector<int64_t>> dims = 0, data_dims = 0;
  fbs::Offset<fbs::Vector<fbs::Offset<fbs::String>>> dim_params = 0;
  bool has_shape = v && v->shape.has_value();
  if (has_shape) {
    std::vector<int64_t> d;
    std::vector<std::string> params;
    bool any_param = false;
    for (const Dim& x : *v->shape) {
      d.push_back(x.size < 0 ? -1 : x.size);
      params.push_back(x.param);
      any_param = any_param || !x.param.empty();
    }
    dims = fbb_.CreateVector(d);
    if (any_param) dim_params = fbb_.CreateVectorOfStrings(params);
  }
  DType dtype = v ? v->dtype : DType::kUndefined;
  fb::DataRef ref;
  if (p.tensor) {
    data_dims = fbb_.CreateVector(p.tensor->dims());
    ref = fb::DataRef(p.segment, p.offset, p.tensor->bytes());
    if (dtype == DType::kUndefined) dtype = p.tensor->dtype();
  }
  return fb::CreateTensor(fbb_, name, static_cast<fb::DType>(dtype), has_shape, dims, dim_params,
                          p.tensor ? &ref : nullptr, data_dims);
}

fbs::Offset<fb::Attribute> Writer::write_attribute(const std::string& name, const Attribute& a) {
  using K = Attribute::Kind;
  auto fname = fbb_.CreateString(name);
  fbs::Offset<fbs::String> s = 0;
  fbs::Offset<fbs::Vector<int64_t>> ints = 0;
  fbs::Offset<fbs::Vector<float>> floats = 0;
  fbs::Offset<fbs::Vector<fbs::Offset<fbs::String>>> strings = 0;
  int64_t i = 0;
  float f = 0;
  int tensor = -1, graph = -1;
  switch (a.kind) {
    case K::kInt: i = a.i; break;
    case K::kFloat: f = a.f; break;
    case K::kString: s = fbb_.CreateString(a.s); break;
    case K::kInts: ints = fbb_.CreateVector(a.ints); break;
    case K::kFloats: floats = fbb_.CreateVector(a.floats); break;
    case K::kStrings: strings = fbb_.CreateVectorOfStrings(a.strings); break;
    case K::kTensor: tensor = tensor_index_.at(&a); break;
    case K::kGraph: graph = graph_index_.at(&a); break;
  }
  // FlatBuffers omits a field equal to its default, and -0.0f == 0: store floats
  // explicitly so the value round-trips bit for bit.
  fbb_.ForceDefaults(a.kind == K::kFloat);
  auto out = fb::CreateAttribute(fbb_, fname, static_cast<fb::AttrKind>(a.kind), i, f, s, ints, floats, strings,
                                 tensor, graph);
  fbb_.ForceDefaults(false);
  return out;
}

fbs::Offset<fb::Graph> Writer::write_graph(const Graph& g) {
  std::vector<fbs::Offset<fb::Node>> nodes;
  for (const Node& n : g.nodes) {
    std::vector<fbs::Offset<fb::Attribute>> attrs;
    for (const auto& [name, a] : n.attrs) attrs.push_back(write_attribute(name, a));
    auto attrs_vec = fbb_.CreateVector(attrs);
    auto name = fbb_.CreateString(n.name);
    auto op = fbb_.CreateString(n.op_type);
    auto domain = fbb_.CreateString(n.domain);
    auto in = fbb_.CreateVector(n.inputs);
    auto out = fbb_.CreateVector(n.outputs);
    nodes.push_back(fb::CreateNode(fbb_, name, op, domain, in, out, attrs_vec));
  }
  auto nodes_vec = fbb_.CreateVector(nodes);
  auto name = fbb_.CreateString(g.name);
  auto in = fbb_.CreateVector(g.inputs);
  auto out = fbb_.CreateVector(g.outputs);
  return fb::CreateGraph(fbb_, name, nodes_vec, in, out);
}

Result<std::vector<uint8_t>> Writer::run() {
  const size_t nv = m_.values.size();
  if (nv > static_cast<size_t>(std::numeric_limits<int32_t>::max())) return out_of_range("too many values");
  entries_.resize(nv);
  for (size_t i = 0; i < nv; ++i) {
    const Value& v = m_.values[i];
    if (!v.data) continue;
    std::string what = "constant '" + v.name + "'";
    KILN_RETURN_IF_ERROR(check_constant(*v.data, what));
    if (v.dtype != DType::kUndefined && v.dtype != v.data->dtype())
      return invalid_model(what + " is declared " + dtype_name(v.dtype) + " but holds " +
                           dtype_name(v.data->dtype()) + " data");
    entries_[i].tensor = &*v.data;
  }
  graphs_.push_back(&m_.graph);
  KILN_RETURN_IF_ERROR(collect(m_.graph, 0));
  if (entries_.size() > static_cast<size_t>(std::numeric_limits<int32_t>::max()))
    return out_of_range("too many tensors");
  KILN_RETURN_IF_ERROR(plan_segments());
  hash_segments();

  // The table, children before parents (FlatBuffers builds back to front).
  std::vector<fbs::Offset<fb::Tensor>> tensors;
  for (size_t e = 0; e < entries_.size(); ++e) tensors.push_back(write_tensor(e));
  auto tensors_vec = fbb_.CreateVector(tensors);
  std::vector<fbs::Offset<fb::Graph>> graphs;
  for (const Graph* g : graphs_) graphs.push_back(write_graph(*g));
  auto graphs_vec = fbb_.CreateVector(graphs);
  std::vector<fbs::Offset<fb::KeyValue>> meta;
  for (const auto& [k, v] : m_.metadata) {
    auto key = fbb_.CreateString(k);
    auto value = fbb_.CreateString(v);
    meta.push_back(fb::CreateKeyValue(fbb_, key, value));
  }
  auto meta_vec = fbb_.CreateVector(meta);
  std::vector<fbs::Offset<fb::Segment>> segs;
  for (const SegmentPlan& s : segments_) {
    auto digest = fbb_.CreateVector(s.sha256.data(), s.sha256.size());
    // force_defaults is off: offset 0 is simply omitted and read back as 0.
    segs.push_back(fb::CreateSegment(fbb_, s.offset, s.length, digest));
  }
  auto segs_vec = fbb_.CreateVector(segs);
  auto producer = fbb_.CreateString(m_.producer);
  auto source = fbb_.CreateString(m_.source_sha256);
  auto root = fb::CreateModel(fbb_, kFormatVersion, producer, source, meta_vec, m_.opset, tensors_vec,
                              static_cast<uint32_t>(nv), graphs_vec, segs_vec);
  fb::FinishSizePrefixedModelBuffer(fbb_, root);

  const uint64_t table = fbb_.GetSize();
  if (table > format::kMaxTableBytes) return out_of_range("model table exceeds 1 GiB");
  const uint64_t data_start = align_up(table);
  const uint64_t total = segments_.empty() ? table : data_start + segments_.back().offset + segments_.back().length;
  if (total > std::numeric_limits<size_t>::max() / 2) return out_of_range("model does not fit in memory");

  std::vector<uint8_t> out(static_cast<size_t>(total), 0);
  std::memcpy(out.data(), fbb_.GetBufferPointer(), static_cast<size_t>(table));
  for (const SegmentPlan& s : segments_)
    for (size_t e : s.entries) {
      const Placement& p = entries_[e];
      if (p.tensor->bytes() > 0)
        std::memcpy(out.data() + data_start + s.offset + p.offset, p.tensor->raw(), p.tensor->bytes());
    }
  return out;
}

}  // namespace

Result<std::vector<uint8_t>> write_model(const Model& model, const WriteOptions& options) {
  return Writer(model, options).run();
}

}  // namespace kiln
