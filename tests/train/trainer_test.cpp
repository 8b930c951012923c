// End-to-end training on a tiny synthetic set: a run interrupted after one
// epoch and resumed gives exactly the metrics and weights of an uninterrupted
// run; a loss that blows up stops the run with a clear message and leaves the
// last good checkpoint; predict reproduces the validation metric; lr-find runs.
#include "train/trainer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "data/csv.h"
#include "kernels/cpu/isa.h"
#include "kernels/error.h"
#include "layers/safetensors.h"
#include "train/lr_find.h"
#include "train/predict.h"

namespace gcnn::train {
namespace {
namespace fs = std::filesystem;

const char* kTiny = R"(name: tiny
seed: 5
device: cpu
data:
  synthetic: {n: 48, size: 16, seed: 2}
  image_size: 16
  batch_size: 8
  val_fraction: 0.25
  workers: 2
  dihedral: true
model:
  preset: plain_cnn
  channels: [4, 8]
  head: {kind: fastai, hidden: 8, dropout: [0.25, 0.5]}
loss: mse
phases:
  - {epochs: 1, lr: 0.02, freeze_body: true}
  - {epochs: 2, schedule: one_cycle, lr: 0.02}
)";

fs::path fresh_dir(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("gcnn_trainer_test_" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

ExperimentConfig tiny(const fs::path& runs, const std::string& name, std::vector<std::string> sets = {}) {
  sets.push_back("runs_dir=" + runs.string());
  sets.push_back("name=" + name);
  return parse_config(kTiny, "tiny.yaml", runs, sets);
}

std::string read_text_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// metrics.csv without the timing columns (images_per_s, seconds).
std::vector<std::vector<std::string>> metrics_without_timing(const fs::path& run) {
  CsvTable t = read_csv(run / "metrics.csv");
  std::vector<std::vector<std::string>> rows;
  for (const auto& r : t.rows) rows.emplace_back(r.fields.begin(), r.fields.begin() + 7);
  return rows;
}

// Trains tiny (with sets) whole and interrupted after one epoch then resumed,
// in runs/whole and runs/split, and checks that both end identical.
void expect_resume_matches_uninterrupted(const fs::path& runs, const std::vector<std::string>& sets) {
  TrainOptions quiet;
  quiet.progress = false;
  TrainResult whole = train_experiment(tiny(runs, "whole", sets), quiet);
  EXPECT_EQ(whole.epochs_done, 3);

  TrainOptions first = quiet;
  first.stop_after_epochs = 1;
  TrainResult part = train_experiment(tiny(runs, "split", sets), first);
  EXPECT_EQ(part.epochs_done, 1);
  EXPECT_EQ(metrics_without_timing(runs / "split").size(), 1u);
  TrainOptions resume = quiet;
  resume.resume = true;
  TrainResult rest = train_experiment(tiny(runs, "split", sets), resume);
  EXPECT_EQ(rest.epochs_done, 3);

  EXPECT_EQ(metrics_without_timing(runs / "whole"), metrics_without_timing(runs / "split"));
  auto a = read_safetensors(runs / "whole" / "last.safetensors").tensors;
  auto b = read_safetensors(runs / "split" / "last.safetensors").tensors;
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [name, t] : a) EXPECT_EQ(t.to_vector(), b.at(name).to_vector()) << name;
  EXPECT_TRUE(fs::exists(runs / "whole" / "best.safetensors"));
  EXPECT_TRUE(fs::exists(runs / "whole" / "config.yaml"));
}

TEST(Trainer, ResumeAfterAnInterruptionMatchesAnUninterruptedRun) {
  expect_resume_matches_uninterrupted(fresh_dir("resume"), {});
}

// AdamW's moments and per-parameter step counts (the body was frozen in the
// first phase, so its count lags the head's) survive the interruption.
// precision: auto is fp32 on the CPU, and the run writes what it resolved to
// into config.yaml; a bf16 run (where the CPU has bf16 arithmetic) records
// bf16 and resumes bit-identically, so its arithmetic is deterministic too.
TEST(Trainer, PrecisionIsResolvedRecordedAndResumable) {
  const fs::path runs = fresh_dir("precision");
  TrainOptions quiet;
  quiet.progress = false;
  train_experiment(tiny(runs, "auto", {"phases=[{epochs: 1, lr: 0.02}]"}), quiet);
  EXPECT_NE(read_text_file(runs / "auto" / "config.yaml").find("precision: fp32"), std::string::npos);
  if (!cpu::onednn_has_bf16()) GTEST_SKIP() << "no bf16 arithmetic on this CPU (oneDNN ISA " << cpu::onednn_isa() << ")";
  expect_resume_matches_uninterrupted(runs, {"precision=bf16"});
  EXPECT_NE(read_text_file(runs / "whole" / "config.yaml").find("precision: bf16"), std::string::npos);
  fs::remove_all(runs);
}

TEST(Trainer, AdamWResumeMatchesAnUninterruptedRun) {
  const fs::path runs = fresh_dir("resume_adamw");
  expect_resume_matches_uninterrupted(runs, {"optimizer.kind=adamw", "phases.0.lr=0.003", "phases.1.lr=0.003"});
  const auto state = read_safetensors(runs / "split" / "last.state");
  EXPECT_EQ(state.metadata.at("gcnn.optimizer"), "adamw");
  const auto head = std::find_if(state.tensors.begin(), state.tensors.end(),
                                 [](const auto& entry) { return entry.first.starts_with("step.head."); });
  ASSERT_NE(head, state.tensors.end());
  const float head_steps = head->second.to_vector()[0];
  const float body_steps = state.tensors.at("step.features.0.weight").to_vector()[0];  // the first conv
  EXPECT_GT(head_steps, 0.0f);
  EXPECT_EQ(body_steps, head_steps * 2 / 3);  // frozen for one of the three epochs

  TrainOptions resume;
  resume.progress = false;
  resume.resume = true;
  try {
    train_experiment(tiny(runs, "split"), resume);  // the same run with the default optimizer, SGD
    FAIL() << "expected the resume to be refused";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("holds the state of a adamw optimizer, but the config's optimizer.kind is "
                                         "sgd"),
              std::string::npos)
        << e.what();
  }
}

// A process killed between the end-of-epoch writes leaves last.safetensors of
// epoch 2 beside last.state of epoch 1: the resume must continue from the
// state alone (its own copy of the weights), not mix the two.
TEST(Trainer, ResumeAfterAKillBetweenCheckpointWritesMatchesAnUninterruptedRun) {
  const fs::path runs = fresh_dir("torn_checkpoint");
  TrainOptions quiet;
  quiet.progress = false;
  train_experiment(tiny(runs, "whole"), quiet);

  TrainOptions two = quiet;
  two.stop_after_epochs = 2;
  train_experiment(tiny(runs, "torn"), two);
  const std::string epoch2_weights = read_text_file(runs / "torn" / "last.safetensors");
  fs::remove_all(runs / "torn");
  TrainOptions one = quiet;
  one.stop_after_epochs = 1;
  train_experiment(tiny(runs, "torn"), one);
  write_file_atomic(runs / "torn" / "last.safetensors", epoch2_weights);  // killed before last.state followed

  TrainOptions resume = quiet;
  resume.resume = true;
  EXPECT_EQ(train_experiment(tiny(runs, "torn"), resume).epochs_done, 3);
  EXPECT_EQ(metrics_without_timing(runs / "whole"), metrics_without_timing(runs / "torn"));
  EXPECT_EQ(read_text_file(runs / "whole" / "last.state"), read_text_file(runs / "torn" / "last.state"));
}

TEST(Trainer, NonFiniteLossStopsAndKeepsTheLastGoodCheckpoint) {
  const fs::path runs = fresh_dir("nan");
  TrainOptions quiet;
  quiet.progress = false;
  ExperimentConfig c = tiny(runs, "boom", {"phases.1.lr=1e30", "phases.1.schedule=constant"});
  try {
    train_experiment(c, quiet);
    FAIL() << "expected the run to stop";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("loss became"), std::string::npos) << what;
    EXPECT_NE(what.find("last.safetensors"), std::string::npos) << what;
    EXPECT_NE(what.find("after epoch 1"), std::string::npos) << what;
  }
  EXPECT_EQ(metrics_without_timing(runs / "boom").size(), 1u);
  auto st = read_safetensors(runs / "boom" / "last.state");
  EXPECT_EQ(st.metadata["gcnn.epochs_done"], "1");
  for (const auto& [name, t] : read_safetensors(runs / "boom" / "last.safetensors").tensors)
    for (float v : t.to_vector()) ASSERT_TRUE(std::isfinite(v)) << name;
}

