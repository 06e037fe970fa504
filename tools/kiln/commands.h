// The kiln CLI's subcommands. Each add_* registers its options on the root app and
// returns the function that runs it once the command line has been parsed.
#pragma once
#include <functional>

#include <CLI/CLI.hpp>

namespace kiln::cli {

struct Command {
  CLI::App* app = nullptr;
  std::function<int()> run;  // exit code
};

Command add_convert(CLI::App& root);
Command add_inspect(CLI::App& root);
Command add_run(CLI::App& root);
Command add_ops(CLI::App& root);
Command add_compress(CLI::App& root);
Command add_ocr(CLI::App& root);
Command add_eval(CLI::App& root);

}  // namespace kiln::cli
