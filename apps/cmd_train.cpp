// gcnn train / lr-find: thin wrappers that parse options, load the experiment
// config and call train/ (trainer, lr_find).
#include <fmt/core.h>

#include <cstdio>
#include <filesystem>
#include <memory>

#include "apps/command.h"
#include "kernels/communicator.h"
#include "kernels/error.h"
#include "train/config.h"
#include "train/lr_find.h"
#include "train/plot.h"
#include "train/trainer.h"

namespace {
namespace fs = std::filesystem;

struct TrainArgs {
  fs::path config;
  std::vector<std::string> sets;
  fs::path resume;
  std::string device;
  std::string init_weights;
  bool no_progress = false;
  bool overwrite = false;
};

gcnn::train::ExperimentConfig load(const TrainArgs& a) {
  std::vector<std::string> sets = a.sets;
  if (!a.device.empty()) sets.push_back("device=" + a.device);
  if (!a.init_weights.empty()) sets.push_back("model.init_weights=" + fs::absolute(a.init_weights).string());
  fs::path config = a.config;
  if (config.empty()) {
    GCNN_INPUT_CHECK(!a.resume.empty(), "give --config FILE (or --resume RUN_DIR)");
    config = a.resume / "config.yaml";
  }
  auto c = gcnn::train::load_config(config, sets);
  if (!a.resume.empty()) {
    // The run folder given wins over the config's runs_dir/name.
    const fs::path dir = fs::absolute(a.resume).lexically_normal();
    c.runs_dir = dir.parent_path();
    c.name = dir.filename().string();
  }
  return c;
}

void add_common(CLI::App& cmd, TrainArgs& a) {
  cmd.add_option("--config", a.config, "Experiment YAML file");
  cmd.add_option("--set", a.sets, "Override a config value: key.path=value (repeatable)");
  cmd.add_option("--device", a.device, "auto|cpu|cuda|cuda:N (overrides the config)");
}

// The training-curve figure of a finished run: a missing matplotlib or a
// failing script is a warning, never a failed run.
void plot_training_curves(const fs::path& run_dir) {
  try {
    for (const auto& f : gcnn::train::plot_run(run_dir, {}, true)) fmt::print("wrote {}\n", f.string());
  } catch (const std::exception& e) {
    fmt::print(stderr, "warning: no training-curve figure: {}\n", e.what());
  }
}

// Trains on this process's share of the job: alone, or as one rank of an
// mpirun/srun job. An error on any rank of a job ends every rank (MPI_Abort)
// with a non-zero status after that rank printed its message.
int run_train(const TrainArgs& a) {
  std::unique_ptr<gcnn::Communicator> comm = gcnn::make_communicator();
  gcnn::train::TrainResult r;
  try {
    auto config = load(a);
    gcnn::train::TrainOptions options;
    options.resume = !a.resume.empty();
    options.progress = !a.no_progress;
    options.overwrite = a.overwrite;
    options.communicator = comm.get();
    r = gcnn::train::train_experiment(config, options);
  } catch (const std::exception& e) {
    if (comm->world_size() > 1) comm->abort(e.what());
    throw;
  }
  if (comm->rank() != 0) return 0;
  if (r.epochs_run == 0) {
    fmt::print("{}: all {} epochs were already done; best validation RMSE {:.4f}\n", r.run_dir.string(),
               r.epochs_done, r.best_val_rmse);
    return 0;
  }
  fmt::print("final validation RMSE {:.4f} (NMAD {:.4f}), best {:.4f}; predict-the-mean baseline RMSE {:.4f}\n",
             r.final_val_rmse, r.final_val_nmad, r.best_val_rmse, r.baseline_val_rmse);
  fmt::print("{} epochs in {:.1f} s, {:.1f} training images/s; run folder {}\n", r.epochs_done, r.seconds,
             r.train_images_per_s, r.run_dir.string());
  plot_training_curves(r.run_dir);
  return 0;
}

GCNN_COMMAND("train", "Train a model from a YAML experiment file", [](CLI::App& cmd) {
  auto a = std::make_shared<TrainArgs>();
  add_common(cmd, *a);
  cmd.add_option("--resume", a->resume, "Continue the run in this folder from its last.state");
  cmd.add_option("--init-weights", a->init_weights,
                 "safetensors file of torchvision-named weights (e.g. a converted ImageNet ResNet) for the body");
  cmd.add_flag("--no-progress", a->no_progress, "Plain lines even on a terminal");
  cmd.add_flag("--overwrite", a->overwrite, "Replace a previous run in the run folder (default: refuse)");
  return [a] { return run_train(*a); };
});

struct LrFindArgs {
  TrainArgs common;
  gcnn::train::LrFindOptions options;
};

GCNN_COMMAND("lr-find", "Sweep the learning rate exponentially and suggest one", [](CLI::App& cmd) {
  auto a = std::make_shared<LrFindArgs>();
  add_common(cmd, a->common);
  cmd.add_option("--min-lr", a->options.min_lr, "Start of the sweep")->capture_default_str();
  cmd.add_option("--max-lr", a->options.max_lr, "End of the sweep")->capture_default_str();
  cmd.add_option("--steps", a->options.steps, "Most steps")->capture_default_str();
  return [a] {
    gcnn::app::require_one_process("lr-find");
    auto config = load(a->common);
    auto r = gcnn::train::lr_find(config, a->options);
    fmt::print("{} steps, lr {:.3g} .. {:.3g}; wrote {}\nsuggested learning rate: {:.3g}\n", r.lrs.size(),
               r.lrs.front(), r.lrs.back(), r.csv.string(), r.suggested_lr);
    return 0;
  };
});

}  // namespace
