#include "ops/registry.h"

#include <algorithm>
#include <cstring>

namespace kiln {

#define KILN_OP(domain, type, factory) Result<std::unique_ptr<Op>> factory(const OpContext& ctx);
#include "ops/op_list.h"
#undef KILN_OP

namespace {
struct Entry {
  const char* domain;
  const char* type;
  OpFactory factory;
};
constexpr Entry kOps[] = {
#define KILN_OP(domain, type, factory) {domain, type, &factory},
#include "ops/op_list.h"
#undef KILN_OP
};
constexpr const char* kControlFlow[] = {"If", "Loop", "Scan"};

bool same_domain(const std::string& d, const char* e) {
  // ONNX writes the default domain as "" or "ai.onnx".
  std::string a = d == "ai.onnx" ? "" : d;
  return a == e;
}
}  // namespace

bool is_control_flow(const std::string& op_type) {
  for (const char* c : kControlFlow)
    if (op_type == c) return true;
  return false;
}

bool op_supported(const std::string& domain, const std::string& op_type) {
  if (is_control_flow(op_type) && same_domain(domain, "")) return true;
  for (const Entry& e : kOps)
    if (op_type == e.type && same_domain(domain, e.domain)) return true;
  return false;
}

std::vector<std::string> supported_op_types() {
  std::vector<std::string> r;
  for (const Entry& e : kOps) r.push_back(std::string(e.domain).empty() ? e.type : std::string(e.domain) + "." + e.type);
  for (const char* c : kControlFlow) r.push_back(c);
  std::sort(r.begin(), r.end());
  return r;
}

Result<std::unique_ptr<Op>> create_op(const OpContext& ctx) {
  for (const Entry& e : kOps)
    if (ctx.node.op_type == e.type && same_domain(ctx.node.domain, e.domain)) {
      auto r = e.factory(ctx);
      if (!r.ok()) {
        const std::string& m = r.status().message();
        // Factories may already name the node; add it when they did not.
        if (m.rfind("node '", 0) == 0) return r.status();
        return r.status().with_context(ctx.node.describe());
      }
      return r;
    }
  return unsupported(ctx.node.describe() + ": operator is not supported by kiln");
}

}  // namespace kiln
