// Prediction with a trained checkpoint: rebuilds the model from the config
// stored in the checkpoint, normalises images with the stored channel
// statistics and maps outputs back to physical units with the stored target
// mean/std. Writes objID,<target>,pred_<target> for every catalog row (the
// true value blank when the catalog lacks it).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace gcnn::train {

struct PredictOptions {
  std::filesystem::path checkpoint;  // a run folder (best.safetensors, else last) or a .safetensors file
  std::filesystem::path catalog;
  std::filesystem::path images;
  std::filesystem::path out;         // default: predictions.csv next to the checkpoint
  std::string device = "auto";
  int batch_size = 64;
};

struct PredictResult {
  std::size_t rows = 0;
  bool has_truth = false;
  std::vector<double> rmse, nmad;   // per target, when has_truth
  std::vector<std::string> target_names;
  std::filesystem::path out;
};

PredictResult predict(const PredictOptions& options);

}  // namespace gcnn::train
