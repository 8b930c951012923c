// Prediction metrics against values computed by hand: RMSE, NMAD, biases,
// outlier fractions, bins of the true value (one empty), rows without truth,
// bootstrap intervals with a fixed seed, and the JSON document.
#include "train/evaluate.h"

#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "data/random.h"
#include "kernels/error.h"

namespace gcnn::train {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Residuals 0.1, -0.1, 0, 0.05, 0.35, -0.25 on true values 8.0 .. 8.6, plus one row without a true value.
const std::vector<double> kTruth{8.0, 8.1, 8.2, 8.4, 8.5, 8.6, kNaN};
const std::vector<double> kPred{8.1, 8.0, 8.2, 8.45, 8.85, 8.35, 9.0};

TEST(Evaluate, MetricsMatchHandComputedValues) {
  EvaluateOptions o;
  o.bins = 5;
  o.bootstrap = 0;
  const TargetMetrics m = evaluate_target("oh_p50", kPred, kTruth, o);
  EXPECT_EQ(m.n, 6u);
  EXPECT_EQ(m.without_truth, 1u);
  // squares 0.01 + 0.01 + 0 + 0.0025 + 0.1225 + 0.0625 = 0.2075
  EXPECT_NEAR(m.rmse, std::sqrt(0.2075 / 6), 1e-12);
  // sorted residuals -0.25 -0.1 0 0.05 0.1 0.35: median 0.025; |r - 0.025| sorted
  // 0.025 0.025 0.075 0.125 0.275 0.325: median 0.1
  EXPECT_NEAR(m.median_bias, 0.025, 1e-12);
  EXPECT_NEAR(m.nmad, 1.4826 * 0.1, 1e-12);
  EXPECT_NEAR(m.mean_bias, 0.15 / 6, 1e-12);
  EXPECT_DOUBLE_EQ(m.outliers_3nmad, 0.0);      // 3 NMAD = 0.445: none beyond
  EXPECT_DOUBLE_EQ(m.outliers_dex, 1.0 / 6.0);  // 0.35 > 0.3
  EXPECT_TRUE(std::isnan(m.rmse_ci.lo));

  // 5 bins of width 0.12 over [8.0, 8.6]: {8.0, 8.1}, {8.2}, {}, {8.4}, {8.5, 8.6 (closed end)}
  ASSERT_EQ(m.bins.size(), 5u);
  const std::vector<std::size_t> counts{2, 1, 0, 1, 2};
  for (std::size_t b = 0; b < 5; ++b) {
    EXPECT_EQ(m.bins[b].n, counts[b]) << b;
    EXPECT_NEAR(m.bins[b].lo, 8.0 + 0.12 * static_cast<double>(b), 1e-12) << b;
  }
  EXPECT_DOUBLE_EQ(m.bins[4].hi, 8.6);
  EXPECT_NEAR(m.bins[0].mean_true, 8.05, 1e-12);
  EXPECT_NEAR(m.bins[0].mean_pred, 8.05, 1e-12);
  EXPECT_NEAR(m.bins[0].std_pred, 0.05, 1e-12);
  EXPECT_TRUE(std::isnan(m.bins[2].mean_pred));
  EXPECT_NEAR(m.bins[4].mean_pred, (8.85 + 8.35) / 2, 1e-12);
  EXPECT_NEAR(m.bins[4].std_pred, 0.25, 1e-12);
}

TEST(Evaluate, BootstrapIntervalsArePercentilesOfSeededResamples) {
  EvaluateOptions o;
  o.bootstrap = 41;  // quantiles 0.025 and 0.975 fall on order statistics 1 and 39
  o.seed = 7;
  const TargetMetrics m = evaluate_target("oh_p50", kPred, kTruth, o);
  const std::vector<double> residuals{0.1, -0.1, 0.0, 0.05, 0.35, -0.25};
  Rng rng(7);
  std::vector<double> rmses, nmads;
  for (int b = 0; b < 41; ++b) {
    std::vector<double> s;
    for (int i = 0; i < 6; ++i) s.push_back(residuals[rng.below(6)]);
    double sq = 0;
    for (double r : s) sq += r * r;
    rmses.push_back(std::sqrt(sq / 6));
    std::vector<double> sorted = s;
    std::sort(sorted.begin(), sorted.end());
    const double med = (sorted[2] + sorted[3]) / 2;
    std::vector<double> dev;
    for (double r : s) dev.push_back(std::abs(r - med));
    std::sort(dev.begin(), dev.end());
    nmads.push_back(1.4826 * (dev[2] + dev[3]) / 2);
  }
  std::sort(rmses.begin(), rmses.end());
  std::sort(nmads.begin(), nmads.end());
  EXPECT_NEAR(m.rmse_ci.lo, rmses[1], 1e-12);
  EXPECT_NEAR(m.rmse_ci.hi, rmses[39], 1e-12);
  EXPECT_NEAR(m.nmad_ci.lo, nmads[1], 1e-12);
  EXPECT_NEAR(m.nmad_ci.hi, nmads[39], 1e-12);
  EXPECT_LT(m.rmse_ci.lo, m.rmse_ci.hi);

  // A constant residual: every resample is the same, the interval a point.
  const TargetMetrics c = evaluate_target("x", {1.2, 2.2, 3.2, 4.2}, {1, 2, 3, 4}, o);
  EXPECT_NEAR(c.rmse_ci.lo, 0.2, 1e-12);
  EXPECT_NEAR(c.rmse_ci.hi, 0.2, 1e-12);
  EXPECT_NEAR(c.nmad_ci.hi, 0.0, 1e-12);
}

TEST(Evaluate, QuantilesInterpolateBetweenOrderStatistics) {
  EXPECT_DOUBLE_EQ(quantile_of({4, 1, 3, 2}, 0.5), 2.5);
  EXPECT_DOUBLE_EQ(quantile_of({4, 1, 3, 2}, 0.25), 1.75);
  EXPECT_DOUBLE_EQ(quantile_of({4, 1, 3, 2}, 1.0), 4.0);
  EXPECT_DOUBLE_EQ(median_of({5, 1, 3}), 3.0);
  EXPECT_DOUBLE_EQ(median_of({5, 1, 3, 2}), 2.5);
}

TEST(Evaluate, JsonAndTableCarryTheNumbers) {
  PredictionTable t;
  t.id_column = "objID";
  t.targets = {"oh_p50"};
  t.truth = {kTruth};
  t.pred = {kPred};
  EvaluateOptions o;
  o.bins = 5;
  o.bootstrap = 10;
  const auto metrics = evaluate_predictions(t, o);
  const auto doc = nlohmann::json::parse(metrics_json(metrics, o, "p.csv"));
  EXPECT_EQ(doc["predictions"], "p.csv");
  const auto& m = doc["targets"][0];
  EXPECT_EQ(m["target"], "oh_p50");
  EXPECT_EQ(m["n"], 6);
  EXPECT_EQ(m["without_truth"], 1);
  EXPECT_NEAR(m["nmad"].get<double>(), 1.4826 * 0.1, 1e-12);
  EXPECT_TRUE(m["bins"][2]["mean_pred"].is_null());
  EXPECT_EQ(m["bins"][4]["n"], 2);
  const std::string table = metrics_table(metrics, o);
  EXPECT_NE(table.find("oh_p50: 1 rows without a true value left out"), std::string::npos) << table;
  EXPECT_NE(table.find("0.1483"), std::string::npos) << table;
}

TEST(Evaluate, RefusesATargetWithoutTrueValuesAndBadOptions) {
  EXPECT_THROW(evaluate_target("oh_p50", {8.0}, {kNaN}, {}), InputError);
  EvaluateOptions o;
  o.bins = 0;
  EXPECT_THROW(evaluate_target("oh_p50", {8.0}, {8.0}, o), InputError);
}

}  // namespace
}  // namespace gcnn::train
