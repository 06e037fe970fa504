// The table of operators kiln executes, by (domain, op_type). Control flow (If) is run
// by the executor itself and is listed here so import can tell what is supported.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "ops/op.h"

namespace kiln {

bool op_supported(const std::string& domain, const std::string& op_type);
bool is_control_flow(const std::string& op_type);
std::vector<std::string> supported_op_types();  // sorted, for --help and docs
// Creates the op for ctx.node; errors name the node.
Result<std::unique_ptr<Op>> create_op(const OpContext& ctx);

}  // namespace kiln
