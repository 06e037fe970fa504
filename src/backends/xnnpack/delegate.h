// The native XNNPACK backend: maps the nodes Debian's libXNNPACK (the 2022 operator API:
// xnn_create_* / xnn_setup_* / xnn_run_operator) covers onto it. Every XNNPACK op keeps the
// kiln op of its node: infer is always kiln's (same shapes, same error messages), and run
// falls back to it for inputs XNNPACK cannot take (a dtype, a geometry), so every model runs.
#pragma once
#include <memory>

#include "core/status.h"
#include "ops/op.h"

namespace kiln::xnnpack {

// xnn_initialize once per process; later calls return the first result.
Status initialize();

struct Delegation {
  std::unique_ptr<Op> op;
  bool delegated = false;  // false: op is the kiln op passed in, unchanged
};

// Wraps `kiln_op` (created by the registry for ctx.node) into an XNNPACK op when the node's
// type, attributes and constant inputs are ones XNNPACK covers; otherwise hands it back.
Delegation delegate(const OpContext& ctx, std::unique_ptr<Op> kiln_op);

}  // namespace kiln::xnnpack
