// Error types and checking macros. Every message names the shapes, devices,
// files or keys involved. Internal errors (a broken invariant of the engine)
// also carry the engine's file:line that raised them; input errors (a bad file,
// key, value or option the user gave) carry only their message, which names
// that input.
#pragma once

#include <initializer_list>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>

#ifndef __CUDACC__
#include <fmt/format.h>
#endif

namespace gcnn {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// An error in what the user gave; what() is the message alone.
class InputError : public Error {
 public:
  using Error::Error;
};

// Throws Error with "message (file:line)".
[[noreturn]] void throw_error(const char* file, int line, const std::string& message);
// Throws InputError with the message.
[[noreturn]] void throw_input_error(const std::string& message);

namespace detail {
// Replaces each "{}" of format with the next of args (run-time formatting).
std::string format_strings(std::string_view format, std::initializer_list<std::string> args);
inline std::string to_message_arg(const std::string& s) { return s; }
inline std::string to_message_arg(std::string_view s) { return std::string(s); }
inline std::string to_message_arg(const char* s) { return s ? s : "(null)"; }
template <class T>
  requires std::is_arithmetic_v<T>
std::string to_message_arg(T v) {
  return std::to_string(v);
}
}  // namespace detail

// Run-time formatting with "{}" placeholders only, for code compiled by nvcc,
// which cannot take fmt's compile-time-checked format strings.
template <class... Args>
std::string format_message(std::string_view format, const Args&... args) {
  return detail::format_strings(format, {detail::to_message_arg(args)...});
}

}  // namespace gcnn

#ifdef __CUDACC__
#define GCNN_FORMAT(...) ::gcnn::format_message(__VA_ARGS__)
#else
#define GCNN_FORMAT(...) fmt::format(__VA_ARGS__)
#endif

// GCNN_CHECK(cond, "format {}", args...): throws gcnn::Error when cond is false.
#define GCNN_CHECK(cond, ...)                                                              \
  do {                                                                                     \
    if (!(cond)) ::gcnn::throw_error(__FILE__, __LINE__, GCNN_FORMAT(__VA_ARGS__));        \
  } while (0)

#define GCNN_FAIL(...) ::gcnn::throw_error(__FILE__, __LINE__, GCNN_FORMAT(__VA_ARGS__))

// GCNN_INPUT_CHECK / GCNN_INPUT_FAIL: the same for input errors (InputError,
// no engine source location); the message must name the file, key or value.
#define GCNN_INPUT_CHECK(cond, ...)                                                        \
  do {                                                                                     \
    if (!(cond)) ::gcnn::throw_input_error(GCNN_FORMAT(__VA_ARGS__));                      \
  } while (0)

#define GCNN_INPUT_FAIL(...) ::gcnn::throw_input_error(GCNN_FORMAT(__VA_ARGS__))
