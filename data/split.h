// Train / validation / test splits of a catalog's rows: a random validation
// (and optional test) fraction, k-fold, and the paper's nested k-fold (outer
// folds for test, inner folds for validation). Deterministic given the seed on
// every platform (own shuffle, data/random.h), and written to the run
// directory as a CSV of id,split.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace gcnn {

struct Split {
  std::vector<std::size_t> train, valid, test;  // row indices, ascending
};

// A random valid_fraction (and test_fraction) of n rows; the rest train.
Split random_split(std::size_t n, double valid_fraction, std::uint64_t seed, double test_fraction = 0);
// Rows in fold `fold` (0-based) of k validate, the others train.
Split kfold_split(std::size_t n, int k, int fold, std::uint64_t seed);
// Nested k-fold: outer fold outer_fold of outer_k is the test set; the rest is
// split into inner_k folds of which inner_fold validates.
Split nested_kfold_split(std::size_t n, int outer_k, int outer_fold, int inner_k, int inner_fold, std::uint64_t seed);

// Writes "id,split" rows (train, valid, test) in catalog order; rows in no set
// are left out.
void write_split_csv(const std::filesystem::path& path, const std::vector<std::string>& ids, const Split& split);
// Reads write_split_csv's file back against the catalog ids (every listed id
// must be in ids; errors name file and line).
Split read_split_csv(const std::filesystem::path& path, const std::vector<std::string>& ids);

}  // namespace gcnn
