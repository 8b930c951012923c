// Training loop: phases of epochs with per-phase schedules, body freezing and
// differential rates; per-epoch validation (RMSE and NMAD in physical units of
// every target), metrics.csv, last/best checkpoints written atomically, exact
// resume on the CPU, and a clean stop when the loss is not finite.
//
// Run folder <runs_dir>/<name>/:
//   config.yaml        the resolved configuration (overrides applied, absolute paths)
//   metrics.csv        epoch,step,lr,momentum,train_loss,val_rmse,val_nmad,images_per_s,seconds; val_rmse
//                      and val_nmad are the first target's; with several targets, then
//                      val_rmse_<target>,val_nmad_<target> for each target in data.targets order
//   last.safetensors   model weights after the last finished epoch (+ metadata, see checkpoint.h)
//   last.state         what a resume continues from, written last each epoch: model weights,
//                      optimizer state (kind, momentum or Adam moments) and progress (epoch,
//                      step, best RMSE) as safetensors
//   best.safetensors   weights of the epoch with the lowest validation RMSE of the first target
//
// Data parallelism (TrainOptions::communicator with several ranks, see
// train/distributed.h): every rank trains on its shard of each global batch
// (data.batch_size per rank), gradients are averaged over ranks, validation is
// sharded and gathered, and only rank 0 writes the run folder and prints.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "kernels/communicator.h"
#include "kernels/ops/loss.h"
#include "optim/optimizer.h"
#include "train/config.h"
#include "train/distributed.h"

namespace gcnn::train {

struct TrainOptions {
  bool resume = false;          // continue from the run folder's last.state
  bool progress = true;         // progress bar when stdout is a terminal
  int stop_after_epochs = -1;   // stop after this many epochs of this invocation (tests: interrupt a run)
  bool overwrite = false;       // a new run may replace a previous run in its folder
  Communicator* communicator = nullptr;  // the ranks of a data-parallel run (null: this process alone)
  // Called after each training step has been issued, with the global step
  // count (tests count what a step made the host wait for).
  std::function<void(std::int64_t global_step)> after_step;
};

struct TrainResult {
  int epochs_done = 0;           // in total, including epochs before a resume
  int epochs_run = 0;            // by this call
  double final_val_rmse = 0;     // of the last epoch this call ran, first target
  double final_val_nmad = 0;
  std::vector<std::string> target_names;
  std::vector<double> final_val_rmses, final_val_nmads;  // per target, of the last epoch this call ran
  double best_val_rmse = 0;
  double baseline_val_rmse = 0;  // predicting the training mean
  double seconds = 0;
  double train_images_per_s = 0;
  std::filesystem::path run_dir;
};

// Runs (or resumes) the experiment. Claims the run folder first (RunFolder:
// no new run over an old one without overwrite, locked against a second
// process). Throws gcnn::Error on a non-finite loss, after leaving the last
// good checkpoint untouched. The steps do not wait for the device: batches
// are uploaded through a BatchUploader and the loss stays on the device
// (RunningLoss), read back every log_every steps and at the end of each epoch
// (so a non-finite loss is found there, naming the step it first appeared at).
TrainResult train_experiment(const ExperimentConfig& config, const TrainOptions& options);

// One optimisation step, the unit every training loop runs: forward in
// training mode on x, the loss against target (targets already standardised;
// target_weights: optional per-target loss weights on the model's device),
// backward, and an optimizer update at the schedule value `at`. Returns the
// loss; a non-finite loss returns before backward, leaving the model untouched.
// With parallel, the loss returned is the mean over ranks (so every rank stops
// on a non-finite one) and the gradients are averaged over ranks before the update.
float train_step(Layer& model, optim::Optimizer& optimizer, const Tensor& x, const Tensor& target, ops::LossKind loss,
                 float huber_delta, const optim::ScheduleValue& at, const Tensor& target_weights = {},
                 DataParallel* parallel = nullptr);

// The training loss kept on the device (train_step_on_device): the last
// step's ops::loss_forward_on_device state and the running sum since reset().
class RunningLoss {
 public:
  explicit RunningLoss(Device device);
  // Zeroes the sum, on the device (no wait).
  void reset();
  struct Totals {
    double sum = 0;                          // of the step losses added
    std::int64_t steps = 0;                  // how many
    std::int64_t first_nonfinite_step = -1;  // the `step` of the first non-finite one, or -1
  };
  // The one place the host waits for the device: a 16-byte copy back.
  Totals read() const;
  Tensor state, running;
};

// train_step without a host round trip, what train_experiment runs: the loss
// stays on the model's device and is added to `loss` as step `step`
// (ops::accumulate_loss). A non-finite loss does not stop the step (the model
// is then spoilt, and the caller stops when it reads `loss`). With parallel,
// the gradients are averaged over ranks and `loss` holds this rank's losses.
void train_step_on_device(Layer& model, optim::Optimizer& optimizer, const Tensor& x, const Tensor& target,
                          ops::LossKind loss_kind, float huber_delta, const optim::ScheduleValue& at,
                          const Tensor& target_weights, DataParallel* parallel, RunningLoss& loss, std::int64_t step);

// Validation metrics of predictions against truths (same length).
double rmse(const std::vector<float>& pred, const std::vector<float>& truth);
// Normalised median absolute deviation of the residuals: 1.4826 * median(|d - median(d)|).
double nmad(const std::vector<float>& pred, const std::vector<float>& truth);

}  // namespace gcnn::train
