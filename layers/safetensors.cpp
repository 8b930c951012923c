// safetensors reading and writing, with the small JSON reader its header needs.
#include "layers/safetensors.h"

#include <bit>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include "data/csv.h"
#include "kernels/error.h"

namespace gcnn {
namespace {

static_assert(std::endian::native == std::endian::little, "safetensors I/O assumes a little-endian host");

// A JSON value restricted to what safetensors headers hold.
struct JsonValue {
  enum Kind { Null, Number, String, Array, Object } kind = Null;
  double number = 0;
  std::string text;
  std::vector<JsonValue> items;
  std::vector<std::pair<std::string, JsonValue>> members;
};

class JsonReader {
 public:
  JsonReader(std::string_view text, const std::string& source) : text_(text), source_(source) {}

  JsonValue document() {
    JsonValue v = value();
    skip_space();
    if (pos_ != text_.size()) fail("trailing characters after the JSON header");
    return v;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    GCNN_FAIL("{}: bad safetensors header at byte {}: {}", source_, pos_ + 8, what);
  }
  void skip_space() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\n' || text_[pos_] == '\r' ||
                                   text_[pos_] == '\t'))
      ++pos_;
  }
  char peek() {
    skip_space();
    if (pos_ >= text_.size()) fail("unexpected end");
    return text_[pos_];
  }
  void expect(char c) {
    if (peek() != c) fail(fmt::format("expected '{}'", c));
    ++pos_;
  }
  JsonValue value() {
    const char c = peek();
    JsonValue v;
    if (c == '{') {
      v.kind = JsonValue::Object;
      ++pos_;
      if (peek() == '}') return ++pos_, v;
      for (;;) {
        std::string key = string();
        expect(':');
        v.members.emplace_back(std::move(key), value());
        if (peek() == ',') { ++pos_; continue; }
        expect('}');
        return v;
      }
    }
    if (c == '[') {
      v.kind = JsonValue::Array;
      ++pos_;
      if (peek() == ']') return ++pos_, v;
      for (;;) {
        v.items.push_back(value());
        if (peek() == ',') { ++pos_; continue; }
        expect(']');
        return v;
      }
    }
    if (c == '"') {
      v.kind = JsonValue::String;
      v.text = string();
      return v;
    }
    if (text_.substr(pos_, 4) == "null") return pos_ += 4, v;
    const std::size_t start = pos_;
    while (pos_ < text_.size() && std::strchr("+-0123456789.eE", text_[pos_]) != nullptr) ++pos_;
    if (start == pos_ || !parse_finite_double(text_.substr(start, pos_ - start), v.number)) fail("expected a value");
    v.kind = JsonValue::Number;
    return v;
  }
  std::string string() {
    expect('"');
    std::string out;
    while (pos_ < text_.size() && text_[pos_] != '"') {
      char c = text_[pos_++];
      if (c != '\\') { out += c; continue; }
      if (pos_ >= text_.size()) break;
      c = text_[pos_++];
      switch (c) {
        case 'n': out += '\n'; break;
        case 't': out += '\t'; break;
        case 'r': out += '\r'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'u': {
          if (pos_ + 4 > text_.size()) fail("short \\u escape");
          const unsigned code = static_cast<unsigned>(std::stoul(std::string(text_.substr(pos_, 4)), nullptr, 16));
          pos_ += 4;
          if (code < 0x80) {
            out += static_cast<char>(code);
          } else if (code < 0x800) {
            out += static_cast<char>(0xC0 | (code >> 6));
            out += static_cast<char>(0x80 | (code & 0x3F));
          } else {
            out += static_cast<char>(0xE0 | (code >> 12));
            out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (code & 0x3F));
          }
          break;
        }
        default: out += c;  // \" \\ \/
      }
    }
    if (pos_ >= text_.size()) fail("unterminated string");
    ++pos_;
    return out;
  }

  std::string_view text_;
  const std::string& source_;
  std::size_t pos_ = 0;
};

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

std::int64_t as_integer(const JsonValue& v, const std::string& source, const std::string& what) {
  GCNN_CHECK(v.kind == JsonValue::Number && v.number >= 0 && v.number == static_cast<double>(static_cast<std::int64_t>(v.number)),
             "{}: {} must be a non-negative integer", source, what);
  return static_cast<std::int64_t>(v.number);
}

}  // namespace

