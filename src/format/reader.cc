// read_model: .kiln bytes -> Model, trusting nothing. Order of checks:
//   1. size, alignment, identifier, size prefix (the table lies inside the bytes);
//   2. the format version, read through a minimal verification of the root table;
//   3. the FlatBuffers Verifier over the whole table (offsets, strings, vectors);
//   4. our own ranges: segments inside the file, tensor dtypes/dims/data inside
//      their segment, every value/tensor/graph index, attribute kinds, a budget
//      on what the table may expand to (shared sub-tables could otherwise blow up);
//   5. each segment's SHA-256;
//   6. validate_and_sort on the built model (dangling references, cycles).
// Constants become Tensor::view()s into the caller's buffer (zero copy).
#include <cstring>
#include <limits>
#include <set>

#include "flatbuffers/flatbuffers.h"
#include "format/layout.h"
#include "format/model_generated.h"
#include "format/model_io.h"
#include "format/sha256.h"

namespace kiln {
namespace {

using format::align_up;
namespace fbs = flatbuffers;

constexpr size_t kMinFileBytes = 12;  // size prefix + root offset + identifier
constexpr int kNumDTypes = 14;        // kiln::DType 0..13

Status bad(const std::string& m) { return invalid_model(m); }
std::string str(const fbs::String* s) { return s ? s->str() : std::string(); }
std::string num(uint64_t x) { return std::to_string(x); }

// The Verifier checks only 4-byte alignment of vectors; 8-byte elements are read
// in place, so a corrupt file could misalign them (the builder never does).
bool misaligned(const fbs::Vector<int64_t>* v) {
  return v && v->size() > 0 && reinterpret_cast<uintptr_t>(v->Data()) % 8 != 0;
}

// Printable form of 4 identifier bytes: "KILN", or hex if not printable.
std::string show_identifier(const uint8_t* p) {
  std::string s;
  for (int i = 0; i < 4; ++i) {
    if (p[i] < 0x20 || p[i] > 0x7e) return "0x" + to_hex(p, 4);
    s += static_cast<char>(p[i]);
  }
  return "'" + s + "'";
}

class Reader {
 public:
  Reader(std::shared_ptr<const std::vector<uint8_t>> bytes, const ReadOptions& opt)
      : bytes_(std::move(bytes)), opt_(opt) {}
  Result<Model> read();

 private:
  Status check_header();
  Status check_segments();
  Status read_tensors(Model& m);
  Status read_shape(const fb::Tensor& t, const std::string& what, Value& v);
  Result<Tensor> read_data(const fb::Tensor& t, const std::string& what);
  Status check_hashes();
  Status read_graph(uint32_t index, int depth, Graph& out);
  Status read_node(const fb::Node& fn, int depth, Node& n);
  Status read_attribute(const fb::Attribute& fa, const Node& n, int depth, Attribute& a);
  Status check_values(const fbs::Vector<int32_t>* v, bool allow_none, const std::string& what,
                      std::vector<int>& out);
  // Charges what the table expands to; an honest file never exceeds its own size.
  Status charge(uint64_t n);

