// Small helpers shared by the CLI subcommands: error reporting and model statistics.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/tensor.h"
#include "graph/graph.h"

namespace kiln::cli {

// Prints "kiln: error: <reason>" on one line to stderr and returns the exit code 1.
int fail(const Status& s);
int fail(const std::string& message);

// read_file_bytes, after checking the path names a regular file (not a directory).
Result<std::shared_ptr<const std::vector<uint8_t>>> read_model_file(const std::string& path);

std::string human_bytes(uint64_t bytes);      // "4.7 MB"
std::string human_count(int64_t n);           // "1.23M"
int count_nodes(const Model& m);              // main graph + subgraphs
int64_t count_parameters(const Model& m);     // elements of all constant values
std::map<std::string, uint64_t> constant_bytes_by_dtype(const Model& m);
// "Identity:0" -> "Identity_0": safe as a file name on every platform.
std::string sanitize_filename(const std::string& name);
// The first `n` values of a tensor, e.g. "[0.1, 0.9]" or "[1, 2, 3, ...]".
std::string preview_values(const Tensor& t, int64_t n);

}  // namespace kiln::cli
