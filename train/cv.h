// k-fold cross-validation of an experiment: one training run per fold
// (data.folds = k, data.fold = i, run folder <runs_dir>/<name>-fold<i>), then
// the last epoch's validation metrics of each fold (every val_* column of its
// metrics.csv) with their mean and sample standard deviation (n - 1) over the
// folds. The fold runs stay in place as an ensemble for `gcnn predict
// --checkpoint <fold 0> --checkpoint <fold 1> ...`.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace gcnn::train {

struct CvOptions {
  int folds = 5;
  bool resume = false;     // continue fold runs that have a last.state (finished ones are kept as they are)
  bool overwrite = false;  // replace earlier runs in the fold folders
  bool progress = true;
};

struct CvFold {
  int fold = 0;
  std::filesystem::path run_dir;
  std::vector<double> values;  // per metric name, the last epoch's value
};

struct CvResult {
  std::string name;
  std::vector<std::string> metrics;  // val_rmse, val_nmad, ... (metrics.csv's val_* columns)
  std::vector<CvFold> folds;
  std::vector<double> mean, std;     // per metric, over folds (std with n - 1; 0 for one fold)
  std::filesystem::path json;        // <runs_dir>/<name>-cv.json
};

// The val_* columns of the last row of a run's metrics.csv (names and values);
// an InputError naming the file when it has no finished epoch.
void read_final_metrics(const std::filesystem::path& run_dir, std::vector<std::string>& names,
                        std::vector<double>& values);

// Trains every fold of the experiment in config_file (with --set overrides)
// and writes the summary JSON atomically.
CvResult cross_validate(const std::filesystem::path& config_file, const std::vector<std::string>& overrides,
                        const CvOptions& options);

// The summary as a plain-text table: one line per fold, then mean +- std.
std::string cv_table(const CvResult& result);

}  // namespace gcnn::train
