// Splits: determinism, partition of the rows, fold sizes, the CSV record.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include "data/split.h"
#include "kernels/error.h"

namespace gcnn {
namespace {

void expect_partition(const Split& s, std::size_t n) {
  std::vector<std::size_t> all = s.train;
  all.insert(all.end(), s.valid.begin(), s.valid.end());
  all.insert(all.end(), s.test.begin(), s.test.end());
  std::sort(all.begin(), all.end());
  ASSERT_EQ(all.size(), n);
  for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(all[i], i);
}

TEST(Split, RandomSplitIsDeterministicBySeed) {
  Split a = random_split(1000, 0.2, 42), b = random_split(1000, 0.2, 42), c = random_split(1000, 0.2, 43);
  EXPECT_EQ(a.valid, b.valid);
  EXPECT_EQ(a.train, b.train);
  EXPECT_NE(a.valid, c.valid);
  EXPECT_EQ(a.valid.size(), 200u);
  EXPECT_TRUE(a.test.empty());
  expect_partition(a, 1000);
  Split t = random_split(1000, 0.1, 1, 0.25);
  EXPECT_EQ(t.valid.size(), 100u);
  EXPECT_EQ(t.test.size(), 250u);
  expect_partition(t, 1000);
  EXPECT_THROW(random_split(10, 0.6, 1, 0.5), Error);
}

TEST(Split, KFoldValidationFoldsCoverEveryRowOnce) {
  const std::size_t n = 103;
  std::vector<int> seen(n, 0);
  for (int f = 0; f < 5; ++f) {
    Split s = kfold_split(n, 5, f, 7);
    expect_partition(s, n);
    EXPECT_TRUE(s.valid.size() == 20 || s.valid.size() == 21);
    for (auto r : s.valid) ++seen[r];
    EXPECT_EQ(s.valid, kfold_split(n, 5, f, 7).valid);
  }
  for (auto v : seen) EXPECT_EQ(v, 1);
  EXPECT_THROW(kfold_split(n, 5, 5, 7), Error);
  EXPECT_THROW(kfold_split(n, 1, 0, 7), Error);
}

TEST(Split, NestedKFoldLikeThePaper) {
  // 5 outer test folds x 4 inner validation folds.
  const std::size_t n = 400;
  std::vector<int> tested(n, 0);
  for (int outer = 0; outer < 5; ++outer) {
    std::set<std::size_t> test;
    std::vector<int> validated(n, 0);
    for (int inner = 0; inner < 4; ++inner) {
      Split s = nested_kfold_split(n, 5, outer, 4, inner, 3);
      expect_partition(s, n);
      EXPECT_EQ(s.test.size(), 80u);
      EXPECT_EQ(s.valid.size(), 80u);
      if (inner == 0) test.insert(s.test.begin(), s.test.end());
      EXPECT_EQ(std::set<std::size_t>(s.test.begin(), s.test.end()), test);  // same test fold for every inner
      for (auto r : s.valid) ++validated[r];
    }
    for (std::size_t r = 0; r < n; ++r) EXPECT_EQ(validated[r], test.count(r) ? 0 : 1);
    for (auto r : test) ++tested[r];
  }
  for (auto v : tested) EXPECT_EQ(v, 1);
}

TEST(Split, CsvRecordRoundTrips) {
  std::vector<std::string> ids;
  for (int i = 0; i < 20; ++i) ids.push_back("id" + std::to_string(i));
  Split s = random_split(ids.size(), 0.25, 5, 0.25);
  auto path = std::filesystem::temp_directory_path() / "gcnn_split_test" / "split.csv";
  write_split_csv(path, ids, s);
  Split back = read_split_csv(path, ids);
  EXPECT_EQ(back.train, s.train);
  EXPECT_EQ(back.valid, s.valid);
  EXPECT_EQ(back.test, s.test);
  std::vector<std::string> other = {"x"};
  EXPECT_THROW(read_split_csv(path, other), Error);
}

}  // namespace
}  // namespace gcnn
