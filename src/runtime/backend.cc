#include "runtime/backend.h"

#ifdef KILN_HAVE_XNNPACK
#include "backends/xnnpack/delegate.h"
#endif

namespace kiln {

const char* backend_name(Backend b) { return b == Backend::kXnnpack ? "xnnpack" : "kiln"; }

Result<Backend> parse_backend(const std::string& name) {
  if (name == "kiln") return Backend::kKiln;
  if (name == "xnnpack") return Backend::kXnnpack;
  return invalid_argument("unknown backend '" + name + "' (expected kiln or xnnpack)");
}

Status backend_available(Backend b) {
  if (b == Backend::kKiln) return Status::Ok();
#ifdef KILN_HAVE_XNNPACK
  return xnnpack::initialize();
#else
  return unsupported("this build of kiln has no XNNPACK backend (configure natively with libxnnpack-dev installed and "
                     "-DKILN_WITH_XNNPACK=ON)");
#endif
}

}  // namespace kiln
