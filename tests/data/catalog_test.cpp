// Catalog loading: quoted fields, CRLF, targets, and every kind of bad row
// under both policies (error naming file:line, or skip and count).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "data/catalog.h"
#include "kernels/error.h"

namespace gcnn {
namespace {

std::filesystem::path write_temp(const std::string& name, const std::string& text) {
  auto dir = std::filesystem::temp_directory_path() / "gcnn_catalog_test";
  std::filesystem::create_directories(dir);
  auto path = dir / name;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Catalog, ReadsIdsTargetsAndLinesWithQuotesAndCrlf) {
  auto path = write_temp("ok.csv",
                         "objID,ra,oh_p50,lgm_tot_p50\r\n"
                         "\"1237\",\"1,5\",8.9,10.1\r\n"
                         "\r\n"
                         "1238,2.5,\"9.05\",9.5\r\n");
  Catalog cat = load_catalog(path, "objID", {"oh_p50", "lgm_tot_p50"});
  ASSERT_EQ(cat.size(), 2u);
  EXPECT_EQ(cat.ids[0], "1237");
  EXPECT_EQ(cat.ids[1], "1238");
  EXPECT_EQ(cat.lines, (std::vector<std::size_t>{2, 4}));
  EXPECT_EQ(cat.num_targets(), 2u);
  EXPECT_FLOAT_EQ(cat.target(0, 0), 8.9f);
  EXPECT_FLOAT_EQ(cat.target(0, 1), 10.1f);
  EXPECT_FLOAT_EQ(cat.target(1, 0), 9.05f);
  EXPECT_FLOAT_EQ(cat.target(1, 1), 9.5f);
  EXPECT_TRUE(cat.skipped.empty());
}

TEST(Catalog, UnlabelledCatalogHasNoTargets) {
  auto path = write_temp("unlabelled.csv", "objID,ra\n1,2\n3,4\n");
  Catalog cat = load_catalog(path);
  EXPECT_EQ(cat.size(), 2u);
  EXPECT_EQ(cat.num_targets(), 0u);
  EXPECT_TRUE(cat.targets.empty());
}

TEST(Catalog, CustomIdColumnAndMissingColumnNamesFile) {
  auto path = write_temp("custom.csv", "name,oh_p50\na,8.5\n");
  EXPECT_EQ(load_catalog(path, "name", {"oh_p50"}).ids[0], "a");
  std::string msg = error_of([&] { load_catalog(path, "objID", {"oh_p50"}); });
  EXPECT_NE(msg.find("custom.csv"), std::string::npos) << msg;
  EXPECT_NE(msg.find("objID"), std::string::npos) << msg;
}

struct BadCase {
  const char* name;
  const char* text;
  const char* expect;  // part of the message, after "file:line: "
  std::size_t line;
};

class CatalogBadRow : public ::testing::TestWithParam<BadCase> {};

TEST_P(CatalogBadRow, ErrorNamesFileAndLine) {
  const BadCase& c = GetParam();
  auto path = write_temp(std::string(c.name) + ".csv", c.text);
  std::string msg = error_of([&] { load_catalog(path, "objID", {"oh_p50"}); });
  std::string where = path.string() + ":" + std::to_string(c.line) + ":";
  EXPECT_NE(msg.find(where), std::string::npos) << msg;
  EXPECT_NE(msg.find(c.expect), std::string::npos) << msg;
}

TEST_P(CatalogBadRow, SkipPolicyDropsAndCountsIt) {
  const BadCase& c = GetParam();
  auto path = write_temp(std::string(c.name) + ".csv", c.text);
  Catalog cat = load_catalog(path, "objID", {"oh_p50"}, {.skip_bad_rows = true});
  ASSERT_EQ(cat.skipped.size(), 1u);
  EXPECT_NE(cat.skipped[0].find(path.string() + ":" + std::to_string(c.line) + ":"), std::string::npos);
  EXPECT_EQ(cat.size(), 2u);  // every case has two good rows
  EXPECT_EQ(cat.ids[0], "1");
  EXPECT_FLOAT_EQ(cat.target(1, 0), 9.0f);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, CatalogBadRow,
    ::testing::Values(BadCase{"short_row", "objID,oh_p50\n1,8.5\n2\n3,9.0\n", "1 fields, but the header has 2", 3},
                      BadCase{"long_row", "objID,oh_p50\n1,8.5\n2,8.7,x\n3,9.0\n", "3 fields", 3},
                      BadCase{"text_target", "objID,oh_p50\n1,8.5\n2,abc\n3,9.0\n", "oh_p50 'abc'", 3},
                      BadCase{"nan_target", "objID,oh_p50\n1,8.5\n2,nan\n3,9.0\n", "not a finite number", 3},
                      BadCase{"inf_target", "objID,oh_p50\n1,8.5\r\n2,inf\r\n3,9.0\r\n", "not a finite number", 3},
                      BadCase{"empty_target", "objID,oh_p50\n1,8.5\n2,\n3,9.0\n", "not a finite number", 3},
                      BadCase{"empty_id", "objID,oh_p50\n1,8.5\n,8.6\n3,9.0\n", "empty objID", 3},
                      BadCase{"duplicate_id", "objID,oh_p50\n1,8.5\n3,9.0\n1,8.6\n", "duplicate objID 1 (first on line 2)",
                              4}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(Catalog, SkipPolicyCountsSeveralBadRows) {
  auto path = write_temp("many_bad.csv", "objID,oh_p50\n1,8.5\n2,x\n2,8.1\n3\n2,8.2\n4,inf\n");
  Catalog cat = load_catalog(path, "objID", {"oh_p50"}, {.skip_bad_rows = true});
  EXPECT_EQ(cat.ids, (std::vector<std::string>{"1", "2"}));
  EXPECT_FLOAT_EQ(cat.target(1, 0), 8.1f);
  EXPECT_EQ(cat.skipped.size(), 4u);  // bad target, short row, duplicate 2, inf
}

TEST(Catalog, SubsetKeepsRowsInOrder) {
  auto path = write_temp("subset.csv", "objID,oh_p50\na,1\nb,2\nc,3\n");
  Catalog cat = load_catalog(path, "objID", {"oh_p50"}).subset({2, 0});
  EXPECT_EQ(cat.ids, (std::vector<std::string>{"c", "a"}));
  EXPECT_EQ(cat.targets, (std::vector<float>{3, 1}));
  EXPECT_EQ(cat.lines, (std::vector<std::size_t>{4, 2}));
}

}  // namespace
}  // namespace gcnn
