// A whole training run on the emulated CUDA device: model, loader (with the
// augmentation warp on the device), loss, backward, SGD, validation and
// checkpoints all go through the CUDA backend, and the metrics agree with the
// same run on the CPU (same seed, so same batches, masks and augmentations).
#include <gtest/gtest.h>

#include <filesystem>

#include "data/csv.h"
#include "train/trainer.h"

namespace gcnn::train {
namespace {
namespace fs = std::filesystem;

const char* kTiny = R"(name: tiny
seed: 5
data:
  synthetic: {n: 40, size: 16, seed: 2}
  image_size: 16
  batch_size: 8
  val_fraction: 0.2
  workers: 1
model:
  preset: plain_cnn
  channels: [4]
  head: {kind: fastai, hidden: 8}
loss: mse
phases:
  - {epochs: 2, schedule: one_cycle, lr: 0.02}
)";

TEST(EmulatedCudaTraining, MatchesTheCpuRun) {
  const fs::path runs = fs::temp_directory_path() / "gcnn_emulated_training_test";
  fs::remove_all(runs);
  TrainOptions quiet;
  quiet.progress = false;
  std::vector<CsvTable> metrics;
  for (const char* device : {"cpu", "cuda:0"}) {
    const std::string name = std::string("run_") + (device[0] == 'c' && device[1] == 'p' ? "cpu" : "cuda");
    ExperimentConfig c = parse_config(kTiny, "tiny.yaml", runs,
                                      {"runs_dir=" + runs.string(), "name=" + name, std::string("device=") + device});
    TrainResult r = train_experiment(c, quiet);
    EXPECT_EQ(r.epochs_done, 2);
    EXPECT_TRUE(fs::exists(runs / name / "best.safetensors"));
    metrics.push_back(read_csv(runs / name / "metrics.csv"));
  }
  ASSERT_EQ(metrics[0].rows.size(), 2u);
  ASSERT_EQ(metrics[1].rows.size(), 2u);
  for (std::size_t e = 0; e < 2; ++e) {
    for (int column : {4, 5}) {  // train_loss, val_rmse
      const double cpu = std::stod(metrics[0].rows[e].fields[column]);
      const double cuda = std::stod(metrics[1].rows[e].fields[column]);
      EXPECT_NEAR(cuda, cpu, 1e-3 * std::max(1.0, std::abs(cpu))) << "epoch " << e + 1 << " column " << column;
    }
  }
}

}  // namespace
}  // namespace gcnn::train
