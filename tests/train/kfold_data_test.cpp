// data.folds / data.fold: the k runs of a cross-validation validate on
// disjoint folds that together cover every galaxy once, each training on the
// rest, and each run's split.csv says so.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <string>

#include "data/csv.h"
#include "train/config.h"
#include "train/data.h"

namespace gcnn::train {
namespace {
namespace fs = std::filesystem;

const char* kFolds = R"(name: folds
data:
  synthetic: {n: 50, size: 16, seed: 3}
  image_size: 16
  batch_size: 8
  folds: 3
  split_seed: 11
  workers: 0
model: {preset: plain_cnn, channels: [4]}
phases: [{epochs: 1, lr: 0.1}]
)";

TEST(KFoldData, FoldsValidateOnDisjointPartsCoveringTheCatalog) {
  const fs::path root = fs::temp_directory_path() / "gcnn_kfold_data_test";
  fs::remove_all(root);
  std::set<std::string> validated;
  std::size_t total_valid = 0;
  for (int fold = 0; fold < 3; ++fold) {
    const fs::path run = root / std::to_string(fold);
    fs::create_directories(run);
    const ExperimentConfig config =
        parse_config(kFolds, "folds.yaml", root, {"data.fold=" + std::to_string(fold)});
    ExperimentData data(config, run, Device::cpu());
    EXPECT_EQ(data.train_size() + data.val_size(), 50u);
    EXPECT_GE(data.val_size(), 16u);  // 50 rows in 3 folds: 16 or 17 each
    EXPECT_LE(data.val_size(), 17u);
    total_valid += data.val_size();
    const CsvTable split = read_csv(run / "split.csv");
    std::size_t valid_rows = 0;
    for (const auto& row : split.rows)
      if (row.fields.at(1) == "valid") {
        ++valid_rows;
        EXPECT_TRUE(validated.insert(row.fields.at(0)).second) << row.fields.at(0) << " validated twice";
      }
    EXPECT_EQ(valid_rows, data.val_size());
  }
  EXPECT_EQ(total_valid, 50u);
  EXPECT_EQ(validated.size(), 50u);
  fs::remove_all(root);
}

}  // namespace
}  // namespace gcnn::train