  std::shared_ptr<const std::vector<uint8_t>> bytes_;
  ReadOptions opt_;
  const uint8_t* base_ = nullptr;
  uint64_t size_ = 0;
  uint64_t table_end_ = 0;   // 4 + size prefix
  uint64_t data_start_ = 0;  // first 64-byte boundary after the table
  const fb::Model* fm_ = nullptr;
  uint32_t value_count_ = 0;
  uint32_t tensor_count_ = 0;
  uint64_t budget_ = 0;
  std::vector<bool> graph_used_;
  std::vector<std::string> segment_first_;  // a tensor stored in each segment, for errors
};

Status Reader::charge(uint64_t n) {
  if (n > budget_) return bad("table contents exceed the table size (shared or overlapping sub-tables)");
  budget_ -= n;
  return Status::Ok();
}

Status Reader::check_header() {
  if (size_ < kMinFileBytes)
    return bad("truncated file: " + num(size_) + " bytes, a .kiln file has at least " + num(kMinFileBytes));
  if (reinterpret_cast<uintptr_t>(base_) % 8 != 0)
    return invalid_argument("model bytes must be 8-byte aligned in memory");
  if (!fbs::BufferHasIdentifier(base_, fb::ModelIdentifier(), /*size_prefixed=*/true))
    return bad("not a .kiln file (identifier " + show_identifier(base_ + 8) + ", expected '" +
               fb::ModelIdentifier() + "')");
  table_end_ = uint64_t{fbs::ReadScalar<uint32_t>(base_)} + 4;
  if (table_end_ > format::kMaxTableBytes)
    return bad("table size " + num(table_end_) + " bytes is beyond the 1 GiB limit");
  if (table_end_ > size_)
    return bad("truncated file: table needs " + num(table_end_) + " bytes, file has " + num(size_));
  if (table_end_ < kMinFileBytes) return bad("table size " + num(table_end_) + " is too small");
  data_start_ = align_up(table_end_);

  // The version first, so a newer file gets a clear message even if its table
  // would not pass this build's verifier.
  {
    fbs::Verifier v(base_, static_cast<size_t>(table_end_));
    fbs::uoffset_t root = v.VerifyOffset(sizeof(fbs::uoffset_t));
    if (root == 0) return bad("corrupt table: bad root offset");
    auto* t = reinterpret_cast<const fbs::Table*>(base_ + sizeof(fbs::uoffset_t) + root);
    if (!t->VerifyTableStart(v) || !t->VerifyField<uint32_t>(v, fb::Model::VT_FORMAT_VERSION, 4))
      return bad("corrupt table: bad root table");
    uint32_t version = t->GetField<uint32_t>(fb::Model::VT_FORMAT_VERSION, 0);
    if (version == 0) return bad("format version is missing");
    if (version > kFormatVersion)
      return unsupported("model file written by a newer kiln (format " + num(version) + ", this build reads " +
                         num(kFormatVersion) + ")");
  }

  fbs::Verifier::Options vo;
  vo.max_depth = 16;  // Model > Graph > Node > Attribute is the deepest path
  // Each table needs at least 4 bytes of its own; more visits mean shared tables.
  vo.max_tables = static_cast<fbs::uoffset_t>(table_end_ / 4 + 16);
  fbs::Verifier v(base_, static_cast<size_t>(table_end_), vo);
  if (!fb::VerifySizePrefixedModelBuffer(v))
    return bad("corrupt table: FlatBuffers verification failed (" + num(table_end_) + "-byte table)");
  fm_ = fb::GetSizePrefixedModel(base_);
  budget_ = 2 * table_end_ + 4096;
  return Status::Ok();
}

Status Reader::check_segments() {
  const auto* segs = fm_->segments();
  if (!segs) return Status::Ok();
  uint64_t prev_end = 0;
  for (uint32_t i = 0; i < segs->size(); ++i) {
    const fb::Segment* s = segs->Get(i);
    uint64_t off = s->offset(), len = s->length();
    std::string what = "segment " + num(i);
    if (!s->sha256() || s->sha256()->size() != 32) return bad(what + ": SHA-256 must be 32 bytes");
    if (off % format::kDataAlign != 0) return bad(what + ": offset " + num(off) + " is not 64-byte aligned");
    if (off < prev_end) return bad(what + ": overlaps the previous segment");
    if (data_start_ > size_ || off > size_ - data_start_ || len > size_ - data_start_ - off)
      return bad("truncated file: " + what + " needs bytes [" + num(data_start_ + off) + ", " +
                 num(data_start_ + off + len) + "), file has " + num(size_));
    prev_end = off + len;
  }
  segment_first_.assign(segs->size(), "");
  return Status::Ok();
}

Status Reader::read_shape(const fb::Tensor& t, const std::string& what, Value& v) {
  const auto* dims = t.dims();
  const auto* params = t.dim_params();
  if (!t.has_shape()) {
    if ((dims && dims->size() > 0) || (params && params->size() > 0))
      return bad(what + ": has dims but no shape");
    return Status::Ok();
  }
  uint32_t rank = dims ? dims->size() : 0;
  if (misaligned(dims)) return bad(what + ": misaligned dims");
  if (rank > format::kMaxRank) return bad(what + ": rank " + num(rank) + " exceeds " + num(format::kMaxRank));
  if (params && params->size() != rank)
    return bad(what + ": " + num(params->size()) + " symbolic dim names for rank " + num(rank));
  KILN_RETURN_IF_ERROR(charge(uint64_t{rank} * 8));
  Shape shape(rank);
  for (uint32_t i = 0; i < rank; ++i) {
    int64_t d = dims->Get(i);
    if (d < -1) return bad(what + ": dimension " + num(i) + " is " + std::to_string(d));
    shape[i].size = d;
    if (params) {
      shape[i].param = str(params->Get(i));
      KILN_RETURN_IF_ERROR(charge(shape[i].param.size() + 5));
    }
  }
  v.shape = std::move(shape);
  return Status::Ok();
}

Result<Tensor> Reader::read_data(const fb::Tensor& t, const std::string& what) {
  const fb::DataRef* ref = t.data();
  DType dtype = static_cast<DType>(t.dtype());
  if (!dtype_is_valid_storage(dtype)) return bad(what + ": constant of dtype " + dtype_name(dtype));
  const auto* dd = t.data_dims();
  uint32_t rank = dd ? dd->size() : 0;
  if (misaligned(dd)) return bad(what + ": misaligned data dims");
  if (rank > format::kMaxRank) return bad(what + ": rank " + num(rank) + " exceeds " + num(format::kMaxRank));
  KILN_RETURN_IF_ERROR(charge(uint64_t{rank} * 8));
  Dims dims(rank);
  uint64_t n = 1;
  for (uint32_t i = 0; i < rank; ++i) {
    int64_t d = dd->Get(i);
    if (d < 0) return bad(what + ": data dimension " + num(i) + " is " + std::to_string(d));
    if (d != 0 && n > kMaxTensorBytes / static_cast<uint64_t>(d))
      return bad(what + ": data shape is too large");
    n *= static_cast<uint64_t>(d);
    dims[i] = d;
  }
  uint64_t expect = n * dtype_size(dtype);
  if (expect > kMaxTensorBytes) return bad(what + ": data exceeds the 4 GiB tensor limit");
  if (ref->length() != expect)
    return bad(what + ": " + dims_to_string(dims) + " " + dtype_name(dtype) + " needs " + num(expect) +
               " bytes, data has " + num(ref->length()));
  const auto* segs = fm_->segments();
  uint32_t nseg = segs ? segs->size() : 0;
  if (ref->segment() >= nseg)
    return bad(what + ": segment " + num(ref->segment()) + " does not exist (" + num(nseg) + " segments)");
  const fb::Segment* s = segs->Get(ref->segment());
  uint64_t off = ref->offset(), len = ref->length();
  if (off > s->length() || len > s->length() - off)
    return bad(what + ": bytes [" + num(off) + ", " + num(off + len) + ") lie outside segment " +
               num(ref->segment()) + " (" + num(s->length()) + " bytes)");
  if (len > 0 && off % format::kDataAlign != 0) return bad(what + ": data offset " + num(off) + " is not 64-byte aligned");
  std::string& first = segment_first_[ref->segment()];
  if (first.empty()) first = what;
  // check_segments() put the segment inside the file, so this stays in bounds.
  const uint8_t* p = base_ + static_cast<size_t>(data_start_ + s->offset() + off);
  return Tensor::view(dtype, std::move(dims), std::shared_ptr<const void>(bytes_), p);
}

Status Reader::read_tensors(Model& m) {
  const auto* tensors = fm_->tensors();
  tensor_count_ = tensors ? tensors->size() : 0;
  value_count_ = fm_->value_count();
  if (value_count_ > tensor_count_)
    return bad("value count " + num(value_count_) + " exceeds the " + num(tensor_count_) + " tensors in the table");
  if (tensor_count_ > static_cast<uint32_t>(std::numeric_limits<int32_t>::max()))
    return bad("too many tensors: " + num(tensor_count_));
  KILN_RETURN_IF_ERROR(charge(uint64_t{value_count_} * 16));
  m.values.resize(value_count_);
  for (uint32_t i = 0; i < tensor_count_; ++i) {
    const fb::Tensor* t = tensors->Get(i);
    int dt = static_cast<int>(t->dtype());
    std::string name = str(t->name());
    KILN_RETURN_IF_ERROR(charge(name.size() + 5));
    std::string what = i < value_count_ ? "tensor '" + name + "' (#" + num(i) + ")" : "attribute tensor #" + num(i);
    if (dt < 0 || dt >= kNumDTypes) return bad(what + ": unknown dtype " + std::to_string(dt));
    if (!t->data() && t->data_dims()) return bad(what + ": has data dims but no data");
    if (i >= value_count_) {
      if (!t->data()) return bad(what + ": attribute tensors must hold data");
      continue;  // built by read_attribute, which refers to it by index
    }
    Value& v = m.values[i];
    v.name = std::move(name);
    v.dtype = static_cast<DType>(dt);
    KILN_RETURN_IF_ERROR(read_shape(*t, what, v));
    if (t->data()) {
      KILN_ASSIGN_OR_RETURN(Tensor data, read_data(*t, what));
      v.data = std::move(data);
    }
  }
  return Status::Ok();
}

Status Reader::check_hashes() {
  const auto* segs = fm_->segments();
  if (!segs || !opt_.verify_hashes) return Status::Ok();
  for (uint32_t i = 0; i < segs->size(); ++i) {
    const fb::Segment* s = segs->Get(i);
    Sha256Digest d = Sha256::hash(base_ + static_cast<size_t>(data_start_ + s->offset()), static_cast<size_t>(s->length()));
    if (std::memcmp(d.data(), s->sha256()->Data(), d.size()) != 0)
      return bad("segment " + num(i) + " is corrupt (SHA-256 mismatch over file bytes [" +
                 num(data_start_ + s->offset()) + ", " + num(data_start_ + s->offset() + s->length()) + ")" +
                 (segment_first_[i].empty() ? std::string() : "; holds " + segment_first_[i]) + ")");
  }
  return Status::Ok();
}

Status Reader::check_values(const fbs::Vector<int32_t>* v, bool allow_none, const std::string& what,
                            std::vector<int>& out) {
  if (!v) return Status::Ok();
  KILN_RETURN_IF_ERROR(charge(uint64_t{v->size()} * 4));
  out.resize(v->size());
  for (uint32_t i = 0; i < v->size(); ++i) {
    int32_t x = v->Get(i);
    if (!(x == kNoValue && allow_none) && (x < 0 || static_cast<uint32_t>(x) >= value_count_))
      return bad(what + " " + num(i) + " refers to value #" + std::to_string(x) + ", but the model has " +
                 num(value_count_) + " values");
    out[i] = x;
  }
  return Status::Ok();
}

Status Reader::read_attribute(const fb::Attribute& fa, const Node& n, int depth, Attribute& a) {
  using K = Attribute::Kind;
  std::string what = n.describe() + ": attribute '" + str(fa.name()) + "'";
  int kind = static_cast<int>(fa.kind());
  if (kind > static_cast<int>(K::kGraph)) return bad(what + " has unknown kind " + std::to_string(kind));
  a.kind = static_cast<K>(kind);
  // Only the payload of the declared kind may be set.
  const bool has[8] = {fa.i() != 0,       fa.f() != 0,          fa.s() != nullptr,   fa.ints() != nullptr,
                       fa.floats() != nullptr, fa.strings() != nullptr, fa.tensor() != -1, fa.graph() != -1};
  for (int k = 0; k < 8; ++k)
    if (k != kind && has[k])
      return bad(what + " is of kind " + attribute_kind_name(a.kind) + " but has a " +
                 attribute_kind_name(static_cast<K>(k)) + " value");
  switch (a.kind) {
    case K::kInt: a.i = fa.i(); break;
    case K::kFloat: a.f = fa.f(); break;
    case K::kString:
      a.s = str(fa.s());
      KILN_RETURN_IF_ERROR(charge(a.s.size() + 5));
      break;
    case K::kInts:
      if (fa.ints()) {
        if (misaligned(fa.ints())) return bad(what + ": misaligned ints");
        KILN_RETURN_IF_ERROR(charge(uint64_t{fa.ints()->size()} * 8));
        a.ints.assign(fa.ints()->begin(), fa.ints()->end());
      }
      break;
    case K::kFloats:
      if (fa.floats()) {
        KILN_RETURN_IF_ERROR(charge(uint64_t{fa.floats()->size()} * 4));
        a.floats.assign(fa.floats()->begin(), fa.floats()->end());
      }
      break;
    case K::kStrings:
      if (fa.strings()) {
        KILN_RETURN_IF_ERROR(charge(uint64_t{fa.strings()->size()} * 4));
        for (const fbs::String* s : *fa.strings()) {
          KILN_RETURN_IF_ERROR(charge(s->size() + 5));
          a.strings.push_back(s->str());
        }
      }
      break;
    case K::kTensor: {
      int32_t t = fa.tensor();
      if (t < static_cast<int32_t>(value_count_) || static_cast<uint32_t>(t) >= tensor_count_)
        return bad(what + " refers to tensor #" + std::to_string(t) + "; attribute tensors are #" +
                   num(value_count_) + "..#" + std::to_string(static_cast<int64_t>(tensor_count_) - 1));
      KILN_ASSIGN_OR_RETURN(a.t, read_data(*fm_->tensors()->Get(static_cast<uint32_t>(t)), what));
      break;
    }
    case K::kGraph: {
      int32_t g = fa.graph();
      if (g < 1 || static_cast<size_t>(g) >= graph_used_.size())
        return bad(what + " refers to graph #" + std::to_string(g) + "; subgraphs are #1..#" +
                   std::to_string(static_cast<int64_t>(graph_used_.size()) - 1));
      if (depth + 1 > format::kMaxGraphDepth)
        return bad(what + ": subgraphs nested deeper than " + num(format::kMaxGraphDepth) + " levels");
      a.g = std::make_shared<Graph>();
      KILN_RETURN_IF_ERROR(read_graph(static_cast<uint32_t>(g), depth + 1, *a.g).with_context(what));
      break;
    }
  }
  return Status::Ok();
}

Status Reader::read_node(const fb::Node& fn, int depth, Node& n) {
  n.name = str(fn.name());
  n.op_type = str(fn.op_type());
  n.domain = str(fn.domain());
  KILN_RETURN_IF_ERROR(charge(n.name.size() + n.op_type.size() + n.domain.size() + 16));
  KILN_RETURN_IF_ERROR(check_values(fn.inputs(), true, n.describe() + " input", n.inputs));
  KILN_RETURN_IF_ERROR(check_values(fn.outputs(), true, n.describe() + " output", n.outputs));
  if (const auto* attrs = fn.attributes()) {
    KILN_RETURN_IF_ERROR(charge(uint64_t{attrs->size()} * 8));
    for (const fb::Attribute* fa : *attrs) {
      std::string name = str(fa->name());
      KILN_RETURN_IF_ERROR(charge(name.size() + 5));
      if (n.attrs.count(name)) return bad(n.describe() + ": attribute '" + name + "' appears twice");
      KILN_RETURN_IF_ERROR(read_attribute(*fa, n, depth, n.attrs[name]));
    }
  }
  return Status::Ok();
}

Status Reader::read_graph(uint32_t index, int depth, Graph& out) {
  if (graph_used_[index]) return bad("graph #" + num(index) + " is used more than once");
  graph_used_[index] = true;
  const fb::Graph* g = fm_->graphs()->Get(index);
  out.name = str(g->name());
  KILN_RETURN_IF_ERROR(charge(out.name.size() + 8));
  std::string what = "graph '" + out.name + "'";
  KILN_RETURN_IF_ERROR(check_values(g->inputs(), false, what + " input", out.inputs));
  KILN_RETURN_IF_ERROR(check_values(g->outputs(), false, what + " output", out.outputs));
  if (const auto* nodes = g->nodes()) {
    KILN_RETURN_IF_ERROR(charge(uint64_t{nodes->size()} * 8));
    out.nodes.resize(nodes->size());
    for (uint32_t i = 0; i < nodes->size(); ++i)
      KILN_RETURN_IF_ERROR(read_node(*nodes->Get(i), depth, out.nodes[i]));
  }
  return Status::Ok();
}

Result<Model> Reader::read() {
  if (!bytes_) return invalid_argument("read_model: no bytes");
  base_ = bytes_->data();
  size_ = bytes_->size();
  KILN_RETURN_IF_ERROR(check_header());
  KILN_RETURN_IF_ERROR(check_segments());

  Model m;
  m.producer = str(fm_->producer());
  m.source_sha256 = str(fm_->source_sha256());
  m.opset = fm_->opset();
  KILN_RETURN_IF_ERROR(charge(m.producer.size() + m.source_sha256.size() + 10));
  if (const auto* meta = fm_->metadata()) {
    KILN_RETURN_IF_ERROR(charge(uint64_t{meta->size()} * 8));
    for (const fb::KeyValue* kv : *meta) {
      m.metadata.emplace_back(str(kv->key()), str(kv->value()));
      KILN_RETURN_IF_ERROR(charge(m.metadata.back().first.size() + m.metadata.back().second.size() + 10));
    }
  }
  KILN_RETURN_IF_ERROR(read_tensors(m));

  const auto* graphs = fm_->graphs();
  if (!graphs || graphs->size() == 0) return bad("the model has no main graph");
  graph_used_.assign(graphs->size(), false);
  KILN_RETURN_IF_ERROR(read_graph(0, 0, m.graph));
  for (uint32_t i = 0; i < graphs->size(); ++i)
    if (!graph_used_[i]) return bad("graph #" + num(i) + " is not used by any node");

  // Hashes last among the file checks: they are the costly part, and by now each
  // segment can be named by a tensor it holds.
  KILN_RETURN_IF_ERROR(check_hashes());
  KILN_RETURN_IF_ERROR(validate_and_sort(m));
  return m;
}

}  // namespace

Result<Model> read_model(std::shared_ptr<const std::vector<uint8_t>> bytes, const ReadOptions& options) {
  return Reader(std::move(bytes), options).read();
}

}  // namespace kiln
