// Shared by the fuzz targets in tests/fuzz/: what counts as a finding, and the
// libFuzzer entry point. A target is a function taking the input bytes; the
// parser it drives may reject them with gcnn::Error (the expected outcome of
// bad input), while a broken invariant throws FuzzFinding and any other
// exception, crash or sanitizer report is a finding too. Each target file
// defines LLVMFuzzerTestOneInput (with GCNN_FUZZ_TARGET) only in the libFuzzer
// build (GCNN_FUZZ=ON); the CPU suite links the same functions and replays the
// seed corpus and regression inputs through them (replay_test.cpp).
#pragma once

#include <fmt/format.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "kernels/error.h"

namespace gcnn::fuzz {

// A broken invariant. Not a gcnn::Error, so nothing takes it for a rejection.
class FuzzFinding : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

// The value of parse(), or nullopt when it rejected the input with gcnn::Error.
template <class Parse>
auto unless_rejected(Parse&& parse) -> std::optional<decltype(parse())> {
  try {
    return parse();
  } catch (const Error&) {
    return std::nullopt;
  }
}

// The value of parse(), which must accept: a gcnn::Error becomes a FuzzFinding
// naming what was parsed (e.g. a table written back by the engine itself).
template <class Parse>
auto must_accept(std::string_view what, Parse&& parse) -> decltype(parse()) {
  try {
    return parse();
  } catch (const Error& e) {
    throw FuzzFinding(fmt::format("{} was rejected: {}", what, e.what()));
  }
}

// The targets, one per parser of outside input.
void catalog_csv(std::string_view bytes);        // data/csv + data/catalog
void config_yaml(std::string_view bytes);        // train/config with --set overrides
void safetensors(std::string_view bytes);        // layers/safetensors + checkpoint metadata
void last_state(std::string_view bytes);         // train/checkpoint last.state
void image_decode(std::string_view bytes);       // data/image decode_image (JPEG, PNG)
void sdss_query(std::string_view bytes);         // data/sdss SkyServer CSV answers and SQL text
void download_response(std::string_view bytes);  // data/sdss cutout HTTP response verdicts

// Runs target on one input for libFuzzer: a FuzzFinding or an exception other
// than gcnn::Error is printed and aborts, which libFuzzer reports as a crash.
inline void run_for_libfuzzer(void (*target)(std::string_view), const std::uint8_t* data, std::size_t size) {
  try {
    target(std::string_view(reinterpret_cast<const char*>(data), size));
  } catch (const FuzzFinding& e) {
    std::fprintf(stderr, "FUZZ FINDING: %s\n", e.what());
    std::abort();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "FUZZ FINDING: uncaught exception (not gcnn::Error): %s\n", e.what());
    std::abort();
  }
}

}  // namespace gcnn::fuzz

// FUZZ_REQUIRE(cond, "format {}", args...): throws FuzzFinding when cond is false.
#define FUZZ_REQUIRE(cond, ...)                                                                          \
  do {                                                                                                   \
    if (!(cond))                                                                                         \
      throw ::gcnn::fuzz::FuzzFinding(fmt::format("invariant '{}' broken: {}", #cond, fmt::format(__VA_ARGS__))); \
  } while (0)

#ifdef GCNN_LIBFUZZER
#define GCNN_FUZZ_TARGET(target)                                                           \
  extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {      \
    ::gcnn::fuzz::run_for_libfuzzer(target, data, size);                                   \
    return 0;                                                                              \
  }
#else
#define GCNN_FUZZ_TARGET(target)
#endif
