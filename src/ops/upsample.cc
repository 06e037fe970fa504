// Upsample (opsets 7..9, deprecated in 10): Resize-10 semantics — asymmetric coordinates,
// legacy nearest rounding, linear interpolation. Scales come from the attribute (7..8)
// or the second input (9).
#include "ops/nn_util.h"
#include "ops/op.h"
#include "ops/resize_plan.h"

namespace kiln {

using namespace nn;  // NOLINT: this file's helpers (ops/nn_util.h)

Result<std::unique_ptr<Op>> create_upsample(const OpContext& ctx) {
  const bool scales_attr = ctx.opset < 9;
  KILN_RETURN_IF_ERROR(check_input_count(ctx, scales_attr ? 1 : 2, scales_attr ? 1 : 2));
  ResizeConfig c;
  c.who = prefix(ctx.node);
  KILN_ASSIGN_OR_RETURN(std::string mode, ctx.node.attr_string("mode", std::string("nearest")));
  if (mode == "nearest") c.mode = ResizeMode::kNearest;
  else if (mode == "linear" || mode == "bilinear") c.mode = ResizeMode::kLinear;
  else return invalid_model(c.who + "mode '" + mode + "' is not supported (nearest, linear)");
  c.coord = CoordMode::kAsymmetric;
  c.nearest = NearestMode::kLegacy;
  if (scales_attr) {
    KILN_ASSIGN_OR_RETURN(c.attr_scales, ctx.node.attr_floats("scales"));
    if (c.attr_scales.empty()) return invalid_model(c.who + "attribute 'scales' is empty");
  } else {
    c.scales_input = 1;
  }
  return make_resize_op(std::move(c));
}

}  // namespace kiln
