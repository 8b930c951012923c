// A whole training run on the emulated CUDA device: model, loader (with the
// augmentation warp on the device), loss, backward, SGD, validation and
// checkpoints all go through the CUDA backend, and the metrics agree with the
// same run on the CPU (same seed, so same batches, masks and augmentations);
// and the steps of such a run never make the host wait for the device except
// where the loss is read back (every log_every steps).
#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "data/csv.h"
#include "kernels/cpu/isa.h"
#include "kernels/cuda/emulation/control.h"
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

// train_loss and val_rmse of the 2 epochs of the tiny run on cpu and cuda:0
// in the given precision (runs under a per-test folder).
std::vector<std::vector<double>> cpu_and_cuda_metrics(const std::string& test, const std::string& precision) {
  const fs::path runs = fs::temp_directory_path() / ("gcnn_emulated_training_" + test);
  fs::remove_all(runs);
  TrainOptions quiet;
  quiet.progress = false;
  std::vector<std::vector<double>> out;
  for (const char* device : {"cpu", "cuda:0"}) {
    const std::string name = std::string("run_") + (device[0] == 'c' && device[1] == 'p' ? "cpu" : "cuda");
    ExperimentConfig c = parse_config(kTiny, "tiny.yaml", runs,
                                      {"runs_dir=" + runs.string(), "name=" + name, std::string("device=") + device,
                                       "precision=" + precision});
    TrainResult r = train_experiment(c, quiet);
    EXPECT_EQ(r.epochs_done, 2);
    EXPECT_TRUE(fs::exists(runs / name / "best.safetensors"));
    const CsvTable metrics = read_csv(runs / name / "metrics.csv");
    EXPECT_EQ(metrics.rows.size(), 2u);
    std::vector<double> values;
    for (const auto& row : metrics.rows)
      for (int column : {4, 5}) values.push_back(std::stod(row.fields[column]));  // train_loss, val_rmse
    out.push_back(values);
  }
  fs::remove_all(runs);
  return out;
}

TEST(EmulatedCudaTraining, MatchesTheCpuRun) {
  const auto m = cpu_and_cuda_metrics("fp32", "fp32");
  ASSERT_EQ(m[0].size(), 4u);
  ASSERT_EQ(m[1].size(), 4u);
  for (std::size_t i = 0; i < 4; ++i)
    EXPECT_NEAR(m[1][i], m[0][i], 1e-3 * std::max(1.0, std::abs(m[0][i]))) << "epoch " << i / 2 + 1 << " value " << i;
}

// bf16 on both: oneDNN's bf16 kernels on the CPU, the emulated cuDNN/cuBLAS
// bf16 configurations on the device. The two round differently (the device
// also stores conv outputs in bf16, and sums in another order), so they agree
// to bf16's precision rather than FP32's: each value within 3% (measured: at
// most 1.7%, val_rmse of epoch 2), where this config's fp32 and bf16 CPU runs
// differ by up to 4.7% (train_loss of epoch 2).
TEST(EmulatedCudaTraining, Bf16MatchesTheCpuBf16Run) {
  if (!cpu::onednn_has_bf16())
    GTEST_SKIP() << "the CPU has no bf16 arithmetic (oneDNN ISA \"" << cpu::onednn_isa() << "\")";
  const auto m = cpu_and_cuda_metrics("bf16", "bf16");
  ASSERT_EQ(m[0].size(), 4u);
  ASSERT_EQ(m[1].size(), 4u);
  for (std::size_t i = 0; i < 4; ++i)
    EXPECT_NEAR(m[1][i], m[0][i], 3e-2 * std::abs(m[0][i])) << "epoch " << i / 2 + 1 << " value " << i;
}

// What each training step of an emulated run asked of the runtime: the
// counters' differences between consecutive steps (index: global step).
std::map<std::int64_t, emu::RuntimeCounters> counters_per_step(const std::string& loss, int log_every,
                                                               const std::string& name) {
  const fs::path runs = fs::temp_directory_path() / "gcnn_emulated_training_syncs_test";
  fs::remove_all(runs / name);
  ExperimentConfig c = parse_config(kTiny, "tiny.yaml", runs,
                                    {"runs_dir=" + runs.string(), "name=" + name, "device=cuda:0",
                                     "data.synthetic.n=80", "loss=" + loss, "log_every=" + std::to_string(log_every)});
  std::map<std::int64_t, emu::RuntimeCounters> at_step;
  TrainOptions options;
  options.progress = false;
  options.after_step = [&](std::int64_t step) { at_step[step] = emu::runtime_counters(); };
  train_experiment(c, options);
  std::map<std::int64_t, emu::RuntimeCounters> per_step;
  for (auto it = std::next(at_step.begin()); it != at_step.end(); ++it) {
    const emu::RuntimeCounters& before = std::prev(it)->second;
    per_step[it->first] = {it->second.host_syncs - before.host_syncs,
                           it->second.pageable_copies - before.pageable_copies,
                           it->second.pinned_copies - before.pinned_copies};
  }
  return per_step;
}

TEST(EmulatedCudaTraining, StepsWaitForTheDeviceOnlyToReadTheLoss) {
  const int log_every = 3;
  for (const std::string loss : {"rmse", "huber"}) {
    const auto per_step = counters_per_step(loss, log_every, "syncs_" + loss);
    const std::int64_t steps_per_epoch = 8;  // 64 training images, batch 8
    ASSERT_EQ(per_step.size(), 2u * steps_per_epoch - 1);
    for (const auto& [step, counts] : per_step) {
      // The first step of an epoch follows the previous epoch's validation and checkpoints.
      if ((step - 1) % steps_per_epoch == 0) continue;
      // The loss read back after step - 1 (when it is a multiple of log_every) is one wait and one copy.
      const std::uint64_t reads = (step - 1) % log_every == 0 ? 1 : 0;
      EXPECT_EQ(counts.host_syncs, reads) << loss << ": host waits in step " << step;
      EXPECT_EQ(counts.pageable_copies, reads) << loss << ": pageable copies in step " << step;
      EXPECT_EQ(counts.pinned_copies, 3u) << loss << ": uploads (pixels, warps, targets) in step " << step;
    }
  }
}

}  // namespace
}  // namespace gcnn::train
