// X-macro list of operators: KILN_OP(domain, "OpType", factory). One line per op type;
// each factory is defined in the op's own file in this folder. Keep sorted by op type.
KILN_OP("", "Relu", create_relu)
