// gcnn plot's figures: every PNG the script promises is written, starts with
// the PNG signature and decodes (with the engine's image reader) to its stated
// pixel size; a malformed CSV fails naming file and line. Skipped, with the
// reason, where /usr/bin/python3 lacks matplotlib.
#include "train/plot.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>

#include "data/image.h"
#include "kernels/error.h"

namespace gcnn::train {
namespace {
namespace fs = std::filesystem;

fs::path fresh_dir(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("gcnn_plot_test_" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

void write(const fs::path& path, const std::string& text) { std::ofstream(path) << text; }

// A run folder with 6 epochs of metrics, an LR sweep and 200 predictions.
fs::path make_run(const std::string& name) {
  const fs::path run = fresh_dir(name);
  std::string metrics = "epoch,step,lr,momentum,train_loss,val_rmse,val_nmad,images_per_s,seconds\n";
  for (int e = 1; e <= 6; ++e)
    metrics += fmt::format("{},{},{},{},{},{},{},100,1\n", e, 10 * e, 0.01 / e, 0.85 + 0.01 * e, 1.0 / e,
                           0.2 / std::sqrt(e), 0.15 / std::sqrt(e));
  write(run / "metrics.csv", metrics);
  std::string sweep = "lr,loss,smoothed_loss\n";
  for (int i = 0; i < 50; ++i) {
    const double lr = 1e-6 * std::pow(10.0, i / 8.0), x = std::log10(lr) + 2.5;
    sweep += fmt::format("{},{},{}\n", lr, 1 + x * x + 0.1 * std::sin(i), 1 + x * x);
  }
  write(run / "lr_find.csv", sweep);
  std::string preds = "objID,oh_p50,pred_oh_p50,std_oh_p50\n";
  for (int i = 0; i < 200; ++i) {
    const double truth = 8.3 + 0.6 * ((i * 37) % 200) / 200.0;
    preds += fmt::format("{},{:.6f},{:.6f},0.01\n", i, truth, 8.75 + 0.6 * (truth - 8.6) + 0.05 * std::sin(i));
  }
  write(run / "predictions.csv", preds);
  return run;
}

class PlotTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (const std::string why = plotting_unavailable_reason(); !why.empty()) GTEST_SKIP() << why;
  }
};

TEST_F(PlotTest, RunFiguresArePngsOfTheStatedSize) {
  const fs::path run = make_run("run");
  const fs::path out = run / "figures";
  const std::vector<fs::path> files = plot_run(run, out);
  const std::map<std::string, std::pair<int, int>> expected{{"training_curves.png", {1000, 700}},
                                                            {"lr_find.png", {700, 450}},
                                                            {"pred_vs_true_oh_p50.png", {700, 700}},
                                                            {"residuals_oh_p50.png", {700, 450}}};
  ASSERT_EQ(files.size(), expected.size());
  for (const auto& f : files) {
    ASSERT_TRUE(expected.count(f.filename().string())) << f;
    ASSERT_EQ(f.parent_path(), out);
    std::ifstream in(f, std::ios::binary);
    std::string signature(8, '\0');
    in.read(signature.data(), 8);
    EXPECT_EQ(signature, std::string("\x89PNG\r\n\x1a\n", 8)) << f;
    const Image image = read_image(f);
    EXPECT_EQ(image.width, expected.at(f.filename().string()).first) << f;
    EXPECT_EQ(image.height, expected.at(f.filename().string()).second) << f;
    int non_white = 0;
    for (std::uint8_t p : image.pixels) non_white += p < 250;
    EXPECT_GT(non_white, 1000) << f << " looks blank";
  }
}

TEST_F(PlotTest, CurvesOnlyAndPredictionsAlone) {
  const fs::path run = make_run("alone");
  const auto curves = plot_run(run, {}, true);
  ASSERT_EQ(curves.size(), 1u);
  EXPECT_EQ(curves[0], run / "training_curves.png");
  const auto figures = plot_predictions(run / "predictions.csv", run / "p");
  ASSERT_EQ(figures.size(), 2u);
  EXPECT_EQ(read_image(figures[0]).width, 700);
}

// With stellar mass and metallicity both predicted, the mass-metallicity
// relation is drawn too (catalog beside predictions).
TEST_F(PlotTest, MassAndMetallicityGiveTheMassMetallicityRelation) {
  const fs::path dir = fresh_dir("mass_metallicity");
  std::string preds = "objID,oh_p50,lgm_tot_p50,pred_oh_p50,pred_lgm_tot_p50,std_oh_p50,std_lgm_tot_p50\n";
  for (int i = 0; i < 300; ++i) {
    const double mass = 8.5 + 3.0 * ((i * 53) % 300) / 300.0;
    const double oh = 9.1 - 0.5 * std::exp(-(mass - 8.5)) + 0.03 * std::sin(i);
    preds += fmt::format("{},{:.6f},{:.6f},{:.6f},{:.6f},0.01,0.02\n", i, oh, mass, 8.9 + 0.6 * (oh - 8.9),
                         mass + 0.2 * std::cos(i));
  }
  write(dir / "predictions.csv", preds);
  const auto figures = plot_predictions(dir / "predictions.csv", dir / "p");
  ASSERT_EQ(figures.size(), 5u);  // two per target, then the relation
  EXPECT_EQ(figures.back(), dir / "p" / "mass_metallicity.png");
  const Image image = read_image(figures.back());
  EXPECT_EQ(image.width, 1100);
  EXPECT_EQ(image.height, 450);
}

TEST_F(PlotTest, AMalformedCsvNamesFileAndLine) {
  const fs::path run = make_run("malformed");
  write(run / "metrics.csv",
        "epoch,step,lr,momentum,train_loss,val_rmse,val_nmad,images_per_s,seconds\n1,1,0.1,0.9,oops,0.2,0.1,1,1\n");
  try {
    plot_run(run, {}, true);
    FAIL() << "expected an error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("metrics.csv:2: column 'train_loss': 'oops' is not a number"),
              std::string::npos)
        << e.what();
  }
  EXPECT_FALSE(fs::exists(run / "training_curves.png"));
}

TEST_F(PlotTest, SweepFolderDrawsResolutionFigure) {
  const fs::path run = fresh_dir("sweep");
  write(run / "sweep.csv",
        "pixels,val_rmse,val_rmse_std,val_nmad,val_nmad_std\n64,0.09,0.01,0.07,0.005\n8,0.12,0.02,0.09,0.01\n"
        "1,0.16,0.01,0.12,0.01\n");
  const auto files = plot_run(run, {});
  ASSERT_EQ(files, (std::vector<fs::path>{run / "sweep.png"}));
  const Image image = read_image(files[0]);
  EXPECT_EQ(image.width, 1100);
  EXPECT_EQ(image.height, 450);
  int non_white = 0;
  for (std::uint8_t p : image.pixels) non_white += p < 250;
  EXPECT_GT(non_white, 1000) << "sweep.png looks blank";
  write(run / "sweep.csv", "pixels,val_rmse,val_nmad\n64,0.09,0.07\n8,inf,0.09\n");
  try {
    plot_run(run, {});
    FAIL() << "expected an error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("sweep.csv:3: column 'val_rmse': 'inf' is not finite"), std::string::npos)
        << e.what();
  }
}

TEST(PlotScript, AMissingScriptIsNamed) {
  ::setenv("GCNN_PLOT_SCRIPT", "/nonexistent/gcnn_plot.py", 1);
  const std::string why = plotting_unavailable_reason();
  ::unsetenv("GCNN_PLOT_SCRIPT");
  EXPECT_NE(why.find("the figure script /nonexistent/gcnn_plot.py is missing"), std::string::npos) << why;
}

}  // namespace
}  // namespace gcnn::train