Safetensors parse_safetensors(std::string_view bytes, const std::string& source) {
  GCNN_CHECK(bytes.size() >= 8, "{}: not a safetensors file ({} bytes, shorter than the 8-byte header length)",
             source, bytes.size());
  std::uint64_t header_len = 0;
  std::memcpy(&header_len, bytes.data(), 8);
  GCNN_CHECK(header_len <= bytes.size() - 8, "{}: header length {} exceeds the file size {}", source, header_len,
             bytes.size());
  const JsonValue header = JsonReader(bytes.substr(8, header_len), source).document();
  GCNN_CHECK(header.kind == JsonValue::Object, "{}: safetensors header is not a JSON object", source);
  const std::string_view data = bytes.substr(8 + header_len);

  Safetensors out;
  for (const auto& [name, entry] : header.members) {
    if (name == "__metadata__") {
      GCNN_CHECK(entry.kind == JsonValue::Object, "{}: __metadata__ is not an object", source);
      for (const auto& [key, value] : entry.members) {
        GCNN_CHECK(value.kind == JsonValue::String, "{}: __metadata__ value of '{}' is not a string", source, key);
        out.metadata[key] = value.text;
      }
      continue;
    }
    GCNN_CHECK(entry.kind == JsonValue::Object, "{}: entry for tensor '{}' is not an object", source, name);
    const JsonValue* dtype = nullptr;
    const JsonValue* shape = nullptr;
    const JsonValue* offsets = nullptr;
    for (const auto& [key, value] : entry.members) {
      if (key == "dtype") dtype = &value;
      if (key == "shape") shape = &value;
      if (key == "data_offsets") offsets = &value;
    }
    GCNN_CHECK(dtype && dtype->kind == JsonValue::String, "{}: tensor '{}' has no string dtype", source, name);
    GCNN_CHECK(shape && shape->kind == JsonValue::Array, "{}: tensor '{}' has no shape array", source, name);
    GCNN_CHECK(offsets && offsets->kind == JsonValue::Array && offsets->items.size() == 2,
               "{}: tensor '{}' needs data_offsets [begin, end]", source, name);
    Shape dims;
    for (const auto& d : shape->items) dims.push_back(as_integer(d, source, "shape of '" + name + "'"));
    const std::int64_t begin = as_integer(offsets->items[0], source, "data_offsets of '" + name + "'");
    const std::int64_t end = as_integer(offsets->items[1], source, "data_offsets of '" + name + "'");
    std::size_t element_bytes = 0;
    if (dtype->text == "F32") element_bytes = 4;
    else if (dtype->text == "F64") element_bytes = 8;
    else if (dtype->text == "F16" || dtype->text == "BF16") element_bytes = 2;
    else if (dtype->text == "I64") element_bytes = 8;  // e.g. torchvision's bn.num_batches_tracked
    else GCNN_FAIL("{}: tensor '{}' has dtype {}; only F32, F64, F16, BF16 and I64 are supported", source, name, dtype->text);
    const std::int64_t numel = shape_numel(dims);
    GCNN_CHECK(begin <= end && static_cast<std::uint64_t>(end) <= data.size(),
               "{}: tensor '{}' data_offsets [{}, {}] lie outside the {} data bytes", source, name, begin, end,
               data.size());
    GCNN_CHECK(static_cast<std::size_t>(end - begin) == static_cast<std::size_t>(numel) * element_bytes,
               "{}: tensor '{}' {} {} needs {} bytes but data_offsets give {}", source, name, dtype->text,
               shape_str(dims), static_cast<std::size_t>(numel) * element_bytes, end - begin);
    Tensor t = Tensor::empty(dims);
    float* dst = t.data<float>();
    const char* src = data.data() + begin;
    for (std::int64_t i = 0; i < numel; ++i) {
      if (element_bytes == 4) {
        std::memcpy(dst + i, src + 4 * i, 4);
      } else if (dtype->text == "F64") {
        double d;
        std::memcpy(&d, src + 8 * i, 8);
        dst[i] = static_cast<float>(d);
      } else if (dtype->text == "I64") {
        std::int64_t n;
        std::memcpy(&n, src + 8 * i, 8);
        dst[i] = static_cast<float>(n);
      } else {
        std::uint16_t h;
        std::memcpy(&h, src + 2 * i, 2);
        dst[i] = dtype->text == "F16" ? half_to_float(h) : std::bit_cast<float>(static_cast<std::uint32_t>(h) << 16);
      }
    }
    GCNN_CHECK(out.tensors.emplace(name, std::move(t)).second, "{}: tensor '{}' appears twice", source, name);
  }
  return out;
}

Safetensors read_safetensors(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  GCNN_CHECK(in.good(), "cannot open safetensors file {}", path.string());
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
