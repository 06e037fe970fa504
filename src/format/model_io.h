// The .kiln file: a size-prefixed FlatBuffers table (identifier "KILN", schema model.fbs)
// followed by weight segments, each 64-byte aligned with its own SHA-256.
//
//   [u32 table size][table ... "KILN"][pad to 64][segment 0][pad][segment 1]...
//
// Segment offsets are relative to the start of the data area (the first 64-byte
// boundary after the table), so the table can be written before the data.
// Every constant's bytes start on a 64-byte boundary inside its segment; the file
// ends at the last byte of the last segment (no trailing padding), so any
// truncation is detected. A model without constants is just the table.
// The reader trusts nothing: see reader.cc for the checks made before use.
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
  // verify and cache them independently. A larger tensor gets a segment of its own.
  size_t segment_bytes = size_t{4} << 20;
};

// Serializes the model (graph, constants, metadata) into .kiln bytes.
// Deterministic: the same model gives the same bytes. Constants are stored in
// value order, then tensor attributes in graph order (subgraphs depth-first).
// A constant whose Value has dtype kUndefined is written with its data's dtype.
Result<std::vector<uint8_t>> write_model(const Model& model, const WriteOptions& options = {});

struct ReadOptions {
  bool verify_hashes = true;  // check every segment's SHA-256 before use
};

// Parses and verifies .kiln bytes. Constant tensors are views into `bytes` (no copy);
// the shared_ptr keeps the buffer alive. `bytes->data()` must be at least 8-byte
// aligned (the largest element size); std::vector's default allocation gives 16
// natively and only 8 with Emscripten 3.1.6. Weights are therefore 64-byte aligned
// relative to the buffer but only as aligned as the buffer in memory: kernels that
// need more alignment must pack (they do). Any byte sequence gives either a model
// that passed validate_and_sort or an error Status; never a crash.
Result<Model> read_model(std::shared_ptr<const std::vector<uint8_t>> bytes, const ReadOptions& options = {});

// Reads a file into a buffer suitable for read_model (native tools and tests).
Result<std::shared_ptr<const std::vector<uint8_t>>> read_file_bytes(const std::string& path);
Status write_file_bytes(const std::string& path, const std::vector<uint8_t>& bytes);

// Lowercase hex SHA-256 of a byte range.
std::string sha256_hex(const uint8_t* data, size_t size);

}  // namespace kiln
