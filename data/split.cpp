// Deterministic splits and their CSV record.
#include "data/split.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "data/csv.h"
#include "data/random.h"
#include "kernels/error.h"

namespace gcnn {

namespace {

std::vector<std::size_t> permutation(std::size_t n, std::uint64_t seed) {
  std::vector<std::size_t> order(n);
  for (std::size_t i = 0; i < n; ++i) order[i] = i;
  Rng rng(mix_seed({seed, 0x5B1177}));
  shuffle_in_place(order, rng);
  return order;
}

// Positions [fold * n / k, (fold + 1) * n / k) of a list: fold sizes differ by at most 1.
std::pair<std::size_t, std::size_t> fold_range(std::size_t n, int k, int fold) {
  return {n * static_cast<std::size_t>(fold) / static_cast<std::size_t>(k),
          n * static_cast<std::size_t>(fold + 1) / static_cast<std::size_t>(k)};
}

void check_folds(int k, int fold, const char* what) {
  GCNN_CHECK(k >= 2, "{}: need at least 2 folds, got {}", what, k);
  GCNN_CHECK(fold >= 0 && fold < k, "{}: fold {} not in 0..{}", what, fold, k - 1);
}

void sort_split(Split& s) {
  std::sort(s.train.begin(), s.train.end());
  std::sort(s.valid.begin(), s.valid.end());
  std::sort(s.test.begin(), s.test.end());
}

}  // namespace

Split random_split(std::size_t n, double valid_fraction, std::uint64_t seed, double test_fraction) {
  GCNN_CHECK(valid_fraction >= 0 && test_fraction >= 0 && valid_fraction + test_fraction < 1,
             "random_split: fractions valid {} + test {} must be non-negative and below 1", valid_fraction,
             test_fraction);
  auto order = permutation(n, seed);
  const auto n_valid = static_cast<std::size_t>(std::llround(valid_fraction * static_cast<double>(n)));
  const auto n_test = static_cast<std::size_t>(std::llround(test_fraction * static_cast<double>(n)));
  Split s;
  for (std::size_t i = 0; i < n; ++i) (i < n_valid ? s.valid : i < n_valid + n_test ? s.test : s.train).push_back(order[i]);
  sort_split(s);
  return s;
}

Split kfold_split(std::size_t n, int k, int fold, std::uint64_t seed) {
  check_folds(k, fold, "kfold_split");
  auto order = permutation(n, seed);
  auto [lo, hi] = fold_range(n, k, fold);
  Split s;
  for (std::size_t i = 0; i < n; ++i) (i >= lo && i < hi ? s.valid : s.train).push_back(order[i]);
  sort_split(s);
  return s;
}

Split nested_kfold_split(std::size_t n, int outer_k, int outer_fold, int inner_k, int inner_fold, std::uint64_t seed) {
  check_folds(outer_k, outer_fold, "nested_kfold_split (outer)");
  check_folds(inner_k, inner_fold, "nested_kfold_split (inner)");
  auto order = permutation(n, seed);
  auto [lo, hi] = fold_range(n, outer_k, outer_fold);
  Split s;
  std::vector<std::size_t> rest;
  for (std::size_t i = 0; i < n; ++i) (i >= lo && i < hi ? s.test : rest).push_back(order[i]);
  auto [vlo, vhi] = fold_range(rest.size(), inner_k, inner_fold);
  for (std::size_t i = 0; i < rest.size(); ++i) (i >= vlo && i < vhi ? s.valid : s.train).push_back(rest[i]);
  sort_split(s);
  return s;
}

void write_split_csv(const std::filesystem::path& path, const std::vector<std::string>& ids, const Split& split) {
  std::vector<const char*> role(ids.size(), nullptr);
  auto mark = [&](const std::vector<std::size_t>& rows, const char* name) {
    for (std::size_t r : rows) {
      GCNN_CHECK(r < ids.size(), "write_split_csv: row {} out of range ({} ids)", r, ids.size());
      GCNN_CHECK(role[r] == nullptr, "write_split_csv: row {} (id {}) is in both {} and {}", r, ids[r], role[r], name);
      role[r] = name;
    }
  };
  mark(split.train, "train");
  mark(split.valid, "valid");
  mark(split.test, "test");
  std::string text = csv_line({"id", "split"});
  for (std::size_t i = 0; i < ids.size(); ++i)
    if (role[i]) text += csv_line({ids[i], role[i]});
  write_file_atomic(path, text);
}

Split read_split_csv(const std::filesystem::path& path, const std::vector<std::string>& ids) {
  CsvTable table = read_csv(path);
  const int id_col = table.require_column("id"), split_col = table.require_column("split");
  std::unordered_map<std::string, std::size_t> row_of;
  for (std::size_t i = 0; i < ids.size(); ++i) row_of.emplace(ids[i], i);
  Split s;
  for (const CsvRow& row : table.rows) {
    const std::string& id = row.fields[static_cast<std::size_t>(id_col)];
    const std::string& name = row.fields[static_cast<std::size_t>(split_col)];
    auto it = row_of.find(id);
    GCNN_CHECK(it != row_of.end(), "{}:{}: id {} is not in the catalog", table.source, row.line, id);
    if (name == "train") s.train.push_back(it->second);
    else if (name == "valid") s.valid.push_back(it->second);
    else if (name == "test") s.test.push_back(it->second);
    else GCNN_FAIL("{}:{}: split '{}' is not train, valid or test", table.source, row.line, name);
  }
  sort_split(s);
  return s;
}

}  // namespace gcnn
