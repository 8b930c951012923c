// safetensors files (the Hugging Face format PyTorch users convert weights
// with): 8-byte little-endian header length, a JSON header mapping each tensor
// name to {"dtype", "shape", "data_offsets"} plus an optional "__metadata__"
// map of strings, then the raw little-endian tensor bytes.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>

#include "kernels/tensor.h"

namespace gcnn {

struct Safetensors {
  std::map<std::string, Tensor> tensors;  // f32 tensors on the CPU, by name
  std::map<std::string, std::string> metadata;
};

// Limits on the JSON header: its size in bytes and its nesting depth (a
// safetensors header needs 3 levels: the map, a tensor entry, its shape).
inline constexpr std::uint64_t kSafetensorsMaxHeaderBytes = 100 << 20;
inline constexpr int kSafetensorsMaxHeaderDepth = 8;

// Parses file bytes; source names the file in messages. F32 is read as is;
// F64, F16, BF16 and I64 are converted to f32. Throws naming source and tensor on a
// malformed header (over the limits above), an unsupported dtype, a shape whose
// size overflows, or offsets outside the data.
Safetensors parse_safetensors(std::string_view bytes, const std::string& source);
Safetensors read_safetensors(const std::filesystem::path& path);
// Throws naming source and the tensor when a value is NaN or infinite (weights
// and optimizer state loaded from files must be finite).
void require_finite(const std::map<std::string, Tensor>& tensors, const std::string& source);

// The file bytes for tensors (any device; written as F32) and metadata.
std::string encode_safetensors(const std::map<std::string, Tensor>& tensors,
                               const std::map<std::string, std::string>& metadata = {});
// Writes atomically (temporary file and rename).
void write_safetensors(const std::filesystem::path& path, const std::map<std::string, Tensor>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

}  // namespace gcnn
