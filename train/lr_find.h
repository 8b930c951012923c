// Learning-rate finder (Smith 2015, fastai's lr_find): trains a fresh copy of
// the configured model for up to `steps` steps while the learning rate grows
// exponentially from min_lr to max_lr, records the exponentially smoothed
// loss, stops when it exceeds 4x its minimum or becomes non-finite, and
// suggests a tenth of the rate where the smoothed loss was lowest (fastai's
// rule of thumb; the steepest-slope point proved too noisy on small sets).
#pragma once

#include <filesystem>
#include <vector>

#include "train/config.h"

namespace gcnn::train {

struct LrFindOptions {
  double min_lr = 1e-7;
  double max_lr = 10.0;
  int steps = 200;
  double smoothing = 0.98;
};

struct LrFindResult {
  std::vector<double> lrs, losses, smoothed;
  double suggested_lr = 0;
  std::filesystem::path csv;  // <run dir>/lr_find.csv
};

LrFindResult lr_find(const ExperimentConfig& config, const LrFindOptions& options);

// The suggestion from a finished sweep: lr at the minimum smoothed loss / 10.
double suggest_lr(const std::vector<double>& lrs, const std::vector<double>& smoothed);

}  // namespace gcnn::train
