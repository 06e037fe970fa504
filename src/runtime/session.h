// Session: load a model once, run it many times. The same shape as the JS API:
// create(bytes) -> inputs()/outputs() -> run({name: tensor}) -> {name: tensor}.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/tensor.h"
#include "graph/graph.h"

namespace kiln {

struct TensorDesc {
  std::string name;
  DType dtype = DType::kUndefined;
  Shape shape;  // symbolic dims have size -1 and a name
};

struct SessionOptions {
  bool verify_hashes = true;
};

using TensorMap = std::map<std::string, Tensor>;

class Session {
 public:
  ~Session();
  // From .kiln bytes (verified before use) or an in-memory model.
  static Result<std::unique_ptr<Session>> create(std::shared_ptr<const std::vector<uint8_t>> bytes,
                                                 const SessionOptions& options = {});
  static Result<std::unique_ptr<Session>> create(Model model, const SessionOptions& options = {});

  const std::vector<TensorDesc>& inputs() const { return inputs_; }
  const std::vector<TensorDesc>& outputs() const { return outputs_; }
  const Model& model() const { return model_; }

  // Checks names, dtypes and shapes of the inputs against the model, then runs.
  Result<TensorMap> run(const TensorMap& inputs);

 private:
  Session() = default;
  struct Impl;
  Model model_;
  std::vector<TensorDesc> inputs_, outputs_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kiln
