// Training on two targets of the synthetic catalog (oh_p50 and lgm_tot_p50):
// metrics.csv and TrainResult carry RMSE/NMAD for each target, in physical
// units, equal to what the saved model predicts on the validation split; a
// zero loss weight keeps a target's output row untouched by training.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "data/csv.h"
#include "layers/models.h"
#include "layers/safetensors.h"
#include "train/predict.h"
#include "train/trainer.h"

namespace gcnn::train {
namespace {
namespace fs = std::filesystem;

const char* kTwoTargets = R"(name: two
seed: 7
device: cpu
data:
  synthetic: {n: 48, size: 16, seed: 3}
  targets: [oh_p50, lgm_tot_p50]
  image_size: 16
  batch_size: 8
  val_fraction: 0.25
  workers: 1
model:
  preset: plain_cnn
  channels: [4, 8]
  head: {kind: linear}
loss: mse
loss_weights: [1, 0.5]
phases:
  - {epochs: 2, lr: 0.02}
)";

fs::path fresh_dir(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("gcnn_multi_target_test_" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

ExperimentConfig two_targets(const fs::path& runs, std::vector<std::string> sets = {}) {
  sets.push_back("runs_dir=" + runs.string());
  return parse_config(kTwoTargets, "two.yaml", runs, sets);
}

TEST(MultiTarget, MetricsForEveryTargetMatchThePredictionsOfTheModel) {
  const fs::path runs = fresh_dir("metrics");
  TrainOptions quiet;
  quiet.progress = false;
  const TrainResult r = train_experiment(two_targets(runs), quiet);
  ASSERT_EQ(r.target_names, (std::vector<std::string>{"oh_p50", "lgm_tot_p50"}));
  ASSERT_EQ(r.final_val_rmses.size(), 2u);
  EXPECT_EQ(r.final_val_rmse, r.final_val_rmses[0]);
  EXPECT_EQ(r.final_val_nmad, r.final_val_nmads[0]);

  const CsvTable metrics = read_csv(runs / "two" / "metrics.csv");
  EXPECT_EQ(metrics.header,
            (std::vector<std::string>{"epoch", "step", "lr", "momentum", "train_loss", "val_rmse", "val_nmad",
                                      "images_per_s", "seconds", "val_rmse_oh_p50", "val_nmad_oh_p50",
                                      "val_rmse_lgm_tot_p50", "val_nmad_lgm_tot_p50"}));
  ASSERT_EQ(metrics.rows.size(), 2u);
  const auto& last = metrics.rows.back().fields;
  EXPECT_EQ(last[static_cast<std::size_t>(metrics.require_column("val_rmse"))],
            last[static_cast<std::size_t>(metrics.require_column("val_rmse_oh_p50"))]);
  EXPECT_NEAR(std::stod(last[static_cast<std::size_t>(metrics.require_column("val_rmse_lgm_tot_p50"))]),
              r.final_val_rmses[1], 1e-6);
  EXPECT_NEAR(std::stod(last[static_cast<std::size_t>(metrics.require_column("val_nmad_lgm_tot_p50"))]),
              r.final_val_nmads[1], 1e-6);

  // The last checkpoint's predictions on the validation rows give the same RMSE per target.
  PredictOptions o;
  o.checkpoints = {runs / "two" / "last.safetensors"};
  o.catalog = runs / "two" / "synthetic" / "catalog.csv";
  o.images = runs / "two" / "synthetic" / "images";
  o.out = runs / "predictions.csv";
  o.device = "cpu";
  predict(o);
  const CsvTable preds = read_csv(o.out), split = read_csv(runs / "two" / "split.csv");
  std::map<std::string, std::string> role;
  for (const auto& row : split.rows) role[row.fields[0]] = row.fields[1];
  for (std::size_t t = 0; t < 2; ++t) {
    const std::string& name = r.target_names[t];
    const auto truth_col = static_cast<std::size_t>(preds.require_column(name));
    const auto pred_col = static_cast<std::size_t>(preds.require_column("pred_" + name));
    std::vector<float> pred, truth;
    for (const auto& row : preds.rows) {
      if (role[row.fields[0]] != "valid") continue;
      truth.push_back(std::stof(row.fields[truth_col]));
      pred.push_back(std::stof(row.fields[pred_col]));
    }
    ASSERT_EQ(pred.size(), 12u) << name;
    EXPECT_NEAR(rmse(pred, truth), r.final_val_rmses[t], 1e-4) << name;
    EXPECT_NEAR(nmad(pred, truth), r.final_val_nmads[t], 1e-4) << name;
  }
  // Stellar masses (~10 dex, spread ~0.5) and metallicities (~8.9, spread ~0.2) differ in scale.
  EXPECT_NE(r.final_val_rmses[0], r.final_val_rmses[1]);
}

TEST(MultiTarget, AZeroLossWeightLeavesThatTargetsOutputUntrained) {
  const fs::path runs = fresh_dir("zero_weight");
  TrainOptions quiet;
  quiet.progress = false;
  const ExperimentConfig c = two_targets(runs, {"loss_weights=[1, 0]", "optimizer.weight_decay=0"});
  train_experiment(c, quiet);
  auto initial = state_dict(*build_model(c, 2));
  const auto trained = read_safetensors(runs / "two" / "last.safetensors").tensors;
  // The linear head's row 1 (lgm_tot_p50) gets no gradient; row 0 does.
  const std::string weight = "fc.weight", bias = "fc.bias";
  ASSERT_TRUE(trained.count(weight)) << "head tensor names changed";
  const std::vector<float> w0 = initial.at(weight).to_vector(), w1 = trained.at(weight).to_vector();
  const std::size_t features = w0.size() / 2;
  const std::vector<float> row0_before(w0.begin(), w0.begin() + static_cast<std::ptrdiff_t>(features)),
      row0_after(w1.begin(), w1.begin() + static_cast<std::ptrdiff_t>(features)),
      row1_before(w0.begin() + static_cast<std::ptrdiff_t>(features), w0.end()),
      row1_after(w1.begin() + static_cast<std::ptrdiff_t>(features), w1.end());
  EXPECT_EQ(row1_after, row1_before);
  EXPECT_NE(row0_after, row0_before);
  EXPECT_EQ(trained.at(bias).to_vector()[1], initial.at(bias).to_vector()[1]);
}

}  // namespace
}  // namespace gcnn::train
