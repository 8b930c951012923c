// Options: a checked view of one YAML map of an experiment file. Every read
// names the file, line and dotted key on error (wrong type, missing key, bad
// value), and finish() rejects keys nobody asked for, so typos in configs fail
// before any work starts.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <memory>
#include <type_traits>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "kernels/error.h"

namespace gcnn {

class Options {
 public:
  // node must be a map (or null: an empty map). file names the config file;
  // path is the dotted key of node ("" at the root). overridden holds the
  // dotted keys that came from --set, which are named as such in messages.
  Options(YAML::Node node, std::string file, std::string path = "",
          std::shared_ptr<const std::set<std::string>> overridden = nullptr);

  // True when key is given with a value (an explicit null counts as absent here,
  // but get, require and child reject it).
  bool has(const std::string& key) const;
  // Value of key converted to T (int, std::int64_t, double, bool, std::string,
  // or std::vector of those); fallback when the key is absent.
  template <class T>
  T get(const std::string& key, const T& fallback) {
    used_.insert(key);
    reject_null(key);
    return has(key) ? require<T>(key) : fallback;
  }
  template <class T>
  T require(const std::string& key) {
    YAML::Node n = lookup(key);
    T value;
    try {
      value = n.as<T>();
    } catch (const YAML::Exception&) {
      fail(key, "must be " + type_name(static_cast<T*>(nullptr)) + ", got '" + YAML::Dump(n) + "'");
    }
    if (!all_finite(value)) fail(key, "must be finite, got '" + YAML::Dump(n) + "'");
    if (!all_text(value)) fail(key, "must be UTF-8 text without control characters");
    return value;
  }
  // A value that must be one of choices.
  std::string choice(const std::string& key, const std::vector<std::string>& choices, const std::string& fallback);
  // A nested map (empty when absent).
  Options child(const std::string& key);
  // A list of maps.
  std::vector<Options> list(const std::string& key);
  // The raw node of key (marks it used).
  YAML::Node raw(const std::string& key);

  // "file:line: key 'a.b'" (or "--set a.b") for messages.
  std::string where(const std::string& key) const;
  [[noreturn]] void fail(const std::string& key, const std::string& what) const;
  // Throws for the first key of this map that no get/require/child/list asked for.
  void finish() const;

  const std::string& file() const { return file_; }
  const std::string& path() const { return path_; }
  std::string key_path(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }

 private:
  YAML::Node lookup(const std::string& key);
  // Fails when key is present with an empty (null) value.
  void reject_null(const std::string& key) const;
  // The --set key that created or sits below key_path(key), or "".
  std::string override_of(const std::string& key) const;
  template <class T>
  static bool all_finite(const T& value) {
    if constexpr (std::is_floating_point_v<T>) return std::isfinite(value);
    else if constexpr (requires { value.begin(); } && !std::is_same_v<T, std::string>) {
      for (const auto& v : value)
        if (!all_finite(v)) return false;
    }
    return true;
  }
  // Strings must survive a YAML round trip (config.yaml, checkpoints): valid
  // UTF-8 without control characters.
  template <class T>
  static bool all_text(const T& value) {
    if constexpr (std::is_same_v<T, std::string>) return is_printable_utf8(value);
    else if constexpr (requires { value.begin(); }) {
      for (const auto& v : value)
        if (!all_text(v)) return false;
    }
    return true;
  }
  static bool is_printable_utf8(std::string_view text);
  static std::string type_name(int*) { return "an integer"; }
  static std::string type_name(std::int64_t*) { return "an integer"; }
  static std::string type_name(double*) { return "a number"; }
  static std::string type_name(float*) { return "a number"; }
  static std::string type_name(bool*) { return "true or false"; }
  static std::string type_name(std::string*) { return "a string"; }
  template <class T>
  static std::string type_name(std::vector<T>*) {
    return "a list of " + type_name(static_cast<T*>(nullptr)).substr(2) + "s";
  }

  YAML::Node node_;
  std::string file_;
  std::string path_;
  std::shared_ptr<const std::set<std::string>> overridden_;
  std::set<std::string> used_;
};

}  // namespace gcnn
