// .kiln reader against hostile input: truncation, bit flips, garbage, wrong
// identifier, newer versions and hand-built tables our writer never makes. Every
// case must give an error (or a model that validates), never a crash.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <random>

#include "format/sha256.h"
#include "format_test_model.h"

namespace kiln {
namespace {

using namespace format_test;  // NOLINT: test helpers

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
  std::vector<flatbuffers::Offset<fb::Segment>> segments;
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
    raw->segments.push_back(fb::CreateSegment(raw->fbb, 0, seg_len, raw->fbb.CreateVector(d.data(), 32)));
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
  {
    auto short_digest = std::make_unique<RawModel>();
    short_digest->data.assign(64, 0);
    std::vector<uint8_t> d31(31, 0);
    short_digest->segments.push_back(fb::CreateSegment(short_digest->fbb, 0, 64, short_digest->fbb.CreateVector(d31)));
    short_digest->value_count = 0;
    int b = short_digest->plain("b");
    short_digest->graph({}, {b}, {b});
    expect_error(short_digest->read(), "SHA-256 must be 32 bytes");
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
