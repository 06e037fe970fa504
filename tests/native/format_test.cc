// .kiln format: SHA-256 vectors, exact round trip, determinism, segments and
// alignment. Hostile input is in format_reader_test.cc.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>

#include "format/sha256.h"
#include "format_test_model.h"

namespace kiln {
namespace {

using namespace format_test;  // NOLINT: test helpers

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

}  // namespace
}  // namespace kiln

namespace kiln {
namespace {
TEST(FormatFileIo, DirectoriesAndMissingFilesAreErrors) {
  auto dir = read_file_bytes(KILN_SOURCE_DIR);
  ASSERT_FALSE(dir.ok());
  EXPECT_NE(dir.status().message().find("not a regular file"), std::string::npos) << dir.status().message();
  auto missing = read_file_bytes(std::string(KILN_SOURCE_DIR) + "/no/such/model.kiln");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), Code::kIO);
}
}  // namespace
}  // namespace kiln
