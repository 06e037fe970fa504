// kiln CLI entry point: parses the command line (CLI11) and dispatches to a subcommand.
// Every failure ends as one "kiln: error: ..." line and a non-zero exit code.
#include <exception>
#include <iostream>
#include <vector>

#include "cli_util.h"
#include "commands.h"

int main(int argc, char** argv) {
  using namespace kiln::cli;
  try {
    CLI::App app{"kiln: convert, inspect and run neural networks (ONNX or TFLite -> .kiln)", "kiln"};
    app.footer("Run 'kiln <command> --help' for the options of a command.");
    app.require_subcommand(0, 1);
    std::vector<Command> commands = {add_convert(app), add_inspect(app),  add_run(app), add_ops(app),
                                     add_compress(app), add_eval(app), add_ocr(app)};
    try {
      app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
      if (e.get_exit_code() == 0) return app.exit(e);  // --help
      std::string hint;
      for (const Command& c : commands)
        if (c.app->parsed()) hint = " (see 'kiln " + c.app->get_name() + " --help')";
      return fail(std::string(e.what()) + (hint.empty() ? " (see 'kiln --help')" : hint)) + 1;
    }
    for (const Command& c : commands)
      if (c.app->parsed()) return c.run();
    std::cout << app.help();
    return fail("no command given (one of: convert, inspect, run, ops, compress, eval)") + 1;
  } catch (const std::exception& e) {
    return fail(std::string("internal error: ") + e.what());
  } catch (...) {
    return fail("internal error");
  }
}
