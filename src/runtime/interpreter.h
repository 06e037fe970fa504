// TFLite-style facade over Session for users of that API:
// get_input_details / set_tensor / invoke / get_tensor, tensors addressed by index.
#pragma once
#include <memory>
#include <vector>

#include "runtime/session.h"

namespace kiln {

struct TensorDetails {
  std::string name;
  int index = 0;  // inputs: 0..n-1; outputs: 0..m-1 (separate index spaces, as in the JS API)
  DType dtype = DType::kUndefined;
  Shape shape;
};

class Interpreter {
 public:
  explicit Interpreter(std::unique_ptr<Session> session);
  std::vector<TensorDetails> get_input_details() const;
  std::vector<TensorDetails> get_output_details() const;
  Status set_tensor(int input_index, Tensor value);
  // Runs with the tensors set so far; every input must have been set.
  Status invoke();
  // Output of the last invoke().
  Result<Tensor> get_tensor(int output_index) const;
  Session& session() { return *session_; }

 private:
  std::unique_ptr<Session> session_;
  std::vector<Tensor> inputs_;
  std::vector<Tensor> outputs_;
};

}  // namespace kiln
