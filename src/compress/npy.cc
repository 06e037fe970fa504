#include "compress/npy.h"

#include <cstring>
#include <fstream>
#include <iterator>

namespace kiln::npy {
namespace {

constexpr char kMagic[] = "\x93NUMPY";

// dtype <-> numpy type code (without the byte-order character).
struct TypeCode {
  DType dtype;
  const char* code;
};
constexpr TypeCode kTypes[] = {
    {DType::kF32, "f4"}, {DType::kF64, "f8"}, {DType::kF16, "f2"}, {DType::kI64, "i8"},
    {DType::kI32, "i4"}, {DType::kI16, "i2"}, {DType::kI8, "i1"},  {DType::kU8, "u1"},
    {DType::kU16, "u2"}, {DType::kU32, "u4"}, {DType::kU64, "u8"}, {DType::kBool, "b1"},
};

// A tiny parser for the Python dict literal in the header, e.g.
// {'descr': '<f4', 'fortran_order': False, 'shape': (1, 3), }
class HeaderParser {
 public:
  HeaderParser(const std::string& s, const std::string& what) : s_(s), what_(what) {}

  Status parse(std::string* descr, bool* fortran, Dims* shape) {
    bool have_descr = false, have_order = false, have_shape = false;
    skip();
    if (!eat('{')) return error("expected '{'");
    for (;;) {
      skip();
      if (eat('}')) break;
      std::string key;
      KILN_RETURN_IF_ERROR(string(&key));
      skip();
      if (!eat(':')) return error("expected ':' after '" + key + "'");
      skip();
      if (key == "descr") {
        KILN_RETURN_IF_ERROR(string(descr));
        have_descr = true;
      } else if (key == "fortran_order") {
        if (s_.compare(pos_, 4, "True") == 0) *fortran = true, pos_ += 4;
        else if (s_.compare(pos_, 5, "False") == 0) *fortran = false, pos_ += 5;
        else return error("fortran_order must be True or False");
        have_order = true;
      } else if (key == "shape") {
        KILN_RETURN_IF_ERROR(tuple(shape));
        have_shape = true;
      } else {
        return error("unexpected key '" + key + "'");
      }
      skip();
      if (eat(',')) continue;
      skip();
      if (eat('}')) break;
      return error("expected ',' or '}'");
    }
    if (!have_descr || !have_order || !have_shape) return error("needs 'descr', 'fortran_order' and 'shape'");
    return Status::Ok();
  }

 private:
  Status error(const std::string& m) const {
    return invalid_argument(what_ + ": malformed .npy header (" + m + " at offset " + std::to_string(pos_) + ")");
  }
  void skip() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n')) ++pos_;
  }
  bool eat(char c) {
    if (pos_ < s_.size() && s_[pos_] == c) return ++pos_, true;
    return false;
  }
  Status string(std::string* out) {
    if (pos_ >= s_.size() || (s_[pos_] != '\'' && s_[pos_] != '"')) return error("expected a quoted string");
    char q = s_[pos_++];
    size_t end = s_.find(q, pos_);
    if (end == std::string::npos) return error("unterminated string");
    *out = s_.substr(pos_, end - pos_);
    pos_ = end + 1;
    return Status::Ok();
  }
  Status tuple(Dims* out) {
    if (!eat('(')) return error("shape must be a tuple");
    for (;;) {
      skip();
      if (eat(')')) return Status::Ok();
      size_t start = pos_;
      int64_t v = 0;
      while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') {
        if (v > (INT64_MAX - 9) / 10) return error("dimension too large");
        v = v * 10 + (s_[pos_++] - '0');
      }
      if (pos_ == start) return error("expected a non-negative integer dimension");
      out->push_back(v);
      skip();
      if (eat(')')) return Status::Ok();
      if (!eat(',')) return error("expected ',' or ')' in shape");
    }
  }

  const std::string& s_;
  const std::string& what_;
  size_t pos_ = 0;
};

uint32_t read_le(const uint8_t* p, int n) {
  uint32_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

}  // namespace

