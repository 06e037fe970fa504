#include "cli_util.h"

#include <cinttypes>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "format/model_io.h"

namespace kiln::cli {

int fail(const Status& s) { return fail(s.to_string()); }

int fail(const std::string& message) {
  std::string one_line = message;
  for (char& c : one_line)
    if (c == '\n' || c == '\r') c = ' ';
  std::cerr << "kiln: error: " << one_line << std::endl;
  return 1;
}

Result<std::shared_ptr<const std::vector<uint8_t>>> read_model_file(const std::string& path) {
  std::error_code ec;
  auto st = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(st)) return io_error("cannot open '" + path + "': no such file");
  if (!std::filesystem::is_regular_file(st)) return io_error("'" + path + "' is not a regular file");
  return read_file_bytes(path);
}

std::string human_bytes(uint64_t bytes) {
  const char* units[] = {"B", "KB", "MB", "GB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1000 && u < 3) v /= 1000, ++u;
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
  return buf;
}

std::string human_count(int64_t n) {
  char buf[32];
  if (n >= 1000000) std::snprintf(buf, sizeof buf, "%.2fM", n / 1e6);
  else if (n >= 1000) std::snprintf(buf, sizeof buf, "%.1fK", n / 1e3);
  else std::snprintf(buf, sizeof buf, "%" PRId64, n);
  return buf;
}

namespace {
int count_graph(const Graph& g) {
  int n = static_cast<int>(g.nodes.size());
  for (const Node& node : g.nodes)
    for (const auto& [name, a] : node.attrs)
      if (a.kind == Attribute::Kind::kGraph && a.g) n += count_graph(*a.g);
  return n;
}
}  // namespace

int count_nodes(const Model& m) { return count_graph(m.graph); }

int64_t count_parameters(const Model& m) {
  int64_t n = 0;
  for (const Value& v : m.values)
    if (v.data) n += v.data->size();
  return n;
}

std::map<std::string, uint64_t> constant_bytes_by_dtype(const Model& m) {
  std::map<std::string, uint64_t> r;
  for (const Value& v : m.values)
    if (v.data) r[dtype_name(v.data->dtype())] += v.data->bytes();
  return r;
}

std::string sanitize_filename(const std::string& name) {
  std::string r;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
              c == '.';
    r += ok ? c : '_';
  }
  if (r.empty() || r == "." || r == "..") r = "output" + r;
  return r;
}

std::string preview_values(const Tensor& t, int64_t n) {
  std::string s = "[";
  const bool is_float = t.dtype() == DType::kF32 || t.dtype() == DType::kF64 || t.dtype() == DType::kF16;
  const int64_t count = std::min(n, t.size());
  for (int64_t i = 0; i < count; ++i) {
    char buf[40];
    if (is_float) std::snprintf(buf, sizeof buf, "%.6g", t.get_f64(i));
    else if (t.dtype() == DType::kU64) std::snprintf(buf, sizeof buf, "%" PRIu64, t.data<uint64_t>()[i]);
    else std::snprintf(buf, sizeof buf, "%" PRId64, t.get_i64(i));
    s += (i ? ", " : "") + std::string(buf);
  }
  if (t.size() > count) s += count ? ", ..." : "...";
  return s + "]";
}

}  // namespace kiln::cli
