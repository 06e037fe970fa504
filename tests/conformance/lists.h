// The two lists the conformance runners share (native here, WASM in run-wasm.mjs):
// out_of_scope.txt (tests reported as SKIP, by op, value kind or test name, each category
// with its reason) and known_failures.txt (tests expected to fail, each with its reason).
#pragma once
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/status.h"

namespace kiln::conformance {

struct OutOfScope {
  // Category name -> reason ("training" -> "optimizer update rules ...").
  std::map<std::string, std::string> reasons;
  std::map<std::string, std::string> ops, kinds, tests, test_prefixes;  // entry -> category

  // The category that makes a test out of scope, or "" when it is in scope.
  std::string category_for(const std::string& test, const std::set<std::string>& ops_used,
                           const std::set<std::string>& kinds_used) const;
};

struct KnownFailure {
  std::string reason;
  bool native = true, wasm = true;  // "name [wasm]: reason" applies to WASM only
};

Result<OutOfScope> read_out_of_scope(const std::string& path);
Result<std::map<std::string, KnownFailure>> read_known_failures(const std::string& path);

}  // namespace kiln::conformance
