// safetensors reading and writing; the JSON header is read with nlohmann-json.
#include "layers/safetensors.h"

#include <bit>
#include <cstdint>
#include <cstring>
#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/csv.h"
#include "kernels/error.h"

namespace gcnn {
namespace {

static_assert(std::endian::native == std::endian::little, "safetensors I/O assumes a little-endian host");

std::string json_escape(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
    } else {
      out += c;
    }
  }
  return out + "\"";
}

float half_to_float(std::uint16_t h) {
  const std::uint32_t sign = (h & 0x8000u) << 16;
  std::uint32_t exponent = (h >> 10) & 0x1F, mantissa = h & 0x3FF;
  std::uint32_t bits;
  if (exponent == 0x1F) {
    bits = sign | 0x7F800000u | (mantissa << 13);
  } else if (exponent == 0) {
    if (mantissa == 0) {
      bits = sign;
    } else {  // subnormal: normalise
      int e = -1;
      do { ++e; mantissa <<= 1; } while ((mantissa & 0x400) == 0);
      bits = sign | (static_cast<std::uint32_t>(127 - 15 - e) << 23) | ((mantissa & 0x3FF) << 13);
    }
  } else {
    bits = sign | ((exponent + 127 - 15) << 23) | (mantissa << 13);
  }
  return std::bit_cast<float>(bits);
}

using Json = nlohmann::json;

std::int64_t as_integer(const Json& v, const std::string& source, const std::string& what) {
  GCNN_INPUT_CHECK(v.is_number_unsigned() && v.get<std::uint64_t>() <= static_cast<std::uint64_t>(
                                                                           std::numeric_limits<std::int64_t>::max()),
                   "{}: {} must be a non-negative integer below 2^63, got {}", source, what, v.dump());
  return v.get<std::int64_t>();
}

// The header as JSON; fails naming source on bad syntax or nesting deeper than
// kSafetensorsMaxHeaderDepth (the parser itself is iterative, this bounds the work).
Json parse_header(std::string_view text, const std::string& source) {
  auto limit_depth = [&](int depth, Json::parse_event_t event, Json&) {
    if ((event == Json::parse_event_t::object_start || event == Json::parse_event_t::array_start) &&
        depth >= kSafetensorsMaxHeaderDepth)
      GCNN_INPUT_FAIL("{}: bad safetensors header: JSON nested deeper than {} levels", source,
                      kSafetensorsMaxHeaderDepth);
    return true;
  };
  try {
    return Json::parse(text.begin(), text.end(), limit_depth);
  } catch (const Json::exception& e) {
    GCNN_INPUT_FAIL("{}: bad safetensors header: {}", source, e.what());
  }
}

}  // namespace

Safetensors parse_safetensors(std::string_view bytes, const std::string& source) {
  GCNN_INPUT_CHECK(bytes.size() >= 8,
                   "{}: not a safetensors file ({} bytes, shorter than the 8-byte header length)", source,
                   bytes.size());
  std::uint64_t header_len = 0;
  std::memcpy(&header_len, bytes.data(), 8);
  GCNN_INPUT_CHECK(header_len <= bytes.size() - 8, "{}: header length {} exceeds the file size {}", source,
                   header_len, bytes.size());
  GCNN_INPUT_CHECK(header_len <= kSafetensorsMaxHeaderBytes, "{}: header length {} exceeds the limit of {} bytes",
                   source, header_len, kSafetensorsMaxHeaderBytes);
  const Json header = parse_header(bytes.substr(8, header_len), source);
  GCNN_INPUT_CHECK(header.is_object(), "{}: safetensors header is not a JSON object", source);
  const std::string_view data = bytes.substr(8 + header_len);

  Safetensors out;
  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") {
      GCNN_INPUT_CHECK(entry.is_object(), "{}: __metadata__ is not an object", source);
      for (const auto& [key, value] : entry.items()) {
        GCNN_INPUT_CHECK(value.is_string(), "{}: __metadata__ value of '{}' is not a string", source, key);
        out.metadata[key] = value.get<std::string>();
      }
      continue;
    }
    GCNN_INPUT_CHECK(entry.is_object(), "{}: entry for tensor '{}' is not an object", source, name);
    const auto dtype_it = entry.find("dtype"), shape_it = entry.find("shape"), offsets_it = entry.find("data_offsets");
    GCNN_INPUT_CHECK(dtype_it != entry.end() && dtype_it->is_string(), "{}: tensor '{}' has no string dtype", source,
                     name);
    GCNN_INPUT_CHECK(shape_it != entry.end() && shape_it->is_array(), "{}: tensor '{}' has no shape array", source,
                     name);
    GCNN_INPUT_CHECK(offsets_it != entry.end() && offsets_it->is_array() && offsets_it->size() == 2,
                     "{}: tensor '{}' needs data_offsets [begin, end]", source, name);
    const std::string dtype = dtype_it->get<std::string>();
    std::size_t element_bytes = 0;
    if (dtype == "F32") element_bytes = 4;
    else if (dtype == "F64") element_bytes = 8;
    else if (dtype == "F16" || dtype == "BF16") element_bytes = 2;
    else if (dtype == "I64") element_bytes = 8;  // e.g. torchvision's bn.num_batches_tracked
    else GCNN_INPUT_FAIL("{}: tensor '{}' has dtype {}; only F32, F64, F16, BF16 and I64 are supported", source, name, dtype);
    Shape dims;
    std::int64_t numel = 1, nbytes = static_cast<std::int64_t>(element_bytes);
    for (const auto& d : *shape_it) {
      dims.push_back(as_integer(d, source, "tensor '" + name + "' shape"));
      GCNN_INPUT_CHECK(!__builtin_mul_overflow(numel, dims.back(), &numel) &&
                           !__builtin_mul_overflow(nbytes, dims.back(), &nbytes),
                       "{}: tensor '{}' has shape {}...: its size overflows 64 bits", source, name,
                       shape_str(dims));
    }
    const std::int64_t begin = as_integer((*offsets_it)[0], source, "tensor '" + name + "' data_offsets");
    const std::int64_t end = as_integer((*offsets_it)[1], source, "tensor '" + name + "' data_offsets");
    GCNN_INPUT_CHECK(begin <= end && static_cast<std::uint64_t>(end) <= data.size(),
                     "{}: tensor '{}' data_offsets [{}, {}] lie outside the {} data bytes", source, name, begin, end,
                     data.size());
    GCNN_INPUT_CHECK(end - begin == nbytes, "{}: tensor '{}' {} {} needs {} bytes but data_offsets give {}", source,
                     name, dtype, shape_str(dims), nbytes, end - begin);
    Tensor t = Tensor::empty(dims);
    float* dst = t.data<float>();
    const char* src = data.data() + begin;
    for (std::int64_t i = 0; i < numel; ++i) {
      if (element_bytes == 4) {
        std::memcpy(dst + i, src + 4 * i, 4);
      } else if (dtype == "F64") {
        double d;
        std::memcpy(&d, src + 8 * i, 8);
        dst[i] = static_cast<float>(d);
      } else if (dtype == "I64") {
        std::int64_t n;
        std::memcpy(&n, src + 8 * i, 8);
        dst[i] = static_cast<float>(n);
      } else {
        std::uint16_t h;
        std::memcpy(&h, src + 2 * i, 2);
        dst[i] = dtype == "F16" ? half_to_float(h) : std::bit_cast<float>(static_cast<std::uint32_t>(h) << 16);
      }
    }
    GCNN_INPUT_CHECK(out.tensors.emplace(name, std::move(t)).second, "{}: tensor '{}' appears twice", source, name);
  }
  return out;
}

