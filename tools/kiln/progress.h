// Progress of long CLI work on stderr: a bar with counts and ETA when stderr is a
// terminal, plain lines (stage start, every 25%, done) when it is a file or pipe.
#pragma once
#include <string>

namespace kiln::cli {

class ProgressBar {
 public:
  ProgressBar();
  // One update: `done` of `total` items of `stage`. A new stage starts a new bar / line.
  void update(const std::string& stage, int done, int total);

 private:
  bool tty_;
  std::string stage_;
  double stage_t0_ = 0;
  int last_quarter_ = -1;
};

}  // namespace kiln::cli
