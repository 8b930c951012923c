// The fuzz targets' seed corpus (tests/fuzz/corpus/<target>/) and every input
// a fuzzing run found a crash with (tests/fuzz/regressions/<target>/), replayed
// through the targets' own functions in the CPU suite, so fixed findings stay
// fixed without clang or libFuzzer (scripts/fuzz runs the targets themselves).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/fuzz/fuzz_support.h"

namespace gcnn::fuzz {
namespace {
namespace fs = std::filesystem;

struct Target {
  const char* name;
  void (*run)(std::string_view);
};

const Target kTargets[] = {{"catalog_csv", catalog_csv},   {"config_yaml", config_yaml},
                           {"safetensors", safetensors},   {"last_state", last_state},
                           {"image_decode", image_decode}, {"sdss_query", sdss_query},
                           {"download_response", download_response}};

void PrintTo(const Target& target, std::ostream* out) { *out << target.name; }

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs every file of folder through target; returns how many there were.
int replay(const Target& target, const fs::path& folder) {
  int count = 0;
  if (!fs::is_directory(folder)) return 0;
  for (const auto& entry : fs::directory_iterator(folder)) {
    if (!entry.is_regular_file()) continue;
    ++count;
    try {
      target.run(read_bytes(entry.path()));
    } catch (const std::exception& e) {
      ADD_FAILURE() << entry.path().string() << ": " << e.what();
    }
  }
  return count;
}

class FuzzReplay : public ::testing::TestWithParam<Target> {};

TEST_P(FuzzReplay, SeedCorpusAndRegressionInputsKeepTheInvariants) {
  const fs::path root = fs::path(GCNN_SOURCE_DIR) / "tests" / "fuzz";
  EXPECT_GE(replay(GetParam(), root / "corpus" / GetParam().name), 3) << "a seed corpus of at least 3 inputs";
  replay(GetParam(), root / "regressions" / GetParam().name);
}

INSTANTIATE_TEST_SUITE_P(Targets, FuzzReplay, ::testing::ValuesIn(kTargets),
                         [](const auto& info) { return std::string(info.param.name); });

// The harness itself: a rejection is not a finding, a broken invariant is.
TEST(FuzzSupport, RejectionIsExpectedAndBrokenInvariantsAreFindings) {
  EXPECT_FALSE(unless_rejected([]() -> int { throw InputError("bad file"); }).has_value());
  EXPECT_EQ(unless_rejected([] { return 7; }), 7);
  EXPECT_THROW(unless_rejected([]() -> int { throw std::out_of_range("stoul"); }), std::out_of_range);
  EXPECT_THROW(must_accept("x", []() -> int { throw InputError("bad"); }), FuzzFinding);
  EXPECT_THROW(FUZZ_REQUIRE(1 + 1 == 3, "arithmetic"), FuzzFinding);
}

}  // namespace
}  // namespace gcnn::fuzz
