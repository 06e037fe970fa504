// The .kiln file: a size-prefixed FlatBuffers table (identifier "KILN", schema model.fbs)
// followed by weight segments, each 64-byte aligned with its own SHA-256.
//
//   [u32 table size][table ... "KILN"][pad to 64][segment 0][pad][segment 1]...
//
// Segment offsets are relative to the start of the data area (the first 64-byte
// boundary after the table), so the table can be written before the data.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "graph/graph.h"

namespace kiln {

constexpr uint32_t kFormatVersion = 1;

struct WriteOptions {
  // Weights are grouped into segments of about this size so a loader can fetch,
  // verify and cache them independently.
  size_t segment_bytes = size_t{4} << 20;
};

// Serializes the model (graph, constants, metadata) into .kiln bytes.
Result<std::vector<uint8_t>> write_model(const Model& model, const WriteOptions& options = {});

struct ReadOptions {
  bool verify_hashes = true;  // check every segment's SHA-256 before use
};

// Parses and verifies .kiln bytes. Constant tensors are views into `bytes` (no copy);
// `bytes` must stay alive via the shared_ptr and be at least 16-byte aligned.
Result<Model> read_model(std::shared_ptr<const std::vector<uint8_t>> bytes, const ReadOptions& options = {});

// Reads a file into a buffer suitable for read_model.
Result<std::shared_ptr<const std::vector<uint8_t>>> read_file_bytes(const std::string& path);
Status write_file_bytes(const std::string& path, const std::vector<uint8_t>& bytes);

// Lowercase hex SHA-256 of a byte range.
std::string sha256_hex(const uint8_t* data, size_t size);

}  // namespace kiln
