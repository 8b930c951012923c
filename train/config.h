// Experiment configuration: the typed form of a YAML experiment file (data,
// model, loss, optimizer, training phases, output), parsed with every error
// naming file, line and key, after applying --set key.path=value overrides.
// Relative paths are resolved against the config file's folder.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "data/image.h"
#include "layers/models.h"
#include "optim/optimizer.h"
#include "optim/schedule.h"

namespace gcnn::train {

inline constexpr int kMaxEpochs = 1000000;  // of all phases together

struct SyntheticDataConfig {
  bool enabled = false;
  std::size_t n = 1000;       // galaxies generated (into <run dir>/synthetic unless `dir` is set)
  int size = 64;              // rendered cutout side, px
  std::uint64_t seed = 1;
};

struct DataConfig {
  SyntheticDataConfig synthetic;
  std::filesystem::path catalog;     // CSV with id_column and targets
  std::filesystem::path images;      // folder of <id>.jpg
  std::string id_column = "objID";
  std::vector<std::string> targets{"oh_p50"};
  int image_size = 128;              // network input side
  // The resolution study: every image (training, validation, predict) is
  // area-averaged to degrade x degrade px and grown back to image_size with
  // degrade_upsample, once, when the uint8 cache is built (0: off).
  int degrade = 0;
  Upsample degrade_upsample = Upsample::nearest;
  double val_fraction = 0.2;
  std::uint64_t split_seed = 0;
  int folds = 0;                     // k-fold cross-validation: k folds (0: a random val_fraction)
  int fold = 0;                      // with folds: this run validates on fold `fold` (0-based)
  int batch_size = 32;
  int workers = 2;
  // augmentation (training only)
  bool dihedral = true;              // one of the 8 rotations/reflections of the square
  double zoom = 1.0;                 // random zoom in [1, zoom] (1: none; the paper used 1.1)
  double rotate = 0.0;               // random rotation in [-rotate, rotate] degrees
  bool normalize_targets = true;     // train on standardised targets
};

struct ModelConfig {
  std::string preset = "resnet18";   // resnet18|resnet34|resnet50|plain_cnn|layers
  ResNetOptions resnet;
  PlainCnnOptions plain;
  YAML::Node layers;                 // preset "layers": the YAML list
  std::string file;                  // config file, for messages about layers
  std::filesystem::path init_weights;  // optional pretrained body (torchvision names)
};

struct OptimizerConfig {
  std::string kind = "sgd";          // sgd|adamw
  double momentum = 0.9;             // sgd: the default of every phase's momentum
  bool nesterov = false;             // sgd only
  double weight_decay = 1e-4;        // default 1e-4 for sgd, 0.01 (PyTorch's) for adamw
  bool decay_all = false;            // also decay BN parameters and biases
  // adamw: beta1 is the schedule's momentum (betas[0], or cycled by one_cycle)
  double beta1 = 0.9, beta2 = 0.999;
  double eps = 1e-8;
};

struct PhaseConfig {
  int epochs = 1;
  optim::Schedule schedule;
  bool freeze_body = false;
  bool train_bn = true;              // frozen body keeps training its BN layers (fastai's train_bn)
  double body_lr_mult = 1.0;         // fastai differential learning rates: body lr = lr * body_lr_mult
};

// Data-parallel training (mpirun -np N gcnn train): ignored by a single process.
struct DistributedConfig {
  double bucket_mb = 25;       // gradients are all-reduced in buckets of about this many MiB
  bool sync_bn = false;        // batch norm uses the statistics of the global batch (all ranks)
  bool check_params = false;   // debug: compare a parameter checksum across ranks after every step
  bool overlap = true;         // start each bucket's all-reduce during backward (false: after it; same results)
};

// The CUDA backend's knobs.
struct CudaConfig {
  double workspace_mb = 512;  // most workspace a cuDNN convolution algorithm may use
};

struct ExperimentConfig {
  std::filesystem::path file;        // the YAML file
  std::string name = "experiment";
  std::uint64_t seed = 0;
  std::string device = "auto";
  std::string precision = "auto";    // auto|fp32|tf32|bf16 (kernels/precision.h), resolved per device by the trainer
  DataConfig data;
  ModelConfig model;
  std::string loss = "rmse";
  float huber_delta = 1.0f;
  std::vector<double> loss_weights;  // per data.targets entry (empty: all 1)
  OptimizerConfig optimizer;
  DistributedConfig distributed;
  std::vector<PhaseConfig> phases;
  std::filesystem::path runs_dir = "runs";
  int log_every = 0;                 // also print a plain line every N steps (0: per epoch only)
  bool deterministic = false;        // CUDA: only cuDNN algorithms that give bit-identical reruns
  CudaConfig cuda;
  YAML::Node resolved;               // the tree with overrides applied and paths made absolute

  int total_epochs() const;
  // (phase index, epoch within phase) of a global epoch.
  std::pair<std::size_t, int> phase_of_epoch(int epoch) const;
  std::filesystem::path run_dir() const { return runs_dir / name; }
};

// Parses text (source names the file in messages; relative paths resolve
// against base_dir). overrides are "key.path=value" strings applied to the
// tree first; values are parsed as YAML scalars or flow collections.
ExperimentConfig parse_config(const std::string& text, const std::string& source,
                              const std::filesystem::path& base_dir, const std::vector<std::string>& overrides = {});
// Reads a file; a missing file is an error naming it.
ExperimentConfig load_config(const std::filesystem::path& path, const std::vector<std::string>& overrides = {});
// Builds the model a config describes (initialised from seed).
std::unique_ptr<Sequential> build_model(const ExperimentConfig& config, int n_targets);
// The optimizer a config describes (SGD or AdamW) over groups.
std::unique_ptr<optim::Optimizer> make_optimizer(std::vector<optim::ParamGroup> groups,
                                                 const OptimizerConfig& config);

}  // namespace gcnn::train
