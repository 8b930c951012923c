// Data-parallel training on 2 ranks (run under mpirun -np 2): with sync_bn, 2
// ranks x batch 16 end with the parameters of 1 process x batch 32; without
// it they do not (per-rank statistics); the emulated CUDA backend's 2-rank run,
// whose gradients go through the NCCL communicator (served by the emulation's
// NCCL stand-in), matches the CPU's; all-reduces overlapped with backward give
// bit-identical parameters to all-reduces after it, on both backends; the
// parameter checksum names a rank that diverged; a resume with another world
// size is refused naming both sizes.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "data/csv.h"
#include "kernels/cuda/emulation/control.h"
#include "kernels/error.h"
#include "layers/safetensors.h"
#include "tests/mpi/data_parallel_test.h"
#include "train/distributed.h"
#include "train/trainer.h"

namespace gcnn::train {
namespace {
namespace fs = std::filesystem;

// 96 training images: 3 global batches of 32 per epoch, 2 epochs; dihedral
// augmentation drawn per (seed, epoch, row), so sharding does not change it;
// no dropout (its masks are drawn per rank).
const char* kTiny = R"(name: tiny
seed: 7
device: cpu
data:
  synthetic: {n: 120, size: 16, seed: 3}
  image_size: 16
  val_fraction: 0.2
  workers: 1
  dihedral: true
model:
  preset: plain_cnn
  channels: [4, 8]
  head: {kind: fastai, hidden: 8, dropout: [0, 0]}
loss: mse
phases:
  - {epochs: 2, schedule: one_cycle, lr: 0.05}
)";

Communicator& job() { return *test::job_communicator; }

// A folder every rank sees, emptied by rank 0 before any rank uses it.
fs::path shared_dir(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("gcnn_data_parallel_test_" + name);
  if (job().rank() == 0) {
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  job().barrier();
  return dir;
}

ExperimentConfig tiny(const fs::path& runs, const std::string& name, std::vector<std::string> sets) {
  sets.push_back("runs_dir=" + runs.string());
  sets.push_back("name=" + name);
  return parse_config(kTiny, "tiny.yaml", runs, sets);
}

TrainResult train(const ExperimentConfig& config, Communicator* comm) {
  TrainOptions options;
  options.progress = false;
  options.communicator = comm;
  return train_experiment(config, options);
}

// The largest |a - b| / (1 + |b|) over every value of every tensor of b's
// checkpoint (parameters and BN running statistics), which a must have too.
double max_difference(const fs::path& a_path, const fs::path& b_path) {
  const Safetensors a = read_safetensors(a_path), b = read_safetensors(b_path);
  EXPECT_EQ(a.tensors.size(), b.tensors.size());
  double worst = 0;
  for (const auto& [name, tb] : b.tensors) {
    const auto it = a.tensors.find(name);
    if (it == a.tensors.end()) {
      ADD_FAILURE() << name << " missing from " << a_path;
      continue;
    }
    const std::vector<float> va = it->second.to_vector(), vb = tb.to_vector();
    EXPECT_EQ(va.size(), vb.size()) << name;
    for (std::size_t i = 0; i < std::min(va.size(), vb.size()); ++i)
      worst = std::max(worst, std::abs(static_cast<double>(va[i]) - vb[i]) / (1.0 + std::abs(vb[i])));
  }
  return worst;
}

// Parameters after 6 steps of 2 ranks x 16 (sync_bn as given) against 1 process x 32.
double two_ranks_against_one(const std::string& name, bool sync_bn) {
  const fs::path runs = shared_dir(name);
  const std::string sync = std::string("distributed.sync_bn=") + (sync_bn ? "true" : "false");
  TrainResult r = train(tiny(runs, "two_ranks", {"data.batch_size=16", sync, "distributed.check_params=true"}), &job());
  EXPECT_EQ(r.epochs_done, 2);
  double difference = -1;
  if (job().rank() == 0) {
    train(tiny(runs, "one_rank", {"data.batch_size=32"}), nullptr);
    difference = max_difference(runs / "two_ranks" / "last.safetensors", runs / "one_rank" / "last.safetensors");
    std::printf("2 ranks x 16 (sync_bn %s) against 1 x 32: max |a - b| / (1 + |b|) = %.3g\n", sync_bn ? "on" : "off",
                difference);
    const CsvTable two = read_csv(runs / "two_ranks" / "metrics.csv");
    const CsvTable one = read_csv(runs / "one_rank" / "metrics.csv");
    EXPECT_EQ(two.rows.size(), 2u);
    EXPECT_EQ(one.rows.size(), 2u);
    for (std::size_t e = 0; e < std::min(two.rows.size(), one.rows.size()); ++e)
      EXPECT_EQ(two.rows[e].fields[1], one.rows[e].fields[1]) << "global steps of epoch " << e + 1;
  }
  job().barrier();
  return difference;
}

// Tolerance 1e-4 (relative, per value): the runs differ only in summation
// order (per-rank sums combined by the all-reduce, BN statistics combined from
// per-rank means and variances), ~1e-7 relative per operation, grown over 6
// steps; per-rank BN statistics instead change the parameters by ~1e-2.
constexpr double kTolerance = 1e-4;

TEST(DataParallel, TwoRanksWithSyncBnMatchOneProcessWithTheGlobalBatch) {
  ASSERT_EQ(job().world_size(), 2) << "run under mpirun -np 2";
  const double difference = two_ranks_against_one("sync_bn", true);
  if (job().rank() == 0) {
    EXPECT_LE(difference, kTolerance);
  }
}

TEST(DataParallel, PerRankBatchNormStatisticsDifferFromTheGlobalBatch) {
  ASSERT_EQ(job().world_size(), 2) << "run under mpirun -np 2";
  const double difference = two_ranks_against_one("per_rank_bn", false);
  if (job().rank() == 0) {
    EXPECT_GT(difference, 10 * kTolerance);
  }
}

TEST(DataParallel, EmulatedCudaRunMatchesTheCpuRun) {
  ASSERT_EQ(job().world_size(), 2) << "run under mpirun -np 2";
  const fs::path runs = shared_dir("emulated_cuda");
  for (const char* device : {"cpu", "cuda:0"}) {
    const std::string name = device[1] == 'p' ? "cpu" : "cuda";
    const std::uint64_t nccl_before = emu::nccl_all_reduce_count();
    TrainResult r = train(tiny(runs, name,
                               {"data.batch_size=16", "distributed.sync_bn=true", std::string("device=") + device,
                                "phases=[{epochs: 1, schedule: one_cycle, lr: 0.05}]"}),
                          &job());
    EXPECT_EQ(r.epochs_done, 1);
    // 3 steps, each all-reducing every parameter tensor through NCCL on CUDA, never on the CPU.
    const std::uint64_t nccl_calls = emu::nccl_all_reduce_count() - nccl_before;
    if (name == "cpu") {
      EXPECT_EQ(nccl_calls, 0u);
    } else {
      EXPECT_EQ(nccl_calls, 3 * named_parameters(*build_model(tiny(runs, "m", {}), 1)).size());
    }
  }
  if (job().rank() == 0) {
    EXPECT_LE(max_difference(runs / "cuda" / "last.safetensors", runs / "cpu" / "last.safetensors"), 1e-3);
    const CsvTable cpu = read_csv(runs / "cpu" / "metrics.csv"), cuda = read_csv(runs / "cuda" / "metrics.csv");
    ASSERT_EQ(cpu.rows.size(), 1u);
    ASSERT_EQ(cuda.rows.size(), 1u);
    for (int column : {4, 5}) {  // train_loss, val_rmse
      const double a = std::stod(cpu.rows[0].fields[column]), b = std::stod(cuda.rows[0].fields[column]);
      EXPECT_NEAR(b, a, 1e-3 * std::max(1.0, std::abs(a))) << "column " << column;
    }
  }
  job().barrier();
}

TEST(DataParallel, OverlappedAllReducesGiveBitIdenticalParameters) {
  ASSERT_EQ(job().world_size(), 2) << "run under mpirun -np 2";
  const fs::path runs = shared_dir("overlap");
  for (const char* device : {"cpu", "cuda:0"}) {
    for (const char* overlap : {"true", "false"}) {
      const std::string name = std::string(device[1] == 'p' ? "cpu" : "cuda") + "_overlap_" + overlap;
      // Buckets of ~1000 values: several per step, started at different points of backward.
      train(tiny(runs, name,
                 {"data.batch_size=16", std::string("device=") + device, "distributed.bucket_mb=0.004",
                  std::string("distributed.overlap=") + overlap, "phases=[{epochs: 1, schedule: one_cycle, lr: 0.05}]"}),
            &job());
    }
    if (job().rank() == 0) {
      const std::string prefix = device[1] == 'p' ? "cpu" : "cuda";
      EXPECT_EQ(max_difference(runs / (prefix + "_overlap_true") / "last.safetensors",
                               runs / (prefix + "_overlap_false") / "last.safetensors"),
                0.0)
          << device;
    }
  }
  job().barrier();
}

TEST(DataParallel, ParameterChecksumNamesTheRankThatDiverged) {
  ASSERT_EQ(job().world_size(), 2) << "run under mpirun -np 2";
  const fs::path runs = shared_dir("checksum");
  auto model = build_model(tiny(runs, "m", {}), 1);
  EXPECT_NO_THROW(check_parameters_agree(*model, job(), 3));
  if (job().rank() == 1) named_parameters(*model).front().param->value.data<float>()[0] += 1e-6f;
  try {
    check_parameters_agree(*model, job(), 4);
    ADD_FAILURE() << "rank " << job().rank() << ": a diverged rank was not noticed";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("after step 4 the parameters of rank(s) 1 differ"), std::string::npos)
        << e.what();
  }
  job().barrier();
}

TEST(DataParallel, ResumeWithAnotherWorldSizeIsRefused) {
  ASSERT_EQ(job().world_size(), 2) << "run under mpirun -np 2";
  const fs::path runs = shared_dir("resume_world_size");
  TrainOptions options;
  options.progress = false;
  options.communicator = &job();
  options.stop_after_epochs = 1;
  train_experiment(tiny(runs, "run", {"data.batch_size=16"}), options);
  if (job().rank() == 0) {
    TrainOptions alone;
    alone.progress = false;
    alone.resume = true;
    try {
      train_experiment(tiny(runs, "run", {"data.batch_size=16"}), alone);
      ADD_FAILURE() << "a 2-rank state was resumed by one process";
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find("saved by a run of 2 rank(s) (global batch 32), but this run has 1 rank(s)"),
                std::string::npos)
          << e.what();
    }
  }
  job().barrier();
}

}  // namespace
}  // namespace gcnn::train
