// The data of an experiment as the trainer sees it: the dataset (catalog +
// decoded images; synthetic galaxies are generated into the run folder first),
// a deterministic train/validation split (written to split.csv), a training
// loader (augmented, shuffled by seed and epoch) and a validation loader (plain
// resize, catalog order), the training split's target mean/std and image
// channel statistics, stored with every checkpoint for predict.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "data/loader.h"
#include "data/normalize.h"
#include "train/config.h"

namespace gcnn::train {

class ExperimentData {
 public:
  // device: where batches go; on CUDA the augmentation warp runs there.
  // Data parallelism: the loaders give rank `rank` of `world` its shard
  // (data/loader.h); only rank 0 writes files (synthetic set, split.csv), so
  // the other ranks must construct theirs after rank 0's is done.
  ExperimentData(const ExperimentConfig& config, const std::filesystem::path& run_dir, Device device, int rank = 0,
                 int world = 1);

  std::size_t train_size() const { return train_->size(); }
  std::size_t val_size() const { return val_->size(); }
  DataLoader& train_loader() { return *train_; }
  DataLoader& val_loader() { return *val_; }

  std::vector<std::string> target_names;
  std::vector<float> target_mean;  // of the training split, per target
  std::vector<float> target_std;
  ChannelStats channel_stats;
  std::vector<float> val_targets;  // [val_size, T] row-major, physical units, validation order

 private:
  Dataset dataset_;
  std::unique_ptr<DataLoader> train_, val_;
};

}  // namespace gcnn::train
