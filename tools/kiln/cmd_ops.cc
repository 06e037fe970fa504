// kiln ops: the operator types kiln can run (what `kiln convert` accepts).
#include <iostream>

#include "commands.h"
#include "ops/registry.h"

namespace kiln::cli {

Command add_ops(CLI::App& root) {
  CLI::App* app = root.add_subcommand("ops", "List the ONNX operator types kiln supports");
  return {app, [] {
            for (const std::string& op : supported_op_types()) std::cout << op << "\n";
            return 0;
          }};
}

}  // namespace kiln::cli
