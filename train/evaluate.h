// Metrics of predictions against true values, per target, as a paper reports
// them. With residuals r_i = pred_i - true_i over the rows that have a true value:
//   RMSE          sqrt(mean r_i^2)
//   NMAD          1.4826 * median |r_i - median r|   (the normalised median absolute deviation)
//   mean bias     mean r_i;  median bias  median r_i
//   outliers      fraction of rows with |r_i| > 3 NMAD, and with |r_i| > outlier_dex (0.3 dex)
//   bins          the true values' range cut into `bins` equal-width bins (the last one closed);
//                 per bin the count, mean true value, mean and population std of the prediction
//   intervals     percentile bootstrap: `bootstrap` resamples of the n rows drawn with
//                 replacement (index = Rng(seed).below(n), n draws per resample, the same stream
//                 for every target), RMSE and NMAD of each, and the (1 -+ confidence) / 2
//                 quantiles of those values, linearly interpolated between order statistics
// Medians of an even count are the mean of the two middle values.
#pragma once

#include <cstdint>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include "train/predict.h"

namespace gcnn::train {

struct EvaluateOptions {
  int bins = 10;
  int bootstrap = 1000;        // resamples; 0: no intervals
  std::uint64_t seed = 0;
  double confidence = 0.95;
  double outlier_dex = 0.3;
};

struct Interval {
  double lo = std::numeric_limits<double>::quiet_NaN();
  double hi = std::numeric_limits<double>::quiet_NaN();
};

struct TrueValueBin {
  double lo = 0, hi = 0;
  std::size_t n = 0;
  double mean_true = 0, mean_pred = 0, std_pred = 0;  // NaN when n == 0
};

struct TargetMetrics {
  std::string target;
  std::size_t n = 0;               // rows with a true value
  std::size_t without_truth = 0;   // rows left out for lack of one
  double rmse = 0, nmad = 0, mean_bias = 0, median_bias = 0;
  double outliers_3nmad = 0, outliers_dex = 0;  // fractions in [0, 1]
  Interval rmse_ci, nmad_ci;
  std::vector<TrueValueBin> bins;
};

// Metrics of one target; rows whose truth is NaN are counted in without_truth
// and left out. Throws an InputError when no row has a true value.
TargetMetrics evaluate_target(const std::string& target, const std::vector<double>& pred,
                              const std::vector<double>& truth, const EvaluateOptions& options);
std::vector<TargetMetrics> evaluate_predictions(const PredictionTable& table, const EvaluateOptions& options);

// A plain-text table (one line per target, then the bins) and a JSON document
// of the same numbers (NaN as null).
std::string metrics_table(const std::vector<TargetMetrics>& metrics, const EvaluateOptions& options);
std::string metrics_json(const std::vector<TargetMetrics>& metrics, const EvaluateOptions& options,
                         const std::string& source);

double median_of(std::vector<double> values);
// Quantile q in [0, 1] of values, linear between order statistics (numpy's default).
double quantile_of(std::vector<double> values, double q);

}  // namespace gcnn::train
