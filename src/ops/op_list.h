// X-macro list of operators: KILN_OP(domain, "OpType", factory). One line per op type;
// each factory is defined in the op's own file in this folder. The lists are split by
// family so they can grow independently; keep each sorted by op type.
#include "ops/op_list_nn.h"
#include "ops/op_list_tensor.h"
