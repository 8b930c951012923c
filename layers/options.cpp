// Options: checked reads of YAML maps with file/line/key in every error.
#include "layers/options.h"

#include <fmt/format.h>

namespace gcnn {

Options::Options(YAML::Node node, std::string file, std::string path,
                 std::shared_ptr<const std::set<std::string>> overridden)
    : node_(std::move(node)), file_(std::move(file)), path_(std::move(path)), overridden_(std::move(overridden)) {
  if (!node_.IsDefined() || node_.IsNull()) {
    node_ = YAML::Node(YAML::NodeType::Map);
  }
  if (!node_.IsMap()) {
    const std::string name = path_.empty() ? "(top level)" : path_;
    if (overridden_ && overridden_->count(path_)) GCNN_INPUT_FAIL("--set {}: must be a map of keys", path_);
    const auto mark = node_.Mark();
    if (mark.line < 0) GCNN_INPUT_FAIL("{}: '{}' must be a map of keys", file_, name);
    GCNN_INPUT_FAIL("{}:{}: '{}' must be a map of keys", file_, mark.line + 1, name);
  }
}

bool Options::is_printable_utf8(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    const auto lead = static_cast<unsigned char>(text[i]);
    if (lead < 0x80) {
      if (lead < 0x20 || lead == 0x7F) return false;
      ++i;
      continue;
    }
    // Sequence length and the smallest code point it may encode (no overlong forms).
    const std::size_t length = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 0;
    if (length == 0 || lead > 0xF4 || i + length > text.size()) return false;
    char32_t code = lead & (0x7F >> length);
    for (std::size_t k = 1; k < length; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0) != 0x80) return false;
      code = (code << 6) | (next & 0x3F);
    }
    const char32_t smallest[] = {0, 0, 0x80, 0x800, 0x10000};
    if (code < smallest[length] || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF) ||
        (code >= 0x80 && code < 0xA0))
      return false;
    i += length;
  }
  return true;
}

void Options::reject_null(const std::string& key) const {
  const YAML::Node n = node_[key];
  if (n.IsDefined() && n.IsNull()) fail(key, "is empty (null); give a value or leave the key out");
}

std::string Options::override_of(const std::string& key) const {
  if (!overridden_) return "";
  const std::string full = key_path(key);
  for (const auto& k : *overridden_)
    if (k == full || k.starts_with(full + ".") || k.starts_with(full + "[")) return k;
  return "";
}

bool Options::has(const std::string& key) const {
  const YAML::Node n = node_[key];
  return n.IsDefined() && !n.IsNull();
}

YAML::Node Options::lookup(const std::string& key) {
  used_.insert(key);
  YAML::Node n = node_[key];
  if (!n.IsDefined() || n.IsNull()) fail(key, "is required but missing");
  return n;
}

std::string Options::where(const std::string& key) const {
  const std::string full = key_path(key);
  if (const std::string k = override_of(key); !k.empty()) return fmt::format("--set {}", k);
  const YAML::Node n = node_[key];
  const auto mark = (n.IsDefined() && !n.IsNull() && n.Mark().line >= 0) ? n.Mark() : node_.Mark();
  if (mark.line < 0) return fmt::format("{}: key '{}'", file_, full);
  return fmt::format("{}:{}: key '{}'", file_, mark.line + 1, full);
}

void Options::fail(const std::string& key, const std::string& what) const {
  throw InputError(fmt::format("{} {}", where(key), what));
}

std::string Options::choice(const std::string& key, const std::vector<std::string>& choices,
                            const std::string& fallback) {
  const std::string value = get<std::string>(key, fallback);
  for (const auto& c : choices)
    if (c == value) return value;
  fail(key, fmt::format("is '{}'; expected one of: {}", value, fmt::join(choices, ", ")));
}

Options Options::child(const std::string& key) {
  used_.insert(key);
  reject_null(key);
  return Options(node_[key], file_, key_path(key), overridden_);
}

std::vector<Options> Options::list(const std::string& key) {
  YAML::Node n = raw(key);
  std::vector<Options> out;
  if (!n.IsDefined() || n.IsNull()) return out;
  if (!n.IsSequence()) fail(key, "must be a list");
  for (std::size_t i = 0; i < n.size(); ++i) {
    out.emplace_back(n[i], file_, fmt::format("{}[{}]", key_path(key), i), overridden_);
  }
  return out;
}

YAML::Node Options::raw(const std::string& key) {
  used_.insert(key);
  return node_[key];
}

void Options::finish() const {
  for (const auto& entry : node_) {
    const auto mark = entry.first.Mark();
    if (!entry.first.IsScalar())
      throw InputError(fmt::format("{}:{}: a key in '{}' is a YAML list or map ('? ...' syntax); keys are plain names",
                                   file_, mark.line + 1, path_.empty() ? "the top level" : path_));
    const std::string key = entry.first.Scalar();
    if (used_.count(key)) continue;
    std::vector<std::string> known(used_.begin(), used_.end());
    const std::string full = key_path(key);
    if (const std::string k = override_of(key); !k.empty())
      throw InputError(fmt::format("--set {}: unknown key '{}' (known here: {})", k, full, fmt::join(known, ", ")));
    throw InputError(fmt::format("{}:{}: unknown key '{}' (known here: {})", file_, mark.line + 1, full,
                            fmt::join(known, ", ")));
  }
}

}  // namespace gcnn
