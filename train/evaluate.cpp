// Prediction metrics: RMSE, NMAD, biases, outliers, binned statistics and bootstrap intervals (see evaluate.h).
#include "train/evaluate.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "data/random.h"
#include "kernels/error.h"

namespace gcnn::train {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kNmadScale = 1.4826;

double rmse_of(const std::vector<double>& residuals) {
  double sum = 0;
  for (double r : residuals) sum += r * r;
  return std::sqrt(sum / static_cast<double>(residuals.size()));
}

double nmad_of(const std::vector<double>& residuals) {
  const double m = median_of(residuals);
  std::vector<double> deviations(residuals.size());
  for (std::size_t i = 0; i < residuals.size(); ++i) deviations[i] = std::abs(residuals[i] - m);
  return kNmadScale * median_of(std::move(deviations));
}

std::vector<TrueValueBin> bin_by_truth(const std::vector<double>& pred, const std::vector<double>& truth, int bins) {
  const auto [lo_it, hi_it] = std::minmax_element(truth.begin(), truth.end());
  const double lo = *lo_it, hi = *hi_it, width = (hi - lo) / bins;
  std::vector<TrueValueBin> out(static_cast<std::size_t>(bins));
  std::vector<double> sum_true(out.size()), sum_pred(out.size()), sum_sq(out.size());
  for (std::size_t b = 0; b < out.size(); ++b) {
    out[b].lo = lo + width * static_cast<double>(b);
    out[b].hi = b + 1 == out.size() ? hi : lo + width * static_cast<double>(b + 1);
  }
  for (std::size_t i = 0; i < truth.size(); ++i) {
    const auto b = width > 0 ? std::min(out.size() - 1, static_cast<std::size_t>((truth[i] - lo) / width)) : 0;
    ++out[b].n;
    sum_true[b] += truth[i];
    sum_pred[b] += pred[i];
  }
  for (std::size_t b = 0; b < out.size(); ++b) {
    const auto n = static_cast<double>(out[b].n);
    out[b].mean_true = out[b].n ? sum_true[b] / n : kNaN;
    out[b].mean_pred = out[b].n ? sum_pred[b] / n : kNaN;
  }
  for (std::size_t i = 0; i < truth.size(); ++i) {
    const auto b = width > 0 ? std::min(out.size() - 1, static_cast<std::size_t>((truth[i] - lo) / width)) : 0;
    sum_sq[b] += (pred[i] - out[b].mean_pred) * (pred[i] - out[b].mean_pred);
  }
  for (std::size_t b = 0; b < out.size(); ++b)
    out[b].std_pred = out[b].n ? std::sqrt(sum_sq[b] / static_cast<double>(out[b].n)) : kNaN;
  return out;
}

std::string fixed(double v, int digits = 4) { return std::isfinite(v) ? fmt::format("{:.{}f}", v, digits) : "-"; }

nlohmann::json number(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

}  // namespace

double median_of(std::vector<double> v) {
  GCNN_CHECK(!v.empty(), "median of no values");
  const std::size_t n = v.size();
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(n / 2), v.end());
  const double upper = v[n / 2];
  if (n % 2) return upper;
  return 0.5 * (*std::max_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(n / 2)) + upper);
}

double quantile_of(std::vector<double> v, double q) {
  GCNN_CHECK(!v.empty() && q >= 0 && q <= 1, "quantile {} of {} values", q, v.size());
  std::sort(v.begin(), v.end());
  const double pos = q * static_cast<double>(v.size() - 1);
  const auto i = static_cast<std::size_t>(pos);
  if (i + 1 >= v.size()) return v.back();
  return v[i] + (pos - static_cast<double>(i)) * (v[i + 1] - v[i]);
}

TargetMetrics evaluate_target(const std::string& target, const std::vector<double>& pred,
                              const std::vector<double>& truth, const EvaluateOptions& o) {
  GCNN_CHECK(pred.size() == truth.size(), "evaluate: {} predictions for {} true values", pred.size(), truth.size());
  GCNN_INPUT_CHECK(o.bins >= 1 && o.bins <= 1000, "--bins {}: must be in [1, 1000]", o.bins);
  GCNN_INPUT_CHECK(o.bootstrap >= 0 && o.bootstrap <= 1000000, "--bootstrap {}: must be in [0, 1000000]", o.bootstrap);
  GCNN_INPUT_CHECK(o.confidence > 0 && o.confidence < 1, "--confidence {}: must be in (0, 1)", o.confidence);
  TargetMetrics m;
  m.target = target;
  std::vector<double> p, t, residuals;
  for (std::size_t i = 0; i < pred.size(); ++i) {
    if (!std::isfinite(truth[i])) {
      ++m.without_truth;
      continue;
    }
    p.push_back(pred[i]);
    t.push_back(truth[i]);
    residuals.push_back(pred[i] - truth[i]);
  }
  m.n = residuals.size();
  GCNN_INPUT_CHECK(m.n > 0, "target {}: no row has a true value to evaluate against", target);
  const auto n = static_cast<double>(m.n);
  m.rmse = rmse_of(residuals);
  m.nmad = nmad_of(residuals);
  double sum = 0;
  std::size_t beyond_nmad = 0, beyond_dex = 0;
  for (double r : residuals) {
    sum += r;
    beyond_nmad += std::abs(r) > 3 * m.nmad;
    beyond_dex += std::abs(r) > o.outlier_dex;
  }
  m.mean_bias = sum / n;
  m.median_bias = median_of(residuals);
  m.outliers_3nmad = static_cast<double>(beyond_nmad) / n;
  m.outliers_dex = static_cast<double>(beyond_dex) / n;
  m.bins = bin_by_truth(p, t, o.bins);
  if (o.bootstrap > 0) {
    Rng rng(o.seed);
    std::vector<double> rmses, nmads, sample(m.n);
    for (int b = 0; b < o.bootstrap; ++b) {
      for (double& s : sample) s = residuals[rng.below(m.n)];
      rmses.push_back(rmse_of(sample));
      nmads.push_back(nmad_of(sample));
    }
    const double q_lo = (1 - o.confidence) / 2, q_hi = (1 + o.confidence) / 2;
    m.rmse_ci = {quantile_of(rmses, q_lo), quantile_of(rmses, q_hi)};
    m.nmad_ci = {quantile_of(nmads, q_lo), quantile_of(nmads, q_hi)};
  }
  return m;
}

