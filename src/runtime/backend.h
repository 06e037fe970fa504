// Which implementation runs the ops of a session: kiln's own kernels, or Debian's XNNPACK
// (native builds only) for the nodes it covers, with kiln's op as the fallback for the rest.
#pragma once
#include <string>

#include "core/status.h"

namespace kiln {

enum class Backend { kKiln, kXnnpack };

const char* backend_name(Backend b);
// "kiln" or "xnnpack"; anything else is an invalid_argument listing both.
Result<Backend> parse_backend(const std::string& name);
// Whether this build can run `b` (XNNPACK: built with it, and the library initialized on this CPU).
Status backend_available(Backend b);

}  // namespace kiln
