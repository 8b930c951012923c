// gcnn cv on a tiny synthetic experiment: 3 folds train into <name>-fold<i>,
// their validation sets partition the catalog, the summary's mean and std are
// those of the folds' metrics.csv, and the folds predict as an ensemble.
#include "train/cv.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "data/csv.h"
#include "kernels/error.h"
#include "tests/support/tiny_experiment.h"
#include "train/predict.h"

namespace gcnn::train {
namespace {
namespace fs = std::filesystem;


TEST(CrossValidation, ThreeFoldsPartitionTheDataAndFormAnEnsemble) {
  const fs::path dir = test::fresh_experiment_dir("cv_test_three_folds", test::tiny_experiment("tinycv", 30, 4));
  const std::vector<std::string> sets{"runs_dir=" + (dir / "runs").string()};
  CvOptions o;
  o.folds = 3;
  o.progress = false;
  const CvResult r = cross_validate(dir / "tiny.yaml", sets, o);
  ASSERT_EQ(r.folds.size(), 3u);
  ASSERT_EQ(r.metrics, (std::vector<std::string>{"val_rmse", "val_nmad"}));

  std::set<std::string> validated;
  std::size_t validated_rows = 0;
  std::vector<double> rmses;
  for (int i = 0; i < 3; ++i) {
    const fs::path run = dir / "runs" / ("tinycv-fold" + std::to_string(i));
    EXPECT_EQ(r.folds[i].run_dir, run);
    for (const auto& row : read_csv(run / "split.csv").rows)
      if (row.fields[1] == "valid") {
        validated.insert(row.fields[0]);
        ++validated_rows;
      }
    const CsvTable metrics = read_csv(run / "metrics.csv");
    rmses.push_back(std::stod(metrics.rows.back().fields[static_cast<std::size_t>(metrics.require_column("val_rmse"))]));
    EXPECT_NEAR(r.folds[i].values[0], rmses.back(), 1e-12);
  }
  EXPECT_EQ(validated.size(), 30u);
  EXPECT_EQ(validated_rows, 30u) << "every galaxy validates in exactly one fold";
  const double mean = (rmses[0] + rmses[1] + rmses[2]) / 3;
  double var = 0;
  for (double v : rmses) var += (v - mean) * (v - mean) / 2;
  EXPECT_NEAR(r.mean[0], mean, 1e-12);
  EXPECT_NEAR(r.std[0], std::sqrt(var), 1e-12);
  const auto doc = nlohmann::json::parse(std::ifstream(r.json));
  EXPECT_EQ(r.json, dir / "runs" / "tinycv-cv.json");
  EXPECT_NEAR(doc["mean"]["val_rmse"].get<double>(), mean, 1e-12);
  EXPECT_EQ(doc["folds"].size(), 3u);

  PredictOptions p;
  for (const auto& f : r.folds) p.checkpoints.push_back(f.run_dir);
  p.catalog = dir / "runs" / "tinycv-fold0" / "synthetic" / "catalog.csv";
  p.images = dir / "runs" / "tinycv-fold0" / "synthetic" / "images";
  p.device = "cpu";
  p.out = dir / "ensemble.csv";
  const PredictResult e = predict(p);
  EXPECT_EQ(e.members, 3);
  EXPECT_EQ(e.rows, 30u);

  // A second cv into the same folders refuses (nothing is overwritten without --overwrite) ...
  EXPECT_THROW(cross_validate(dir / "tiny.yaml", sets, o), InputError);
  // ... and --resume keeps the finished folds.
  o.resume = true;
  const CvResult again = cross_validate(dir / "tiny.yaml", sets, o);
  EXPECT_EQ(again.mean, r.mean);
  fs::remove_all(dir);
}

TEST(CrossValidation, RefusesFewerThanTwoFolds) {
  CvOptions o;
  o.folds = 1;
  EXPECT_THROW(cross_validate("unused.yaml", {}, o), InputError);
}

}  // namespace
}  // namespace gcnn::train
