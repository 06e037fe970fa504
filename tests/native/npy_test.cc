// The CLI's .npy reader/writer: NumPy's own header layout, every dtype round trip, and
// clear errors for Fortran order, big-endian data and malformed or truncated files.
#include <gtest/gtest.h>

#include <cstring>

#include "core/half.h"
#include "compress/npy.h"

namespace kiln {
namespace {

// Bytes as NumPy 1.24 writes np.save(f, np.array([[1,2,3],[4,5,6]], np.float32)).
std::vector<uint8_t> numpy_file() {
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
  header.append(118 - header.size() - 1, ' ');
  header += '\n';
  std::vector<uint8_t> b = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, static_cast<uint8_t>(header.size()), 0};
  b.insert(b.end(), header.begin(), header.end());
  const float v[6] = {1, 2, 3, 4, 5, 6};
  const uint8_t* p = reinterpret_cast<const uint8_t*>(v);
  b.insert(b.end(), p, p + sizeof v);
  return b;
}

std::vector<uint8_t> with_header(const std::string& dict, size_t data_bytes, uint8_t version = 1) {
  std::vector<uint8_t> b = {0x93, 'N', 'U', 'M', 'P', 'Y', version, 0};
  std::string h = dict + "\n";
  uint32_t n = static_cast<uint32_t>(h.size());
  for (int i = 0; i < (version == 1 ? 2 : 4); ++i) b.push_back(static_cast<uint8_t>(n >> (8 * i)));
  b.insert(b.end(), h.begin(), h.end());
  b.resize(b.size() + data_bytes, 1);
  return b;
}

TEST(Npy, ReadsNumpyLayout) {
  auto bytes = numpy_file();
  ASSERT_EQ(bytes.size(), 128u + 24u);
  auto t = npy::parse(bytes.data(), bytes.size(), "a.npy");
  ASSERT_TRUE(t.ok()) << t.status().to_string();
  EXPECT_EQ(t->dtype(), DType::kF32);
  EXPECT_EQ(dims_to_string(t->dims()), "[2,3]");
  EXPECT_EQ(t->data<float>()[5], 6.f);
}

TEST(Npy, HeaderVariants) {
  // Version 2 (4-byte length), double quotes, other key order, scalar and 1-D shapes.
  auto b = with_header("{\"shape\": (), \"fortran_order\": False, \"descr\": \"<i8\"}", 8, 2);
  auto t = npy::parse(b.data(), b.size(), "v2.npy");
  ASSERT_TRUE(t.ok()) << t.status().to_string();
  EXPECT_EQ(t->dtype(), DType::kI64);
  EXPECT_EQ(t->rank(), 0);
  b = with_header("{'descr': '|b1', 'fortran_order': False, 'shape': (5,), }", 5);
  t = npy::parse(b.data(), b.size(), "b.npy");
  ASSERT_TRUE(t.ok()) << t.status().to_string();
  EXPECT_EQ(t->dtype(), DType::kBool);
  EXPECT_EQ(t->data<uint8_t>()[4], 1);
  b = with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (0, 4), }", 0);
  t = npy::parse(b.data(), b.size(), "empty.npy");
  ASSERT_TRUE(t.ok()) << t.status().to_string();
  EXPECT_EQ(t->size(), 0);
}

TEST(Npy, RoundTripEveryDtype) {
  const DType types[] = {DType::kF32, DType::kF64, DType::kF16, DType::kI64, DType::kI32,
                         DType::kI8,  DType::kU8,  DType::kBool, DType::kI16, DType::kU16};
  for (DType dt : types) {
    Tensor t = Tensor::make(dt, {2, 1, 3}).value();
    uint8_t* p = static_cast<uint8_t*>(t.mutable_raw());
    for (size_t i = 0; i < t.bytes(); ++i) p[i] = static_cast<uint8_t>(dt == DType::kBool ? i % 2 : i * 37 + 1);
    auto bytes = npy::serialize(t);
    ASSERT_TRUE(bytes.ok()) << dtype_name(dt);
    EXPECT_EQ((bytes->size() - t.bytes()) % 64, 0u) << "data should start 64-byte aligned";
    auto back = npy::parse(bytes->data(), bytes->size(), "rt.npy");
    ASSERT_TRUE(back.ok()) << dtype_name(dt) << ": " << back.status().to_string();
    EXPECT_EQ(back->dtype(), dt);
    EXPECT_EQ(dims_to_string(back->dims()), "[2,1,3]");
    EXPECT_EQ(std::memcmp(back->raw(), t.raw(), t.bytes()), 0) << dtype_name(dt);
  }
  // The writer's header is what NumPy writes for the same array (up to padding).
  Tensor t = Tensor::from_f32({1, 2, 3, 4, 5, 6}, {2, 3});
  auto bytes = npy::serialize(t);
  std::string text(bytes->begin(), bytes->end());
  EXPECT_NE(text.find("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"), std::string::npos);
  auto header_of = [](const Tensor& x) {
    std::vector<uint8_t> b = npy::serialize(x).value();
    return std::string(b.begin(), b.end());
  };
  EXPECT_NE(header_of(Tensor::from_i64({7}, {1})).find("'descr': '<i8', 'fortran_order': False, 'shape': (1,), }"),
            std::string::npos);
  EXPECT_NE(header_of(Tensor::scalar_f32(1)).find("'shape': (), }"), std::string::npos);
}

TEST(Npy, ClearErrors) {
  auto expect_error = [](const std::vector<uint8_t>& b, const std::string& needle) {
    auto t = npy::parse(b.data(), b.size(), "bad.npy");
    ASSERT_FALSE(t.ok()) << needle;
    EXPECT_NE(t.status().message().find(needle), std::string::npos) << t.status().message();
    EXPECT_NE(t.status().message().find("bad.npy"), std::string::npos) << t.status().message();
  };
  expect_error(with_header("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", 24), "Fortran");
  expect_error(with_header("{'descr': '>f4', 'fortran_order': False, 'shape': (2, 3), }", 24), "big-endian");
  expect_error(with_header("{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }", 16), "unsupported dtype");
  expect_error(with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 20), "needs 24");
  expect_error(with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (2, -3), }", 24), "malformed");
  expect_error(with_header("{'descr': '<f4', 'fortran_order': False}", 4), "malformed");
  expect_error(with_header("{'descr': '<f4' 'fortran_order': False, 'shape': (), }", 4), "malformed");
  expect_error(with_header("{'descr': '<f4', 'fortran_order': Maybe, 'shape': (), }", 4), "malformed");
  expect_error(with_header("['descr']", 4), "malformed");
  expect_error(with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999, 99999999999), }", 4),
               "bad.npy");
  std::vector<uint8_t> b = numpy_file();
  b[1] = 'X';
  expect_error(b, "bad magic");
  b = numpy_file();
  b.resize(40);
  expect_error(b, "truncated");
  b = numpy_file();
  b[6] = 9;
  expect_error(b, "version 9");
  auto missing = npy::read_file("/nonexistent/x.npy");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), Code::kIO);
}

}  // namespace
}  // namespace kiln
