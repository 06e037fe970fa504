// .kiln format: SHA-256 vectors, exact round trip, determinism, alignment, and a
// reader that rejects truncated, corrupted and hostile files without crashing.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <random>

#include "core/half.h"
#include "format/model_generated.h"
#include "format/model_io.h"
#include "format/sha256.h"

namespace kiln {
namespace {

using Bytes = std::shared_ptr<const std::vector<uint8_t>>;
Bytes share(std::vector<uint8_t> v) { return std::make_shared<const std::vector<uint8_t>>(std::move(v)); }

// ---------------------------------------------------------------- SHA-256

std::string hex_of(const std::string& s) {
  return sha256_hex(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

TEST(FormatSha256, Fips180Vectors) {
  EXPECT_EQ(hex_of(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(hex_of("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(hex_of("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(hex_of("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopq"
                   "rsmnopqrstnopqrstu"),
            "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
  EXPECT_EQ(hex_of(std::string(1000000, 'a')), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(FormatSha256, StreamingMatchesOneShot) {
  std::vector<uint8_t> data(1000);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 31 + 7);
  Sha256Digest one = Sha256::hash(data.data(), data.size());
  // Chunk sizes straddling the 64-byte block and the 56-byte padding boundary.
  for (size_t chunk : {1, 7, 55, 56, 63, 64, 65, 129}) {
    Sha256 h;
    for (size_t pos = 0; pos < data.size(); pos += chunk) h.update(data.data() + pos, std::min(chunk, data.size() - pos));
    EXPECT_EQ(h.finish(), one) << "chunk " << chunk;
  }
  for (size_t n = 50; n < 70; ++n) {  // lengths around the padding boundary vs a second implementation path
    Sha256 h;
    h.update(data.data(), n / 2);
    h.update(data.data() + n / 2, n - n / 2);
    EXPECT_EQ(h.finish(), Sha256::hash(data.data(), n)) << n;
  }
}

// ---------------------------------------------------------------- test model

Tensor make_tensor(DType dt, Dims dims, const void* src) {
  Tensor t = Tensor::make(dt, std::move(dims)).value();
  if (t.bytes()) std::memcpy(t.mutable_raw(), src, t.bytes());
  return t;
}

Attribute attr_int(int64_t v) { Attribute a; a.kind = Attribute::Kind::kInt; a.i = v; return a; }

// A model exercising every feature of the format. `big` adds weights large enough
// to spread over several segments.
Model make_model(bool big = false) {
  Model m;
  m.opset = 17;
  m.producer = "kiln-test 0.1";
  m.source_sha256 = std::string(64, 'a');
  m.metadata = {{"task", "ocr"}, {"vocab", std::string("a\0b", 3)}, {"task", "duplicate keys keep order"}};

  int x = m.add_value({"x", DType::kF32, Shape{{-1, "batch"}, {3, ""}, {-1, ""}}, std::nullopt});
  std::vector<float> wv(big ? 3 * 2000 : 12);
  for (size_t i = 0; i < wv.size(); ++i) wv[i] = static_cast<float>(i) * 0.5f - 3.0f;
  Dims wd = {3, static_cast<int64_t>(wv.size() / 3)};
  int w = m.add_value({"w", DType::kF32, shape_from_dims(wd), make_tensor(DType::kF32, wd, wv.data())});
  std::vector<int64_t> iv = {-5, int64_t{1} << 40, 7};
  int idx = m.add_value({"idx", DType::kI64, shape_from_dims({3}), make_tensor(DType::kI64, {3}, iv.data())});
  std::vector<uint16_t> hv = {float_to_half(1.5f), float_to_half(-2.0f), float_to_half(65504.f), 0x7e00, 1};
  int h = m.add_value({"h", DType::kF16, shape_from_dims({5}), make_tensor(DType::kF16, {5}, hv.data())});
  uint8_t u8v[3] = {1, 2, 255};
  int u8 = m.add_value({"u8c", DType::kU8, std::nullopt, make_tensor(DType::kU8, {3}, u8v)});
  int empty = m.add_value({"empty", DType::kF32, shape_from_dims({0, 4}), make_tensor(DType::kF32, {0, 4}, nullptr)});
  int32_t sv = 7;
  int scal = m.add_value({"scalar", DType::kI32, Shape{}, make_tensor(DType::kI32, {}, &sv)});
  std::vector<double> dv(big ? 5000 : 2, 3.25);
  int dbl = m.add_value({"dbl", DType::kUndefined, std::nullopt,
                         make_tensor(DType::kF64, {static_cast<int64_t>(dv.size())}, dv.data())});
  int y = m.add_value({"y", DType::kF32, std::nullopt, std::nullopt});
  int cond = m.add_value({"cond", DType::kBool, Shape{}, std::nullopt});
  int then_out = m.add_value({"then_out", DType::kF32, Shape{{-1, "batch"}, {4, "four"}}, std::nullopt});
  int else_out = m.add_value({"else_out", DType::kF32, std::nullopt, std::nullopt});
  int inner_out = m.add_value({"inner_out", DType::kF32, std::nullopt, std::nullopt});
  int z = m.add_value({"z", DType::kF32, std::nullopt, std::nullopt});
  int c = m.add_value({"c", DType::kF32, std::nullopt, std::nullopt});
  m.add_value({"names", DType::kString, shape_from_dims({2}), std::nullopt});  // unused, declared only

  Node mm{"mm", "MatMul", "", {x, w}, {y}, {}};
  Attribute a;
  mm.attrs["i"] = attr_int(-(int64_t{1} << 50));
  a = {}; a.kind = Attribute::Kind::kFloat; a.f = -0.0f; mm.attrs["f"] = a;
  a = {}; a.kind = Attribute::Kind::kString; a.s = std::string("with\0nul", 8); mm.attrs["s"] = a;
  a = {}; a.kind = Attribute::Kind::kString; mm.attrs["s_empty"] = a;
  a = {}; a.kind = Attribute::Kind::kInts; a.ints = {1, -1, INT64_MAX, INT64_MIN}; mm.attrs["ints"] = a;
  a = {}; a.kind = Attribute::Kind::kInts; mm.attrs["ints_empty"] = a;
  a = {}; a.kind = Attribute::Kind::kFloats; a.floats = {1.5f, 1e-30f, -7.f}; mm.attrs["floats"] = a;
  a = {}; a.kind = Attribute::Kind::kStrings; a.strings = {"NCHW", "", "x"}; mm.attrs["strings"] = a;
  std::vector<uint16_t> th = {float_to_half(0.25f), float_to_half(4.0f)};
  a = {}; a.kind = Attribute::Kind::kTensor; a.t = make_tensor(DType::kF16, {2, 1}, th.data()); mm.attrs["t"] = a;

  Node clip{"clip", "Clip", "", {y, kNoValue, scal}, {c, kNoValue}, {}};

  // If with two branches; the else branch holds a nested If and a tensor attribute.
  auto then_g = std::make_shared<Graph>();
  then_g->name = "then";
  then_g->nodes.push_back(Node{"then_id", "Identity", "", {c}, {then_out}, {}});
  then_g->outputs = {then_out};

  auto inner = std::make_shared<Graph>();
  inner->name = "inner";
  inner->nodes.push_back(Node{"inner_relu", "Relu", "", {y}, {inner_out}, {}});
  inner->outputs = {inner_out};
  auto else_g = std::make_shared<Graph>();
  else_g->name = "else";
  Node nested{"nested_if", "If", "", {cond}, {else_out}, {}};
  a = {}; a.kind = Attribute::Kind::kGraph; a.g = inner; nested.attrs["then_branch"] = a;
  a = {}; a.kind = Attribute::Kind::kGraph; a.g = inner; nested.attrs["else_branch"] = a;  // shared in memory
  std::vector<int64_t> tv = {42};
  a = {}; a.kind = Attribute::Kind::kTensor; a.t = make_tensor(DType::kI64, {1}, tv.data()); nested.attrs["tag"] = a;
  else_g->nodes.push_back(nested);
  else_g->outputs = {else_out};

  Node iff{"if", "If", "", {cond}, {z}, {}};
  a = {}; a.kind = Attribute::Kind::kGraph; a.g = then_g; iff.attrs["then_branch"] = a;
  a = {}; a.kind = Attribute::Kind::kGraph; a.g = else_g; iff.attrs["else_branch"] = a;

  Node custom{"custom", "Fancy", "com.example", {idx, h, u8, empty, dbl}, {}, {}};
  custom.attrs["mode"] = attr_int(3);

  m.graph.name = "main";
  m.graph.nodes = {mm, clip, iff, custom};
  m.graph.inputs = {x, cond};
  m.graph.outputs = {z, y};
  EXPECT_TRUE(validate_and_sort(m).ok());
  return m;
}

// ---------------------------------------------------------------- comparison

void expect_tensor_eq(const Tensor& a, const Tensor& b, const std::string& where) {
  ASSERT_EQ(a.dtype(), b.dtype()) << where;
  ASSERT_EQ(a.dims(), b.dims()) << where;
  ASSERT_EQ(a.bytes(), b.bytes()) << where;
  if (a.bytes()) {
    EXPECT_EQ(std::memcmp(a.raw(), b.raw(), a.bytes()), 0) << where;
  }
}

void expect_graph_eq(const Graph& a, const Graph& b);

void expect_attr_eq(const Attribute& a, const Attribute& b, const std::string& where) {
  ASSERT_EQ(a.kind, b.kind) << where;
  using K = Attribute::Kind;
  switch (a.kind) {
    case K::kInt: EXPECT_EQ(a.i, b.i) << where; break;
    case K::kFloat: EXPECT_EQ(std::memcmp(&a.f, &b.f, 4), 0) << where; break;  // bitwise: -0.0 stays -0.0
    case K::kString: EXPECT_EQ(a.s, b.s) << where; break;
    case K::kInts: EXPECT_EQ(a.ints, b.ints) << where; break;
    case K::kFloats: EXPECT_EQ(a.floats, b.floats) << where; break;
    case K::kStrings: EXPECT_EQ(a.strings, b.strings) << where; break;
    case K::kTensor: expect_tensor_eq(a.t, b.t, where); break;
    case K::kGraph: ASSERT_TRUE(a.g && b.g) << where; expect_graph_eq(*a.g, *b.g); break;
  }
}

void expect_graph_eq(const Graph& a, const Graph& b) {
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.inputs, b.inputs) << a.name;
  EXPECT_EQ(a.outputs, b.outputs) << a.name;
  ASSERT_EQ(a.nodes.size(), b.nodes.size()) << a.name;
  for (size_t i = 0; i < a.nodes.size(); ++i) {
    const Node &x = a.nodes[i], &y = b.nodes[i];
    EXPECT_EQ(x.name, y.name);
    EXPECT_EQ(x.op_type, y.op_type);
    EXPECT_EQ(x.domain, y.domain);
    EXPECT_EQ(x.inputs, y.inputs) << x.name;
    EXPECT_EQ(x.outputs, y.outputs) << x.name;
    ASSERT_EQ(x.attrs.size(), y.attrs.size()) << x.name;
    for (const auto& [name, at] : x.attrs) {
      ASSERT_TRUE(y.has_attr(name)) << x.name << "." << name;
      expect_attr_eq(at, y.attrs.at(name), x.name + "." + name);
    }
  }
}

// Exact equality, except that a constant declared kUndefined takes its data's dtype.
void expect_model_eq(const Model& a, const Model& b) {
  EXPECT_EQ(a.opset, b.opset);
  EXPECT_EQ(a.producer, b.producer);
  EXPECT_EQ(a.source_sha256, b.source_sha256);
  EXPECT_EQ(a.metadata, b.metadata);
  ASSERT_EQ(a.values.size(), b.values.size());
  for (size_t i = 0; i < a.values.size(); ++i) {
    const Value &x = a.values[i], &y = b.values[i];
    EXPECT_EQ(x.name, y.name);
    EXPECT_EQ(x.dtype == DType::kUndefined && x.data ? x.data->dtype() : x.dtype, y.dtype) << x.name;
    ASSERT_EQ(x.shape.has_value(), y.shape.has_value()) << x.name;
    if (x.shape) {
      ASSERT_EQ(x.shape->size(), y.shape->size()) << x.name;
      for (size_t d = 0; d < x.shape->size(); ++d) {
        EXPECT_EQ((*x.shape)[d].size, (*y.shape)[d].size) << x.name;
        EXPECT_EQ((*x.shape)[d].param, (*y.shape)[d].param) << x.name;
      }
    }
    ASSERT_EQ(x.data.has_value(), y.data.has_value()) << x.name;
    if (x.data) expect_tensor_eq(*x.data, *y.data, x.name);
  }
  expect_graph_eq(a.graph, b.graph);
}

bool inside(const void* p, const std::vector<uint8_t>& bytes) {
  auto* q = static_cast<const uint8_t*>(p);
  return q >= bytes.data() && q <= bytes.data() + bytes.size();
}

// ---------------------------------------------------------------- round trip

TEST(FormatRoundTrip, ExactAndZeroCopy) {
  Model m = make_model();
  auto bytes = write_model(m);
  ASSERT_TRUE(bytes.ok()) << bytes.status().to_string();
  Bytes shared = share(std::move(bytes).value());
  auto r = read_model(shared);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  expect_model_eq(m, *r);

  // Constants are views into the file bytes, and keep those bytes alive.
  const Model& back = *r;
  for (const Value& v : back.values)
    if (v.data && v.data->bytes()) {
      EXPECT_TRUE(inside(v.data->raw(), *shared)) << v.name;
    }
  const Attribute* t = back.graph.nodes[0].attr("t");
  ASSERT_TRUE(t);
  EXPECT_TRUE(inside(t->t.raw(), *shared));
  Model keep = std::move(r).value();
  shared.reset();  // only the model holds the bytes now (ASan checks the reads below)
  const Value& idx = keep.values[keep.find_value("idx")];
  EXPECT_EQ(idx.data->data<int64_t>()[1], int64_t{1} << 40);
  EXPECT_EQ(half_to_float(keep.values[keep.find_value("h")].data->data<uint16_t>()[1]), -2.0f);
  EXPECT_EQ(keep.metadata_value("vocab"), std::string("a\0b", 3));
}

TEST(FormatRoundTrip, DeterministicBytes) {
  Model m = make_model(true);
  auto a = write_model(m);
  ASSERT_TRUE(a.ok());
  // An independent deep copy (other buffers, other addresses) writes the same bytes.
  Model copy = make_model(true);
  auto b = write_model(copy);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(*a, *b);
  // And so does the model read back from the file.
  auto r = read_model(share(*a));
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  auto c = write_model(*r);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(*a, *c);
}

// Parses the table with the generated code (the test trusts its own writer's output).
const fb::Model* table_of(const std::vector<uint8_t>& bytes) { return fb::GetSizePrefixedModel(bytes.data()); }
uint64_t data_start_of(const std::vector<uint8_t>& bytes) {
  uint64_t table = 4 + flatbuffers::ReadScalar<uint32_t>(bytes.data());
  return (table + 63) / 64 * 64;
}

TEST(FormatRoundTrip, SegmentsAndAlignment) {
  Model m = make_model(true);  // w: 24000 bytes, dbl: 40000 bytes, several small ones
  WriteOptions opt;
  opt.segment_bytes = 4096;
  auto bytes = write_model(m, opt);
  ASSERT_TRUE(bytes.ok());
  Bytes shared = share(*bytes);
  const fb::Model* fm = table_of(*shared);
  ASSERT_TRUE(fm->segments());
  const uint64_t data_start = data_start_of(*shared);
  EXPECT_EQ(data_start % 64, 0u);
  // Segments: 64-aligned, in the file, ending exactly at the end of the file, hashes match.
  uint64_t end = 0;
  for (const fb::Segment* s : *fm->segments()) {
    EXPECT_EQ(s->offset() % 64, 0u);
    EXPECT_GE(s->offset(), end);
    end = s->offset() + s->length();
    EXPECT_EQ(to_hex(s->sha256()->Data(), 32), sha256_hex(shared->data() + data_start + s->offset(), s->length()));
  }
  EXPECT_EQ(data_start + end, shared->size());
  // w and dbl exceed 4096 bytes: each gets a segment of its own; small ones share.
  const fb::Tensor* w = fm->tensors()->Get(1);
  const fb::Tensor* dbl = fm->tensors()->Get(7);
  ASSERT_TRUE(w->data() && dbl->data());
  EXPECT_NE(w->data()->segment(), dbl->data()->segment());
  EXPECT_EQ(fm->segments()->Get(w->data()->segment())->length(), 24000u);
  EXPECT_EQ(fm->segments()->Get(dbl->data()->segment())->length(), 40000u);
  EXPECT_EQ(fm->tensors()->Get(2)->data()->segment(), fm->tensors()->Get(3)->data()->segment());  // idx, h
  EXPECT_GE(fm->segments()->size(), 3u);

  auto r = read_model(shared);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  expect_model_eq(m, *r);
  // Every constant starts 64 bytes after a 64-aligned point relative to the buffer start.
  for (const Value& v : r->values)
    if (v.data && v.data->bytes()) {
      auto off = static_cast<const uint8_t*>(v.data->raw()) - shared->data();
      EXPECT_EQ(off % 64, 0) << v.name;
    }
  // Default segment size: everything in one segment.
  auto one = write_model(m);
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(table_of(*one)->segments()->size(), 1u);
}

TEST(FormatRoundTrip, ModelWithoutConstantsAndFiles) {
  Model m;
  int a = m.add_value({"a", DType::kF32, shape_from_dims({2}), std::nullopt});
  int b = m.add_value({"b", DType::kF32, shape_from_dims({2}), std::nullopt});
  m.graph.nodes.push_back(Node{"relu", "Relu", "", {a}, {b}, {}});
  m.graph.inputs = {a};
  m.graph.outputs = {b};
  auto bytes = write_model(m);
  ASSERT_TRUE(bytes.ok());
  EXPECT_FALSE(table_of(*bytes)->segments() && table_of(*bytes)->segments()->size());
  EXPECT_EQ(bytes->size(), 4 + flatbuffers::ReadScalar<uint32_t>(bytes->data()));  // no padding
  std::string path = ::testing::TempDir() + "/kiln_format_test.kiln";
  ASSERT_TRUE(write_file_bytes(path, *bytes).ok());
  auto loaded = read_file_bytes(path);
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(**loaded, *bytes);
  auto r = read_model(*loaded);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  expect_model_eq(m, *r);
  EXPECT_EQ(read_file_bytes(path + ".missing").status().code(), Code::kIO);
  std::remove(path.c_str());
}

TEST(FormatRoundTrip, WriterRejectsBadModels) {
  Model m = make_model();
  m.values[1].dtype = DType::kI32;  // declared int32, holds float32
  EXPECT_FALSE(write_model(m).ok());
  Model g = make_model();
  g.graph.nodes[2].attrs["then_branch"].g.reset();
  auto r = write_model(g);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("holds no graph"), std::string::npos) << r.status().message();
  Model t = make_model();
  t.graph.nodes[0].attrs["t"].t = Tensor();
  EXPECT_FALSE(write_model(t).ok());
}

// ---------------------------------------------------------------- hostile input

TEST(FormatReader, TruncatedAtEveryByte) {
  Model m = make_model();
  auto bytes = write_model(m);
  ASSERT_TRUE(bytes.ok());
  const std::vector<uint8_t>& full = *bytes;
  for (size_t cut = 0; cut < full.size(); ++cut) {
    auto r = read_model(share(std::vector<uint8_t>(full.begin(), full.begin() + cut)));
    ASSERT_FALSE(r.ok()) << "cut at " << cut << " of " << full.size();
    EXPECT_EQ(r.status().code(), Code::kInvalidModel) << r.status().to_string();
    EXPECT_NE(r.status().message().find("truncated"), std::string::npos) << cut << ": " << r.status().to_string();
  }
  const uint64_t table_end = 4 + flatbuffers::ReadScalar<uint32_t>(full.data());
  ASSERT_GT(table_end, 100u);
  auto r = read_model(share(std::vector<uint8_t>(full.begin(), full.begin() + 100)));
  EXPECT_EQ(r.status().to_string(),
            "invalid model: truncated file: table needs " + std::to_string(table_end) + " bytes, file has 100");
}

TEST(FormatReader, TruncatedLargeModelWithStride) {
  auto bytes = write_model(make_model(true), WriteOptions{4096});
  ASSERT_TRUE(bytes.ok());
  for (size_t cut = 0; cut < bytes->size(); cut += 97) {
    auto r = read_model(share(std::vector<uint8_t>(bytes->begin(), bytes->begin() + cut)));
    ASSERT_FALSE(r.ok()) << cut;
  }
}

TEST(FormatReader, RandomBitFlips) {
  Model m = make_model(true);
  auto written = write_model(m, WriteOptions{4096});
  ASSERT_TRUE(written.ok());
  const std::vector<uint8_t>& good = *written;
  const uint64_t data_start = data_start_of(good);
  const fb::Model* fm = table_of(good);
  auto in_segment = [&](uint64_t pos) {
    for (const fb::Segment* s : *fm->segments())
      if (pos >= data_start + s->offset() && pos < data_start + s->offset() + s->length()) return true;
    return false;
  };
  std::mt19937 rng(1234);
  int accepted = 0, rejected = 0;
  for (int trial = 0; trial < 4000; ++trial) {
    std::vector<uint8_t> bad = good;
    // Half the flips hit the table, half anywhere (mostly weights).
    uint64_t pos = trial % 2 ? rng() % data_start : rng() % good.size();
    bad[pos] ^= static_cast<uint8_t>(1u << (rng() % 8));
    auto r = read_model(share(std::move(bad)));
    if (!r.ok()) {
      ++rejected;
      continue;
    }
    ++accepted;
    EXPECT_FALSE(in_segment(pos)) << "flip in weights at byte " << pos << " was not caught";
    // What was accepted is a consistent model: it validates again and can be written.
    Model copy = std::move(r).value();
    EXPECT_TRUE(validate_and_sort(copy).ok());
    (void)write_model(copy);
  }
  std::printf("bit flips: %d rejected, %d accepted\n", rejected, accepted);
  EXPECT_GT(rejected, 2000);  // every weight flip, plus most table flips
  EXPECT_GT(accepted, 0);     // e.g. flips inside names are harmless
}

TEST(FormatReader, RandomByteGarbageInTable) {
  auto written = write_model(make_model());
  ASSERT_TRUE(written.ok());
  const std::vector<uint8_t>& good = *written;
  const uint64_t table_end = 4 + flatbuffers::ReadScalar<uint32_t>(good.data());
  std::mt19937 rng(99);
  for (int trial = 0; trial < 3000; ++trial) {
    std::vector<uint8_t> bad = good;
    int n = 1 + static_cast<int>(rng() % 8);
    for (int k = 0; k < n; ++k) bad[4 + rng() % (table_end - 4)] = static_cast<uint8_t>(rng());
    auto r = read_model(share(std::move(bad)));
    if (r.ok()) {
      Model copy = std::move(r).value();
      EXPECT_TRUE(validate_and_sort(copy).ok());
    }
  }
  // Pure noise with a valid-looking header.
  for (int trial = 0; trial < 500; ++trial) {
    std::vector<uint8_t> noise(16 + rng() % 600);
    for (auto& b : noise) b = static_cast<uint8_t>(rng());
    uint32_t prefix = static_cast<uint32_t>(noise.size() - 4 - rng() % 8);
    std::memcpy(noise.data(), &prefix, 4);
    std::memcpy(noise.data() + 8, "KILN", 4);
    EXPECT_FALSE(read_model(share(std::move(noise))).ok());
  }
}

TEST(FormatReader, CorruptWeightsNameTheSegment) {
  auto written = write_model(make_model(true), WriteOptions{4096});
  ASSERT_TRUE(written.ok());
  const fb::Model* fm = table_of(*written);
  const fb::Tensor* dbl = fm->tensors()->Get(7);
  uint32_t seg = dbl->data()->segment();
  std::vector<uint8_t> bad = *written;
  bad[data_start_of(bad) + fm->segments()->Get(seg)->offset() + dbl->data()->offset() + 100] ^= 0x10;
  auto r = read_model(share(bad));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("segment " + std::to_string(seg) + " is corrupt"), std::string::npos)
      << r.status().message();
  EXPECT_NE(r.status().message().find("'dbl'"), std::string::npos) << r.status().message();
  // Without hash checks the (corrupted) data loads as is.
  ReadOptions no_hash;
  no_hash.verify_hashes = false;
  auto loose = read_model(share(bad), no_hash);
  ASSERT_TRUE(loose.ok()) << loose.status().to_string();
  EXPECT_NE(loose->values[7].data->data<double>()[12], 3.25);
}

TEST(FormatReader, WrongIdentifierAndTinyInputs) {
  auto written = write_model(make_model());
  ASSERT_TRUE(written.ok());
  std::vector<uint8_t> bad = *written;
  std::memcpy(bad.data() + 8, "ONNX", 4);
  auto r = read_model(share(bad));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().to_string(), "invalid model: not a .kiln file (identifier 'ONNX', expected 'KILN')");
  const uint8_t png[16] = {0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 'I', 'H', 'D', 'R'};
  r = read_model(share(std::vector<uint8_t>(png, png + 16)));
  EXPECT_NE(r.status().message().find("not a .kiln file (identifier 0x0000000d"), std::string::npos)
      << r.status().message();
  EXPECT_FALSE(read_model(share({})).ok());
  EXPECT_FALSE(read_model(nullptr).ok());
  EXPECT_FALSE(read_model(share(std::vector<uint8_t>(64, 0))).ok());
}

// ---------------------------------------------------------------- hand-built tables

// Builds a size-prefixed table directly, to express files our writer never makes.
struct RawModel {
  flatbuffers::FlatBufferBuilder fbb;
  uint32_t version = kFormatVersion;
  std::vector<flatbuffers::Offset<fb::Tensor>> tensors;
  uint32_t value_count = 0;
  std::vector<flatbuffers::Offset<fb::Graph>> graphs;
  std::vector<fb::Segment> segments;
  std::vector<uint8_t> data;  // the data area

  int plain(const char* name, fb::DType dt = fb::DType::F32) {
    tensors.push_back(fb::CreateTensorDirect(fbb, name, dt));
    return static_cast<int>(value_count++);
  }
  flatbuffers::Offset<fb::Node> node(const char* name, std::vector<int32_t> in, std::vector<int32_t> out,
                                     std::vector<flatbuffers::Offset<fb::Attribute>> attrs = {}) {
    return fb::CreateNodeDirect(fbb, name, "Op", "", &in, &out, attrs.empty() ? nullptr : &attrs);
  }
  void graph(std::vector<flatbuffers::Offset<fb::Node>> nodes, std::vector<int32_t> in, std::vector<int32_t> out) {
    graphs.push_back(fb::CreateGraphDirect(fbb, "g", &nodes, &in, &out));
  }
  Result<Model> read() {
    auto root = fb::CreateModelDirect(fbb, version, "raw", "", nullptr, 13, &tensors, value_count, &graphs,
                                      &segments);
    fb::FinishSizePrefixedModelBuffer(fbb, root);
    std::vector<uint8_t> bytes(fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize());
    if (!segments.empty()) {
      bytes.resize((bytes.size() + 63) / 64 * 64);
      bytes.insert(bytes.end(), data.begin(), data.end());
    }
    return read_model(share(std::move(bytes)));
  }
};

void expect_error(Result<Model> r, const std::string& part) {
  ASSERT_FALSE(r.ok()) << "expected an error containing: " << part;
  EXPECT_NE(r.status().message().find(part), std::string::npos) << r.status().to_string();
}

TEST(FormatReader, RawBaselineIsAccepted) {
  RawModel raw;
  int a = raw.plain("a"), b = raw.plain("b");
  raw.graph({raw.node("n", {a}, {b})}, {a}, {b});
  auto r = raw.read();
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->producer, "raw");
  EXPECT_EQ(r->opset, 13);
}

TEST(FormatReader, NewerAndMissingVersion) {
  RawModel raw;
  raw.version = kFormatVersion + 1;
  int a = raw.plain("a");
  raw.graph({}, {a}, {a});
  auto r = raw.read();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kUnsupported);
  EXPECT_EQ(r.status().message(), "model file written by a newer kiln (format " + std::to_string(kFormatVersion + 1) +
                                      ", this build reads " + std::to_string(kFormatVersion) + ")");
  RawModel zero;
  zero.version = 0;
  zero.graph({}, {}, {});
  expect_error(zero.read(), "format version is missing");
}

TEST(FormatReader, RejectsBadIndices) {
  {
    RawModel raw;
    int a = raw.plain("a"), b = raw.plain("b");
    raw.graph({raw.node("n", {a, 5}, {b})}, {a}, {b});
    expect_error(raw.read(), "node 'n' (Op) input 1 refers to value #5, but the model has 2 values");
  }
  {
    RawModel raw;
    int a = raw.plain("a");
    raw.graph({}, {a}, {-1});
    expect_error(raw.read(), "graph 'g' output 0 refers to value #-1");
  }
  {
    RawModel raw;  // the main graph as its own subgraph: a cycle
    int a = raw.plain("a"), b = raw.plain("b");
    auto attr = fb::CreateAttributeDirect(raw.fbb, "body", fb::AttrKind::Graph, 0, 0, nullptr, nullptr, nullptr,
                                          nullptr, -1, 0);
    raw.graph({raw.node("loop", {a}, {b}, {attr})}, {a}, {b});
    expect_error(raw.read(), "refers to graph #0");
  }
  {
    RawModel raw;  // one subgraph used by two attributes
    int a = raw.plain("a"), b = raw.plain("b");
    auto t = fb::CreateAttributeDirect(raw.fbb, "then_branch", fb::AttrKind::Graph, 0, 0, nullptr, nullptr, nullptr,
                                       nullptr, -1, 1);
    auto e = fb::CreateAttributeDirect(raw.fbb, "else_branch", fb::AttrKind::Graph, 0, 0, nullptr, nullptr,
                                       nullptr, nullptr, -1, 1);
    raw.graph({raw.node("if", {a}, {b}, {t, e})}, {a}, {b});
    raw.graph({}, {}, {a});
    expect_error(raw.read(), "graph #1 is used more than once");
  }
  {
    RawModel raw;  // a graph nobody uses
    int a = raw.plain("a");
    raw.graph({}, {a}, {a});
    raw.graph({}, {}, {});
    expect_error(raw.read(), "graph #1 is not used");
  }
  {
    RawModel raw;  // graph k holds graph k+1: graph 17 is nested 17 deep
    for (int level = 0; level <= 17; ++level) {
      std::vector<flatbuffers::Offset<fb::Node>> nodes;
      if (level < 17) {
        auto g = fb::CreateAttributeDirect(raw.fbb, "body", fb::AttrKind::Graph, 0, 0, nullptr, nullptr, nullptr,
                                           nullptr, -1, level + 1);
        nodes.push_back(raw.node("n", {}, {}, {g}));
      }
      raw.graph(nodes, {}, {});
    }
    expect_error(raw.read(), "nested deeper than 16");
  }
}

TEST(FormatReader, RejectsBadTensorsAndAttributes) {
  {
    RawModel raw;
    int a = raw.plain("a", static_cast<fb::DType>(99));
    raw.graph({}, {a}, {a});
    expect_error(raw.read(), "tensor 'a' (#0): unknown dtype 99");
  }
  {
    RawModel raw;
    std::vector<int64_t> dims = {2, -2};
    raw.tensors.push_back(fb::CreateTensorDirect(raw.fbb, "a", fb::DType::F32, true, &dims));
    raw.value_count = 1;
    raw.graph({}, {0}, {0});
    expect_error(raw.read(), "dimension 1 is -2");
  }
  // Constants: a segment of 64 bytes holding one tensor.
  auto with_constant = [](std::vector<int64_t> data_dims, fb::DType dt, uint64_t offset, uint64_t length,
                          uint64_t seg_len) {
    auto raw = std::make_unique<RawModel>();
    raw->data.assign(128, 0);
    Sha256Digest d = Sha256::hash(raw->data.data(), std::min<uint64_t>(seg_len, raw->data.size()));
    raw->segments.emplace_back(0, seg_len, flatbuffers::span<const uint8_t, 32>(d.data(), 32));
    fb::DataRef ref(0, offset, length);
    raw->tensors.push_back(fb::CreateTensorDirect(raw->fbb, "w", dt, false, nullptr, nullptr, &ref, &data_dims));
    raw->value_count = 1;
    int b = raw->plain("b");
    raw->graph({raw->node("n", {0}, {b})}, {}, {b});
    return raw;
  };
  {
    auto ok = with_constant({4, 4}, fb::DType::F32, 0, 64, 64);
    auto r = ok->read();
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    EXPECT_EQ(r->values[0].data->dims(), (Dims{4, 4}));
  }
  expect_error(with_constant({4, 5}, fb::DType::F32, 0, 64, 64)->read(), "needs 80 bytes, data has 64");
  expect_error(with_constant({4, 4}, fb::DType::F32, 64, 64, 64)->read(), "lie outside segment 0");
  expect_error(with_constant({4, 4}, fb::DType::F32, 0, 64, 129)->read(), "truncated file: segment 0");
  expect_error(with_constant({2, 2}, fb::DType::F32, 4, 16, 64)->read(), "not 64-byte aligned");
  expect_error(with_constant({1 << 30, 1 << 30, 16}, fb::DType::F32, 0, 64, 64)->read(), "too large");
  expect_error(with_constant({2}, fb::DType::String, 0, 0, 64)->read(), "constant of dtype string");
  {
    auto raw = with_constant({4, 4}, fb::DType::F32, 0, 64, 64);
    raw->data[3] = 1;  // hash no longer matches
    expect_error(raw->read(), "segment 0 is corrupt");
  }
  {
    RawModel raw;  // kind says int but a string payload is set
    int a = raw.plain("a"), b = raw.plain("b");
    auto attr = fb::CreateAttributeDirect(raw.fbb, "axis", fb::AttrKind::Int, 1, 0, "oops");
    raw.graph({raw.node("n", {a}, {b}, {attr})}, {a}, {b});
    expect_error(raw.read(), "attribute 'axis' is of kind int but has a string value");
  }
  {
    RawModel raw;
    int a = raw.plain("a"), b = raw.plain("b");
    auto attr = fb::CreateAttributeDirect(raw.fbb, "value", fb::AttrKind::Tensor, 0, 0, nullptr, nullptr, nullptr,
                                          nullptr, 0);
    raw.graph({raw.node("n", {a}, {b}, {attr})}, {a}, {b});
    expect_error(raw.read(), "refers to tensor #0; attribute tensors are #2");
  }
  {
    RawModel raw;
    int a = raw.plain("a"), b = raw.plain("b");
    auto attr = fb::CreateAttributeDirect(raw.fbb, "x", static_cast<fb::AttrKind>(9));
    raw.graph({raw.node("n", {a}, {b}, {attr})}, {a}, {b});
    expect_error(raw.read(), "unknown kind 9");
  }
  {
    RawModel raw;
    int a = raw.plain("a"), b = raw.plain("b");
    auto x = fb::CreateAttributeDirect(raw.fbb, "x");
    auto y = fb::CreateAttributeDirect(raw.fbb, "x");
    raw.graph({raw.node("n", {a}, {b}, {x, y})}, {a}, {b});
    expect_error(raw.read(), "attribute 'x' appears twice");
  }
}

TEST(FormatReader, RejectsInvalidGraphs) {
  {
    RawModel raw;  // a <- n1(b), b <- n2(a): a cycle
    int x = raw.plain("x"), a = raw.plain("a"), b = raw.plain("b");
    raw.graph({raw.node("n1", {x, b}, {a}), raw.node("n2", {a}, {b})}, {x}, {b});
    expect_error(raw.read(), "is part of a cycle");
  }
  {
    RawModel raw;  // reads a value nobody produces
    int x = raw.plain("x"), a = raw.plain("a"), b = raw.plain("b");
    raw.graph({raw.node("n", {x, a}, {b})}, {x}, {b});
    expect_error(raw.read(), "input 'a' is never produced");
  }
}

TEST(FormatReader, SharedSubTablesCannotBlowUp) {
  // One node with a large attribute referenced many times from the node list:
  // tiny file, huge expansion. Must be refused, not materialized.
  RawModel raw;
  int a = raw.plain("a");
  std::vector<int64_t> big(20000, 1);
  auto attr = fb::CreateAttributeDirect(raw.fbb, "ints", fb::AttrKind::Ints, 0, 0, nullptr, &big);
  std::vector<flatbuffers::Offset<fb::Attribute>> attrs = {attr};
  auto node = fb::CreateNodeDirect(raw.fbb, "n", "Op", "", nullptr, nullptr, &attrs);
  std::vector<flatbuffers::Offset<fb::Node>> nodes(20000, node);
  raw.graphs.push_back(fb::CreateGraphDirect(raw.fbb, "g", &nodes, nullptr, nullptr));
  (void)a;
  expect_error(raw.read(), "exceed the table size");
}

}  // namespace
}  // namespace kiln
