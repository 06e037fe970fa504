// Whole-file helpers for native tools and tests (the WASM build receives bytes from JS).
#include <sys/stat.h>

#include <fstream>

#include "format/model_io.h"

namespace kiln {

// std::vector's default allocation is what read_model relies on for alignment:
// 16 bytes with glibc, 8 bytes with Emscripten 3.1.6 (max_align_t is 8 on wasm32);
// read_model needs 8 (the largest element type).
Result<std::shared_ptr<const std::vector<uint8_t>>> read_file_bytes(const std::string& path) {
  // A directory "opens" as a stream with a bogus size: check for a regular file first.
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return io_error("cannot open '" + path + "': no such file");
  if (!S_ISREG(st.st_mode)) return io_error("'" + path + "' is not a regular file");
  std::ifstream f(path, std::ios::binary | std::ios::ate);
  if (!f) return io_error("cannot open '" + path + "' for reading");
  std::streamoff size = f.tellg();
  if (size < 0) return io_error("cannot determine the size of '" + path + "'");
  if (static_cast<uint64_t>(size) > SIZE_MAX / 2) return io_error("'" + path + "' is too large to load");
  auto bytes = std::make_shared<std::vector<uint8_t>>(static_cast<size_t>(size));
  f.seekg(0);
  if (size > 0 && !f.read(reinterpret_cast<char*>(bytes->data()), size))
    return io_error("failed to read " + std::to_string(size) + " bytes from '" + path + "'");
  return std::shared_ptr<const std::vector<uint8_t>>(std::move(bytes));
}

Status write_file_bytes(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  if (!f) return io_error("cannot open '" + path + "' for writing");
  if (!bytes.empty()) f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  f.close();
  if (!f) return io_error("failed to write " + std::to_string(bytes.size()) + " bytes to '" + path + "'");
  return Status::Ok();
}

}  // namespace kiln