Result<Tensor> parse(const uint8_t* data, size_t size, const std::string& what) {
  if (size < 10 || std::memcmp(data, kMagic, 6) != 0) return invalid_argument(what + ": not a .npy file (bad magic)");
  uint8_t major = data[6];
  if (major < 1 || major > 3) return invalid_argument(what + ": unsupported .npy format version " + std::to_string(major));
  size_t len_bytes = major == 1 ? 2 : 4;
  size_t start = 8 + len_bytes;
  if (size < start) return invalid_argument(what + ": truncated .npy header");
  uint64_t header_len = read_le(data + 8, static_cast<int>(len_bytes));
  if (header_len > size - start) return invalid_argument(what + ": truncated .npy header");
  std::string header(reinterpret_cast<const char*>(data + start), static_cast<size_t>(header_len));

  std::string descr;
  bool fortran = false;
  Dims dims;
  KILN_RETURN_IF_ERROR(HeaderParser(header, what).parse(&descr, &fortran, &dims));
  if (fortran) return unsupported(what + ": Fortran-order arrays are not supported (save with np.ascontiguousarray)");
  if (descr.size() != 3) return unsupported(what + ": unsupported dtype '" + descr + "'");
  char order = descr[0];
  DType dtype = DType::kUndefined;
  for (const TypeCode& t : kTypes)
    if (descr.compare(1, 2, t.code) == 0) dtype = t.dtype;
  if (dtype == DType::kUndefined) return unsupported(what + ": unsupported dtype '" + descr + "'");
  if (order == '>' && dtype_size(dtype) > 1) return unsupported(what + ": big-endian data is not supported");
  if (order != '<' && order != '|' && order != '=' && order != '>')
    return invalid_argument(what + ": bad byte order in dtype '" + descr + "'");

  auto made = Tensor::make(dtype, dims);
  if (!made.ok()) return made.status().with_context(what);
  Tensor t = std::move(made).value();
  size_t body = size - start - static_cast<size_t>(header_len);
  if (body != t.bytes())
    return invalid_argument(what + ": holds " + std::to_string(body) + " bytes of data, but shape " +
                            dims_to_string(dims) + " of " + dtype_name(dtype) + " needs " + std::to_string(t.bytes()));
  if (body) std::memcpy(t.mutable_raw(), data + start + header_len, body);
  if (dtype == DType::kBool) {
    uint8_t* b = t.mutable_data<uint8_t>();
    for (int64_t i = 0; i < t.size(); ++i) b[i] = b[i] ? 1 : 0;
  }
  return t;
}

Result<Tensor> read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return io_error("cannot open '" + path + "'");
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  if (f.bad()) return io_error("cannot read '" + path + "'");
  return parse(bytes.data(), bytes.size(), path);
}

Result<std::vector<uint8_t>> serialize(const Tensor& t) {
  const char* code = nullptr;
  for (const TypeCode& tc : kTypes)
    if (tc.dtype == t.dtype()) code = tc.code;
  if (!code) return unsupported(std::string("cannot write ") + dtype_name(t.dtype()) + " tensors to .npy");
  std::string shape = "(";  // Python tuple syntax: "()", "(3,)", "(1, 3)"
  for (int64_t i = 0; i < t.rank(); ++i) shape += (i ? ", " : "") + std::to_string(t.dim(i));
  shape += t.rank() == 1 ? ",)" : ")";
  std::string header = std::string("{'descr': '") + (dtype_size(t.dtype()) == 1 ? '|' : '<') + code +
                       "', 'fortran_order': False, 'shape': " + shape + ", }";
  // Pad so the data starts on a 64-byte boundary, as NumPy does.
  bool v2 = header.size() + 1 + 10 > 65535;
  size_t prefix = v2 ? 12 : 10;
  size_t total = (prefix + header.size() + 1 + 63) / 64 * 64;
  header.append(total - prefix - header.size() - 1, ' ');
  header += '\n';
  std::vector<uint8_t> out(kMagic, kMagic + 6);
  out.push_back(v2 ? 2 : 1);
  out.push_back(0);
  uint32_t len = static_cast<uint32_t>(header.size());
  for (size_t i = 0; i < (v2 ? 4u : 2u); ++i) out.push_back(static_cast<uint8_t>(len >> (8 * i)));
  out.insert(out.end(), header.begin(), header.end());
  const uint8_t* p = static_cast<const uint8_t*>(t.raw());
  if (t.bytes()) out.insert(out.end(), p, p + t.bytes());
  return out;
}

Status write_file(const std::string& path, const Tensor& t) {
  KILN_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, serialize(t));
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  if (!f) return io_error("cannot create '" + path + "'");
  f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!f) return io_error("cannot write '" + path + "'");
  return Status::Ok();
}

}  // namespace kiln::npy