TEST(Trainer, PredictReproducesValidationRmseAndLrFindSuggests) {
  const fs::path runs = fresh_dir("predict");
  TrainOptions quiet;
  quiet.progress = false;
  ExperimentConfig c = tiny(runs, "p", {"phases=[{epochs: 1, lr: 0.02}]"});
  TrainResult r = train_experiment(c, quiet);
  // Predict on the whole synthetic catalog; on its validation rows it must give the run's RMSE.
  PredictOptions o;
  o.checkpoints = {runs / "p"};
  o.catalog = runs / "p" / "synthetic" / "catalog.csv";
  o.images = runs / "p" / "synthetic" / "images";
  o.device = "cpu";
  PredictResult p = predict(o);
  EXPECT_EQ(p.rows, 48u);
  ASSERT_TRUE(p.has_truth);
  CsvTable preds = read_csv(p.out);
  CsvTable split = read_csv(runs / "p" / "split.csv");
  std::map<std::string, std::string> role;
  for (const auto& row : split.rows) role[row.fields[0]] = row.fields[1];
  std::vector<float> pred, truth;
  for (const auto& row : preds.rows) {
    if (role[row.fields[0]] != "valid") continue;
    truth.push_back(std::stof(row.fields[1]));
    pred.push_back(std::stof(row.fields[2]));
  }
  ASSERT_FALSE(pred.empty());
  EXPECT_NEAR(rmse(pred, truth), r.final_val_rmse, 1e-4);

  LrFindOptions lo;
  lo.steps = 20;
  LrFindResult f = lr_find(c, lo);
  EXPECT_GE(f.lrs.size(), 3u);
  EXPECT_GT(f.suggested_lr, 0);
  EXPECT_TRUE(fs::exists(f.csv));
}

TEST(Trainer, MetricsHelpers) {
  EXPECT_NEAR(rmse({1, 2, 3}, {1, 2, 5}), std::sqrt(4.0 / 3.0), 1e-12);
  // residuals 0, 0, 1, 3: median 0.5, |d - 0.5| = 0.5, 0.5, 0.5, 2.5 -> median 0.5
  EXPECT_NEAR(nmad({0, 0, 1, 3}, {0, 0, 0, 0}), 1.4826 * 0.5, 1e-12);
  EXPECT_NEAR(suggest_lr({1e-3, 1e-2, 1e-1, 1}, {1.0, 0.9, 0.5, 2.0}), 1e-2, 1e-12);
}

}  // namespace
}  // namespace gcnn::train
