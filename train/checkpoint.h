// Checkpoints: model weights as safetensors (torchvision names) whose
// __metadata__ carries what inference needs: the resolved config
// ("gcnn.config", YAML), target names, the training split's target mean/std
// and image channel statistics. Training state (the optimizer's state, e.g.
// SGD momentum or AdamW moments and step counts, its kind, epoch, step, best
// RMSE) goes to a separate .state file in the same format.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "data/normalize.h"
#include "layers/layer.h"
#include "layers/safetensors.h"
#include "optim/optimizer.h"

namespace gcnn::train {

struct Normalisation {
  std::vector<std::string> target_names;
  std::vector<float> target_mean;
  std::vector<float> target_std;
  ChannelStats channel_stats;
};

struct Progress {
  int epochs_done = 0;
  std::int64_t global_step = 0;
  double best_val_rmse = -1;  // < 0: none yet
  int world_size = 1;         // ranks of the data-parallel run (its global batch and step count depend on it)
};

void save_model(const std::filesystem::path& path, Layer& model, const std::string& config_yaml,
                const Normalisation& norm);
// Metadata value key of a checkpoint; throws naming source and key when absent.
const std::string& checkpoint_metadata(const std::map<std::string, std::string>& metadata, const std::string& key,
                                       const std::string& source);
// Reads the normalisation and config stored by save_model.
Normalisation read_normalisation(const std::map<std::string, std::string>& metadata, const std::string& source);

// Loads pretrained body weights (torchvision names, e.g. a converted
// ImageNet ResNet) into model: tensors of the file's head ("fc.", "head.") are
// skipped, shape mismatches throw naming the tensor; the report lists what
// the model kept from its own initialisation (missing) and what the file had
// that the model has not (unexpected, head tensors included).
LoadReport load_body_weights(Layer& model, const std::filesystem::path& path);

// The training state RUN_DIR/last.state: the model's tensors ("model.<name>",
// parameters and buffers), the optimizer's state (optim::Optimizer::state(),
// e.g. "momentum.<name>" or "exp_avg.<name>"), its kind and the progress
// metadata, in one file written atomically, so that a process killed at any
// moment leaves a state to resume from whose parts belong together.
void save_state(const std::filesystem::path& path, Layer& model, const optim::Optimizer& optimizer,
                const Progress& progress);
// Restores model and optimizer state; refuses (naming the file and the tensor
// or key) non-finite tensors, tensors that do not match the model or the
// optimizer, state of another optimizer kind (files without gcnn.optimizer are
// SGD's) and metadata outside its range (epochs_done in [0, kMaxEpochs], ...).
Progress load_state(const std::filesystem::path& path, Layer& model, optim::Optimizer& optimizer);
// The checks of load_state without a model: the file is read and validated.
void check_state_file(const std::filesystem::path& path);
// The bytes save_state writes, from the tensors by name ("model.*" and the
// optimizer's) and the optimizer's kind ("sgd" or "adamw").
std::string encode_state(const std::map<std::string, Tensor>& tensors, const Progress& progress,
                         const std::string& optimizer_kind);
// The optimizer kind a parsed state file was saved by ("sgd" for files without
// gcnn.optimizer); throws naming source when it is neither sgd nor adamw.
std::string saved_optimizer(const Safetensors& state, const std::string& source);
// The progress of a parsed state file, after checking its tensors (finite,
// named model.* or by an optimizer's state prefixes), its optimizer kind and
// metadata; source names it in messages.
Progress read_progress(const Safetensors& state, const std::string& source);

std::string join_floats(const std::vector<float>& values);
std::vector<float> split_floats(const std::string& text, const std::string& what);

}  // namespace gcnn::train
