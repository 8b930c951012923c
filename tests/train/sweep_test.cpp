// gcnn sweep on a tiny synthetic experiment: one run per size (16 and 2 px)
// with data.degrade set, sweep.csv holding each run's last-epoch metrics,
// sweep.png of the stated size, training statistics of degraded images,
// predict degrading (with TTA) as training did, resume keeping finished sizes;
// a 2-fold cross-validation per size giving mean and std; bad sizes or degrade
// values refused naming the option.
#include "train/sweep.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "data/csv.h"
#include "data/image.h"
#include "data/normalize.h"
#include "kernels/error.h"
#include "layers/safetensors.h"
#include "tests/support/tiny_experiment.h"
#include "train/checkpoint.h"
#include "train/config.h"
#include "train/plot.h"
#include "train/predict.h"

namespace gcnn::train {
namespace {
namespace fs = std::filesystem;

const std::string kTiny = test::tiny_experiment("tinysweep", 30, 5);

fs::path fresh_dir(const std::string& name) { return test::fresh_experiment_dir("sweep_test_" + name, kTiny); }

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}

std::vector<double> predictions_of(const fs::path& run, const fs::path& catalog, const fs::path& images,
                                   const fs::path& out, Tta tta) {
  PredictOptions p;
  p.checkpoints = {run};
  p.catalog = catalog;
  p.images = images;
  p.out = out;
  p.device = "cpu";
  p.tta = tta;
  predict(p);
  return read_predictions(out).pred[0];
}

TEST(ResolutionSweep, OneRunPerSizeThenTableAndFigure) {
  const fs::path dir = fresh_dir("two_sizes");
  const std::vector<std::string> sets{"runs_dir=" + (dir / "runs").string()};
  SweepOptions o;
  o.sizes = {16, 2};
  o.progress = false;
  const SweepResult r = resolution_sweep(dir / "tiny.yaml", sets, o);
  const fs::path sweep_dir = dir / "runs" / "tinysweep";
  ASSERT_EQ(r.dir, sweep_dir);
  ASSERT_EQ(r.metrics, (std::vector<std::string>{"val_rmse", "val_nmad"}));
  ASSERT_EQ(r.points.size(), 2u);

  // sweep.csv: the sizes in order, each with its run's last-epoch metrics.
  const CsvTable table = read_csv(sweep_dir / "sweep.csv");
  ASSERT_EQ(table.header, (std::vector<std::string>{"pixels", "val_rmse", "val_nmad"}));
  ASSERT_EQ(table.rows.size(), 2u);
  for (std::size_t i = 0; i < 2; ++i) {
    const int px = o.sizes[i];
    EXPECT_EQ(table.rows[i].fields[0], std::to_string(px));
    const fs::path run = sweep_dir / ("px" + std::to_string(px));
    const CsvTable metrics = read_csv(run / "metrics.csv");
    const auto& last = metrics.rows.back().fields;
    for (std::size_t m = 0; m < 2; ++m) {
      const double value = std::stod(table.rows[i].fields[1 + m]);
      EXPECT_TRUE(std::isfinite(value));
      EXPECT_GT(value, 0.0);
      EXPECT_NEAR(value, std::stod(last[static_cast<std::size_t>(metrics.require_column(r.metrics[m]))]), 1e-5);
    }
    EXPECT_EQ(load_config(run / "config.yaml").data.degrade, px);
  }

  // The 2 px run trained on degraded images: its stored channel statistics are
  // those of the training split's images area-averaged to 2 px and grown back.
  const fs::path px2 = sweep_dir / "px2";
  const fs::path images = px2 / "synthetic" / "images", catalog = px2 / "synthetic" / "catalog.csv";
  std::vector<std::uint8_t> pixels;
  std::vector<std::size_t> train_rows;
  const fs::path degraded = dir / "degraded";
  fs::create_directories(degraded);
  for (const auto& row : read_csv(px2 / "split.csv").rows) {
    const Image low = prepare_image(read_image(images / (row.fields[0] + ".jpg")), 16, 2, Upsample::nearest);
    { std::ofstream(degraded / (row.fields[0] + ".png"), std::ios::binary) << encode_png(low); }
    if (row.fields[1] != "train") continue;
    train_rows.push_back(train_rows.size());
    pixels.insert(pixels.end(), low.pixels.begin(), low.pixels.end());
  }
  const ChannelStats expected = compute_channel_stats(ImageDataset::from_pixels(16, pixels), train_rows);
  const Safetensors st = read_safetensors(px2 / "last.safetensors");
  const ChannelStats stored = read_normalisation(st.metadata, "px2").channel_stats;
  for (int c = 0; c < 3; ++c) {
    EXPECT_NEAR(stored.mean[c], expected.mean[c], 1e-5) << c;
    EXPECT_NEAR(stored.std[c], expected.std[c], 1e-5) << c;
  }

  // predict degrades as training did (TTA views too): on the original images
  // the 2 px model predicts what it predicts on images degraded beforehand
  // (degrading twice changes nothing at a dividing size), while the 16 px
  // model, which does not degrade, tells the two apart.
  for (Tta tta : {Tta::none, Tta::dihedral}) {
    const auto on_original = predictions_of(px2, catalog, images, dir / "a.csv", tta);
    const auto on_degraded = predictions_of(px2, catalog, degraded, dir / "b.csv", tta);
    ASSERT_EQ(on_original.size(), 30u);
    for (std::size_t i = 0; i < on_original.size(); ++i) EXPECT_NEAR(on_original[i], on_degraded[i], 1e-5) << i;
  }
  const auto full_original = predictions_of(sweep_dir / "px16", catalog, images, dir / "c.csv", Tta::none);
  const auto full_degraded = predictions_of(sweep_dir / "px16", catalog, degraded, dir / "d.csv", Tta::none);
  double differ = 0;
  for (std::size_t i = 0; i < full_original.size(); ++i) differ += std::abs(full_original[i] - full_degraded[i]);
  EXPECT_GT(differ / 30, 1e-4);

  if (plotting_unavailable_reason().empty()) {
    ASSERT_EQ(r.figures, (std::vector<fs::path>{sweep_dir / "sweep.png"}));
    const Image figure = read_image(sweep_dir / "sweep.png");
    EXPECT_EQ(figure.width, 1100);
    EXPECT_EQ(figure.height, 450);
  } else {
    EXPECT_FALSE(r.plot_warning.empty());
  }

  // A second sweep into the same folder refuses; --resume keeps both sizes.
  EXPECT_NE(error_of([&] { resolution_sweep(dir / "tiny.yaml", sets, o); }).find("--resume"), std::string::npos);
  o.resume = true;
  o.plot = false;
  const SweepResult again = resolution_sweep(dir / "tiny.yaml", sets, o);
  ASSERT_EQ(again.points.size(), 2u);
  for (std::size_t i = 0; i < 2; ++i) {
    EXPECT_TRUE(again.points[i].kept);
    EXPECT_EQ(again.points[i].values, r.points[i].values);
  }
  fs::remove_all(dir);
}

// With folds: a 2-fold cross-validation per size; sweep.csv holds the folds'
// mean and sample std (|a - b| / sqrt 2 for two folds) of each metric.
TEST(ResolutionSweep, FoldsGiveMeanAndStd) {
  const fs::path dir = fresh_dir("folds");
  const std::vector<std::string> sets{"runs_dir=" + (dir / "runs").string()};
  SweepOptions o;
  o.sizes = {16, 4};
  o.folds = 2;
  o.progress = false;
  o.plot = false;
  const SweepResult r = resolution_sweep(dir / "tiny.yaml", sets, o);
  const fs::path sweep_dir = dir / "runs" / "tinysweep";
  const CsvTable table = read_csv(sweep_dir / "sweep.csv");
  ASSERT_EQ(table.header, (std::vector<std::string>{"pixels", "val_rmse", "val_rmse_std", "val_nmad", "val_nmad_std"}));
  ASSERT_EQ(table.rows.size(), 2u);
  for (std::size_t i = 0; i < 2; ++i) {
    const std::string px = "px" + std::to_string(o.sizes[i]);
    EXPECT_TRUE(fs::exists(sweep_dir / (px + "-cv.json")));
    for (std::size_t m = 0; m < 2; ++m) {
      double a = 0, b = 0;
      for (int fold = 0; fold < 2; ++fold) {
        const fs::path run = sweep_dir / (px + "-fold" + std::to_string(fold));
        EXPECT_EQ(load_config(run / "config.yaml").data.degrade, o.sizes[i]);
        const CsvTable metrics = read_csv(run / "metrics.csv");
        const double v = std::stod(
            metrics.rows.back().fields[static_cast<std::size_t>(metrics.require_column(r.metrics[m]))]);
        (fold == 0 ? a : b) = v;
      }
      EXPECT_NEAR(std::stod(table.rows[i].fields[1 + 2 * m]), (a + b) / 2, 1e-5);
      EXPECT_NEAR(std::stod(table.rows[i].fields[2 + 2 * m]), std::abs(a - b) / std::sqrt(2.0), 1e-5);
    }
  }
  fs::remove_all(dir);
}

TEST(ResolutionSweep, BadSizesNameTheOption) {
  const fs::path dir = fresh_dir("bad_sizes");
  EXPECT_EQ(parse_sweep_sizes("128, 64,1"), (std::vector<int>{128, 64, 1}));
  EXPECT_NE(error_of([] { parse_sweep_sizes("16,x8"); }).find("--sizes '16,x8': 'x8' is not a whole number"),
            std::string::npos);
  EXPECT_NE(error_of([] { parse_sweep_sizes("16,,8"); }).find("'' is not a whole number"), std::string::npos);
  EXPECT_NE(error_of([] { parse_sweep_sizes("2.5"); }).find("'2.5' is not a whole number"), std::string::npos);
  const std::vector<std::string> sets{"runs_dir=" + (dir / "runs").string()};
  SweepOptions o;
  o.progress = false;
  for (const auto& [sizes, message] : std::vector<std::pair<std::vector<int>, std::string>>{
           {{16, 0}, "--sizes: 0 px is not in [1, 16]"},
           {{32}, "--sizes: 32 px is not in [1, 16] (data.image_size is 16)"},
           {{4, 4}, "--sizes: 4 px is given twice"}}) {
    o.sizes = sizes;
    EXPECT_NE(error_of([&] { resolution_sweep(dir / "tiny.yaml", sets, o); }).find(message), std::string::npos)
        << message;
  }
  EXPECT_FALSE(fs::exists(dir / "runs")) << "nothing trained before the sizes were checked";
  fs::remove_all(dir);
}

TEST(ResolutionSweep, DegradeKeyIsChecked) {
  const fs::path dir = fresh_dir("degrade_key");
  EXPECT_EQ(load_config(dir / "tiny.yaml").data.degrade, 0);
  const ExperimentConfig c = load_config(dir / "tiny.yaml", {"data.degrade=4", "data.degrade_upsample=bilinear"});
  EXPECT_EQ(c.data.degrade, 4);
  EXPECT_EQ(c.data.degrade_upsample, Upsample::bilinear);
  EXPECT_NE(error_of([&] { load_config(dir / "tiny.yaml", {"data.degrade=17"}); })
                .find("--set data.degrade must be in [0, 16]"),
            std::string::npos)
      << error_of([&] { load_config(dir / "tiny.yaml", {"data.degrade=17"}); });
  EXPECT_NE(error_of([&] { load_config(dir / "tiny.yaml", {"data.degrade=-1"}); }).find("data.degrade"),
            std::string::npos);
  EXPECT_NE(error_of([&] { load_config(dir / "tiny.yaml", {"data.degrade=big"}); }).find("data.degrade"),
            std::string::npos);
  EXPECT_NE(error_of([&] { load_config(dir / "tiny.yaml", {"data.degrade_upsample=cubic"}); })
                .find("data.degrade_upsample"),
            std::string::npos);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace gcnn::train
