#include "lists.h"

#include <fstream>

namespace kiln::conformance {
namespace {

std::string trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}

}  // namespace

std::string OutOfScope::category_for(const std::string& test, const std::set<std::string>& ops_used,
                                     const std::set<std::string>& kinds_used) const {
  if (auto it = tests.find(test); it != tests.end()) return it->second;
  for (const auto& [prefix, category] : test_prefixes)
    if (test.rfind(prefix, 0) == 0) return category;
  for (const std::string& k : kinds_used)
    if (auto it = kinds.find(k); it != kinds.end()) return it->second;
  for (const std::string& op : ops_used)
    if (auto it = ops.find(op); it != ops.end()) return it->second;
  return "";
}

Result<OutOfScope> read_out_of_scope(const std::string& path) {
  std::ifstream f(path);
  if (!f) return io_error("cannot read " + path);
  OutOfScope r;
  std::string line, category;
  for (int n = 1; std::getline(f, line); ++n) {
    line = trim(line);
    if (line.empty() || line[0] == '#') continue;
    const std::string where = path + ":" + std::to_string(n);
    if (line.rfind("==", 0) == 0) {
      const size_t colon = line.find(':');
      if (colon == std::string::npos) return invalid_argument(where + ": expected '== category: reason'");
      category = trim(line.substr(2, colon - 2));
      r.reasons[category] = trim(line.substr(colon + 1));
      continue;
    }
    if (category.empty()) return invalid_argument(where + ": entry before the first '== category: reason'");
    const size_t colon = line.find(':');
    const std::string kind = colon == std::string::npos ? "" : line.substr(0, colon);
    const std::string value = colon == std::string::npos ? "" : trim(line.substr(colon + 1));
    if (value.empty()) return invalid_argument(where + ": expected op:, type: or test: followed by a name");
    if (kind == "op") r.ops[value] = category;
    else if (kind == "type") r.kinds[value] = category;
    else if (kind == "test" && value.back() == '*') r.test_prefixes[value.substr(0, value.size() - 1)] = category;
    else if (kind == "test") r.tests[value] = category;
    else return invalid_argument(where + ": unknown entry kind '" + kind + "'");
  }
  return r;
}

Result<std::map<std::string, KnownFailure>> read_known_failures(const std::string& path) {
  std::ifstream f(path);
  if (!f) return io_error("cannot read " + path);
  std::map<std::string, KnownFailure> r;
  std::string line;
  for (int n = 1; std::getline(f, line); ++n) {
    line = trim(line);
    if (line.empty() || line[0] == '#') continue;
    const size_t colon = line.find(':');
    KnownFailure k;
    if (colon != std::string::npos) k.reason = trim(line.substr(colon + 1));
    if (k.reason.empty()) return invalid_argument(path + ":" + std::to_string(n) + ": expected 'test_name: reason'");
    std::string name = trim(line.substr(0, colon));
    if (const size_t sp = name.find(' '); sp != std::string::npos) {
      const std::string tag = trim(name.substr(sp));
      name = name.substr(0, sp);
      if (tag == "[wasm]") k.native = false;
      else if (tag == "[native]") k.wasm = false;
      else return invalid_argument(path + ":" + std::to_string(n) + ": unknown tag " + tag);
    }
    r[name] = k;
  }
  return r;
}

}  // namespace kiln::conformance