std::vector<TargetMetrics> evaluate_predictions(const PredictionTable& table, const EvaluateOptions& options) {
  std::vector<TargetMetrics> out;
  for (std::size_t k = 0; k < table.targets.size(); ++k)
    out.push_back(evaluate_target(table.targets[k], table.pred[k], table.truth[k], options));
  return out;
}

std::string metrics_table(const std::vector<TargetMetrics>& metrics, const EvaluateOptions& o) {
  const int pct = static_cast<int>(std::lround(o.confidence * 100));
  std::string s = fmt::format("{:<14} {:>6} {:>8} {:>17} {:>8} {:>17} {:>9} {:>9} {:>7} {:>8}\n", "target", "N", "RMSE",
                              fmt::format("{}% CI", pct), "NMAD", fmt::format("{}% CI", pct), "mean_bias",
                              "med_bias", ">3NMAD", fmt::format(">{}dex", o.outlier_dex));
  auto ci = [](const Interval& i) { return std::isfinite(i.lo) ? fmt::format("[{}, {}]", fixed(i.lo), fixed(i.hi)) : "-"; };
  for (const auto& m : metrics)
    s += fmt::format("{:<14} {:>6} {:>8} {:>17} {:>8} {:>17} {:>9} {:>9} {:>6.1f}% {:>7.1f}%\n", m.target, m.n,
                     fixed(m.rmse), ci(m.rmse_ci), fixed(m.nmad), ci(m.nmad_ci), fixed(m.mean_bias),
                     fixed(m.median_bias), 100 * m.outliers_3nmad, 100 * m.outliers_dex);
  for (const auto& m : metrics) {
    if (m.without_truth) s += fmt::format("{}: {} rows without a true value left out\n", m.target, m.without_truth);
    s += fmt::format("\n{}: prediction per bin of the true value\n{:>17} {:>6} {:>9} {:>9} {:>8}\n", m.target,
                     "true range", "N", "mean_true", "mean_pred", "std_pred");
    for (const auto& b : m.bins)
      s += fmt::format("{:>8}-{:<8} {:>6} {:>9} {:>9} {:>8}\n", fixed(b.lo, 3), fixed(b.hi, 3), b.n, fixed(b.mean_true),
                       fixed(b.mean_pred), fixed(b.std_pred));
  }
  return s;
}

std::string metrics_json(const std::vector<TargetMetrics>& metrics, const EvaluateOptions& o, const std::string& source) {
  nlohmann::json doc;
  doc["predictions"] = source;
  doc["definitions"] = {
      {"residual", "pred - true"},
      {"nmad", "1.4826 * median(|residual - median(residual)|)"},
      {"outliers_3nmad", "fraction with |residual| > 3 nmad"},
      {"outliers_dex", fmt::format("fraction with |residual| > {}", o.outlier_dex)},
      {"intervals", fmt::format("percentile bootstrap, {} resamples, seed {}, confidence {}", o.bootstrap, o.seed,
                                o.confidence)}};
  doc["targets"] = nlohmann::json::array();
  for (const auto& m : metrics) {
    nlohmann::json t = {{"target", m.target},
                        {"n", m.n},
                        {"without_truth", m.without_truth},
                        {"rmse", number(m.rmse)},
                        {"nmad", number(m.nmad)},
                        {"mean_bias", number(m.mean_bias)},
                        {"median_bias", number(m.median_bias)},
                        {"outliers_3nmad", number(m.outliers_3nmad)},
                        {"outliers_dex", number(m.outliers_dex)},
                        {"rmse_ci", {number(m.rmse_ci.lo), number(m.rmse_ci.hi)}},
                        {"nmad_ci", {number(m.nmad_ci.lo), number(m.nmad_ci.hi)}}};
    t["bins"] = nlohmann::json::array();
    for (const auto& b : m.bins)
      t["bins"].push_back({{"lo", b.lo},
                           {"hi", b.hi},
                           {"n", b.n},
                           {"mean_true", number(b.mean_true)},
                           {"mean_pred", number(b.mean_pred)},
                           {"std_pred", number(b.std_pred)}});
    doc["targets"].push_back(std::move(t));
  }
  return doc.dump(2) + "\n";
}

}  // namespace gcnn::train
