// The resolution sweep of Wu & Boada (2019): the same experiment trained at
// several image resolutions, each image area-averaged to N x N px and grown
// back to data.image_size (data.degrade = N), so the network and the recipe
// stay the same and only the information in the images drops. One run per
// size in <runs_dir>/<name>/px<N>/ (or, with folds, a k-fold cross-validation
// per size: px<N>-fold<i>/ and px<N>-cv.json), then <runs_dir>/<name>/sweep.csv
// (pixels and the last epoch's validation metrics; with folds their mean and
// sample standard deviation) and sweep.png.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace gcnn::train {

struct SweepOptions {
  std::vector<int> sizes;  // pixels per side; empty: data.image_size, halved down to 1
  int folds = 0;           // 0: one run per size; k >= 2: k-fold cross-validation per size
  bool resume = false;     // keep finished sizes, continue unfinished ones
  bool overwrite = false;  // replace earlier runs of the sweep
  bool progress = true;
  bool plot = true;        // draw sweep.png (a warning, not an error, without matplotlib)
};

struct SweepPoint {
  int pixels = 0;
  std::vector<double> values;  // per metric: the run's last epoch, or the folds' mean
  std::vector<double> stds;    // with folds: per metric, the sample std over folds (n - 1)
  bool kept = false;           // finished earlier and kept (--resume)
  double seconds = 0;          // wall time of this call's training at this size
};

struct SweepResult {
  std::string name;
  std::filesystem::path dir;         // <runs_dir>/<name>
  int folds = 0;
  std::vector<std::string> metrics;  // val_rmse, val_nmad, ... (metrics.csv's val_* columns)
  std::vector<SweepPoint> points;    // in the order of the sizes
  std::filesystem::path csv;         // dir / sweep.csv
  std::vector<std::filesystem::path> figures;  // sweep.png when drawn
  std::string plot_warning;          // why sweep.png was not drawn
};

// "128,64,32": the sizes of --sizes, each a whole number; an InputError naming
// --sizes and the bad item otherwise (ranges are checked by resolution_sweep).
std::vector<int> parse_sweep_sizes(const std::string& text);

// Trains the experiment of config_file (with --set overrides) at every size and
// writes sweep.csv atomically, then sweep.png. Sizes must be in
// [1, data.image_size] and distinct.
SweepResult resolution_sweep(const std::filesystem::path& config_file, const std::vector<std::string>& overrides,
                             const SweepOptions& options);

// The table of a sweep: one line per size.
std::string sweep_table(const SweepResult& result);

}  // namespace gcnn::train
