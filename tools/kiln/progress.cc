#include "progress.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "platform/platform.h"

namespace kiln::cli {

ProgressBar::ProgressBar() : tty_(isatty(fileno(stderr)) != 0) {}

void ProgressBar::update(const std::string& stage, int done, int total) {
  if (stage != stage_) {
    stage_ = stage;
    stage_t0_ = now_ms();
    last_quarter_ = -1;
  }
  total = std::max(total, 1);
  const double elapsed = (now_ms() - stage_t0_) / 1000;
  if (tty_) {
    constexpr int kWidth = 30;
    const int filled = done * kWidth / total;
    const double eta = done > 0 ? elapsed * (total - done) / done : 0;
    std::fprintf(stderr, "\r%s [%.*s%*s] %d/%d  %.1f s, ETA %.1f s   ", stage.c_str(), filled,
                 "##############################", kWidth - filled, "", done, total, elapsed, eta);
    if (done >= total) std::fputc('\n', stderr);
  } else {
    // A log gets a line per quarter, not one per item.
    const int quarter = done * 4 / total;
    if (quarter == last_quarter_) return;
    last_quarter_ = quarter;
    std::fprintf(stderr, "%s: %d/%d (%.1f s)\n", stage.c_str(), done, total, elapsed);
  }
  std::fflush(stderr);
}

}  // namespace kiln::cli
