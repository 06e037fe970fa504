#include "core/status.h"

namespace kiln {

const char* code_name(Code c) {
  switch (c) {
    case Code::kOk: return "ok";
    case Code::kInvalidArgument: return "invalid argument";
    case Code::kInvalidModel: return "invalid model";
    case Code::kUnsupported: return "unsupported";
    case Code::kOutOfRange: return "out of range";
    case Code::kIO: return "i/o error";
    case Code::kInternal: return "internal error";
  }
  return "error";
}

std::string Status::to_string() const {
  if (ok()) return "ok";
  return std::string(code_name(code_)) + ": " + message_;
}

Status Status::with_context(const std::string& where) const {
  if (ok()) return *this;
  return Status(code_, where + ": " + message_);
}

}  // namespace kiln
