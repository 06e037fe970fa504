#include "runtime/interpreter.h"

namespace kiln {

Interpreter::Interpreter(std::unique_ptr<Session> session)
    : session_(std::move(session)), inputs_(session_->inputs().size()) {}

namespace {
std::vector<TensorDetails> details(const std::vector<TensorDesc>& descs) {
  std::vector<TensorDetails> r;
  for (size_t i = 0; i < descs.size(); ++i)
    r.push_back({descs[i].name, static_cast<int>(i), descs[i].dtype, descs[i].shape});
  return r;
}
}  // namespace

std::vector<TensorDetails> Interpreter::get_input_details() const { return details(session_->inputs()); }
std::vector<TensorDetails> Interpreter::get_output_details() const { return details(session_->outputs()); }

Status Interpreter::set_tensor(int input_index, Tensor value) {
  if (input_index < 0 || static_cast<size_t>(input_index) >= inputs_.size())
    return out_of_range("input index " + std::to_string(input_index) + " is out of range (the model has " +
                        std::to_string(inputs_.size()) + " inputs)");
  inputs_[static_cast<size_t>(input_index)] = std::move(value);
  return Status::Ok();
}

Status Interpreter::invoke() {
  TensorMap in;
  const auto& descs = session_->inputs();
  for (size_t i = 0; i < descs.size(); ++i) {
    if (!inputs_[i].defined())
      return invalid_argument("input " + std::to_string(i) + " ('" + descs[i].name + "') was not set");
    in[descs[i].name] = inputs_[i];
  }
  KILN_ASSIGN_OR_RETURN(TensorMap out, session_->run(in));
  outputs_.clear();
  for (const auto& d : session_->outputs()) outputs_.push_back(out[d.name]);
  return Status::Ok();
}

Result<Tensor> Interpreter::get_tensor(int output_index) const {
  if (outputs_.empty()) return invalid_argument("get_tensor called before invoke");
  if (output_index < 0 || static_cast<size_t>(output_index) >= outputs_.size())
    return out_of_range("output index " + std::to_string(output_index) + " is out of range (the model has " +
                        std::to_string(outputs_.size()) + " outputs)");
  return outputs_[static_cast<size_t>(output_index)];
}

}  // namespace kiln
