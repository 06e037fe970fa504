#include "import/tflite_import.h"

#include <cstring>
#include <map>
#include <vector>

#include "format/model_io.h"
#include "import/tflite_builder.h"
#include "import/tflite_ops.h"
#include "import/tflite_tensor.h"

namespace kiln {
namespace {

// The builtin code of an OperatorCode: files before schema 3a only have the byte field,
// newer ones also the int32 one; TFLite itself reads the larger of the two.
tflite::BuiltinOperator builtin_code(const tflite::OperatorCode& oc) {
  const int32_t d = oc.deprecated_builtin_code();
  const int32_t b = static_cast<int32_t>(oc.builtin_code());
  return static_cast<tflite::BuiltinOperator>(std::max(d, b));
}

std::string code_name(const tflite::OperatorCode& oc) {
  const auto code = builtin_code(oc);
  if (code == tflite::BuiltinOperator::CUSTOM)
    return "custom op '" + (oc.custom_code() ? oc.custom_code()->str() : std::string()) + "'";
  const char* n = tflite::EnumNameBuiltinOperator(code);
  return std::string("builtin ") + ((n && *n) ? n : "code") + " (" + std::to_string(static_cast<int>(code)) + ")";
}

Status unsupported_ops(const tflite::Model& fb, const tflite::SubGraph& sg) {
  std::vector<std::string> order;
  std::map<std::string, int> first;
  const auto* codes = fb.operator_codes();
  const auto* ops = sg.operators();
  for (uint32_t i = 0; ops && i < ops->size(); ++i) {
    const tflite::Operator* op = ops->Get(i);
    if (!op) return invalid_model("operator " + std::to_string(i) + " is missing");
    if (!codes || op->opcode_index() >= codes->size() || !codes->Get(op->opcode_index()))
      return invalid_model("operator " + std::to_string(i) + ": opcode_index " + std::to_string(op->opcode_index()) +
                           " is out of range (the model has " + std::to_string(codes ? codes->size() : 0) +
                           " operator codes)");
    const tflite::OperatorCode& oc = *codes->Get(op->opcode_index());
    if (tflite_op_supported(builtin_code(oc))) continue;
    const std::string name = code_name(oc);
    if (!first.count(name)) {
      order.push_back(name);
      first[name] = static_cast<int>(i);
    }
  }
  if (order.empty()) return Status::Ok();
  std::string m = "the model uses " + std::to_string(order.size()) + " operator" + (order.size() == 1 ? "" : "s") +
                  " kiln does not support: ";
  for (size_t i = 0; i < order.size(); ++i)
    m += (i ? ", " : "") + order[i] + " (first at operator " + std::to_string(first[order[i]]) + ")";
  return unsupported(m + (m.find("custom op") != std::string::npos ? "; custom ops cannot be imported" : ""));
}

Result<Model> convert(const tflite::Model& fb) {
  if (fb.version() != 3)
    return unsupported("TFLite schema version " + std::to_string(fb.version()) + " is not supported (kiln reads version 3)");
  if (!fb.subgraphs() || fb.subgraphs()->size() == 0 || !fb.subgraphs()->Get(0))
    return invalid_model("the model has no subgraphs");
  const tflite::SubGraph& sg = *fb.subgraphs()->Get(0);
  KILN_RETURN_IF_ERROR(unsupported_ops(fb, sg));

  Model m;
  m.opset = 13;  // the ONNX semantics the emitted nodes are written against
  m.producer = "tflite";
  if (fb.description() && fb.description()->size()) m.producer += " (" + fb.description()->str() + ")";
  m.graph.name = sg.name() && sg.name()->size() ? sg.name()->str() : "main";
  TfliteBuilder b(m, fb, sg);

  if (sg.inputs())
    for (int32_t i : *sg.inputs()) {
      KILN_RETURN_IF_ERROR(b.tensor(i).status().with_context("subgraph inputs"));
      KILN_RETURN_IF_ERROR(b.add_input(i));
    }
  const auto* ops = sg.operators();
  for (uint32_t i = 0; ops && i < ops->size(); ++i) {
    const tflite::Operator& op = *ops->Get(i);
    const tflite::OperatorCode& oc = *fb.operator_codes()->Get(op.opcode_index());
    const auto code = builtin_code(oc);
    b.begin_operator(static_cast<int>(i), tflite::EnumNameBuiltinOperator(code));
    KILN_RETURN_IF_ERROR(convert_tflite_op(b, code, op));
  }
  b.begin_operator(-1, "graph outputs");
  if (!sg.outputs() || sg.outputs()->size() == 0) return invalid_model("the subgraph has no outputs");
  for (int32_t o : *sg.outputs()) {
    KILN_ASSIGN_OR_RETURN(int v, b.get(o));
    KILN_ASSIGN_OR_RETURN(const tflite::Tensor* t, b.tensor(o));
    KILN_ASSIGN_OR_RETURN(DType dt, dtype_from_tflite(t->type(), "graph output '" + b.tensor_name(o) + "'"));
    if (m.values[v].dtype == DType::kUndefined) m.values[v].dtype = dt;
    m.graph.outputs.push_back(v);
  }
  KILN_RETURN_IF_ERROR(validate_and_sort(m));
  return m;
}

}  // namespace

bool is_tflite(const uint8_t* data, size_t size) {
  return size >= 8 && std::memcmp(data + 4, "TFL3", 4) == 0;
}

Result<Model> import_tflite_bytes(const uint8_t* data, size_t size, const std::string& name) {
  if (!is_tflite(data, size))
    return invalid_model(name + ": not a TFLite model (no \"TFL3\" identifier at offset 4)");
  // FlatBuffers offsets are 32-bit: anything at or over 2 GiB cannot be a valid buffer.
  if (size >= (size_t{1} << 31)) return unsupported(name + ": TFLite files of 2 GiB or more are not supported");
  flatbuffers::Verifier verifier(data, size, /*max_depth=*/64, /*max_tables=*/10'000'000);
  if (!tflite::VerifyModelBuffer(verifier))
    return invalid_model(name + ": the TFLite FlatBuffer failed verification (truncated or corrupted file)");
  auto r = convert(*tflite::GetModel(data));
  if (!r.ok()) return r.status().with_context(name);
  r->source_sha256 = sha256_hex(data, size);
  return r;
}

Result<Model> import_tflite(const std::string& path) {
  KILN_ASSIGN_OR_RETURN(auto bytes, read_file_bytes(path));
  return import_tflite_bytes(bytes->data(), bytes->size(), path);
}

}  // namespace kiln
