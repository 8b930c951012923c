// gcnn::throw_error and run-time message formatting, out of line so that the
// headers nvcc compiles stay free of fmt.
#include "kernels/error.h"

#include <fmt/args.h>

namespace gcnn {

void throw_error(const char* file, int line, const std::string& message) {
  throw Error(fmt::format("{} ({}:{})", message, file, line));
}

void throw_input_error(const std::string& message) { throw InputError(message); }

namespace detail {
std::string format_strings(std::string_view format, std::initializer_list<std::string> args) {
  fmt::dynamic_format_arg_store<fmt::format_context> store;
  for (const auto& a : args) store.push_back(a);
  try {
    return fmt::vformat(format, store);
  } catch (const fmt::format_error&) {
    return std::string(format);
  }
}
}  // namespace detail

}  // namespace gcnn