void require_finite(const std::map<std::string, Tensor>& tensors, const std::string& source) {
  for (const auto& [name, t] : tensors) {
    const std::vector<float> values = t.to_vector();
    for (std::size_t i = 0; i < values.size(); ++i)
      GCNN_INPUT_CHECK(std::isfinite(values[i]), "{}: tensor '{}' holds a non-finite value ({} at element {})", source,
                       name, values[i], i);
  }
}

Safetensors read_safetensors(const std::filesystem::path& path) {
  std::error_code ec;
  GCNN_INPUT_CHECK(!std::filesystem::is_directory(path, ec), "{}: is a folder, not a safetensors file", path.string());
  std::ifstream in(path, std::ios::binary);
  GCNN_INPUT_CHECK(in.good(), "cannot open safetensors file {}", path.string());
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return parse_safetensors(bytes.str(), path.string());
}

std::string encode_safetensors(const std::map<std::string, Tensor>& tensors,
                               const std::map<std::string, std::string>& metadata) {
  std::string header = "{";
  bool first = true;
  auto sep = [&] {
    if (!first) header += ',';
    first = false;
  };
  if (!metadata.empty()) {
    sep();
    header += "\"__metadata__\":{";
    bool first_meta = true;
    for (const auto& [key, value] : metadata) {
      if (!first_meta) header += ',';
      first_meta = false;
      header += json_escape(key) + ":" + json_escape(value);
    }
    header += '}';
  }
  std::size_t offset = 0;
  for (const auto& [name, t] : tensors) {
    GCNN_CHECK(t.defined() && t.dtype() == DType::F32, "safetensors: tensor '{}' must be a defined f32 tensor", name);
    std::string dims;
    for (std::size_t i = 0; i < t.shape().size(); ++i) {
      if (i > 0) dims += ',';
      dims += std::to_string(t.shape()[i]);
    }
    sep();
    header += fmt::format("{}:{{\"dtype\":\"F32\",\"shape\":[{}],\"data_offsets\":[{},{}]}}", json_escape(name), dims,
                          offset, offset + t.nbytes());
    offset += t.nbytes();
  }
  header += '}';
  while (header.size() % 8 != 0) header += ' ';  // keeps the data 8-byte aligned, as the reference writer does
  std::string out(8, '\0');
  const std::uint64_t len = header.size();
  std::memcpy(out.data(), &len, 8);
  out += header;
  out.reserve(out.size() + offset);
  for (const auto& [name, t] : tensors) {
    const std::vector<float> values = t.to_vector();
    out.append(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float));
  }
  return out;
}

void write_safetensors(const std::filesystem::path& path, const std::map<std::string, Tensor>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  write_file_atomic(path, encode_safetensors(tensors, metadata));
}

}  // namespace gcnn
