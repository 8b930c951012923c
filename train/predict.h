// Prediction with trained checkpoints: each member of the ensemble rebuilds
// its model from the config stored in its checkpoint, normalises images with
// its own stored channel statistics and maps outputs back to physical units
// with its stored target mean/std. Test-time augmentation (TTA) predicts
// several views of every image: none (the plain image), dihedral (the 8
// rotations/reflections of the square) or fastai (the plain image and 4
// random augmentations in the paper's training ranges: dihedral, rotation
// +-10 degrees, zoom <= 1.1, brightness +-5%; drawn from tta_seed). The
// prediction is the mean over views x members, its spread the population
// standard deviation over the same predictions.
//
// The predictions CSV: <id>,<target>...,pred_<target>...,std_<target>...,
// one row per predicted image in catalog order (or sorted file order when
// there is no catalog); a true value is blank when the catalog lacks it.
// Catalog rows whose image is missing or undecodable, and malformed rows, are
// not predicted: each is listed in PredictResult::problems with its reason.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace gcnn::train {

enum class Tta { none, dihedral, fastai };
// "none" | "dihedral" | "fastai"; anything else is an input error.
Tta parse_tta(const std::string& name);
// Views per image: 1, 8 or 5.
int tta_views(Tta tta);

struct PredictOptions {
  // Ensemble members: run folders (best.safetensors, else last) or .safetensors files.
  std::vector<std::filesystem::path> checkpoints;
  std::filesystem::path catalog;     // empty: every image in `images` (ids are the file stems)
  std::filesystem::path images;
  std::filesystem::path out;         // default: predictions.csv next to the first checkpoint
  std::string device = "auto";
  int batch_size = 64;
  Tta tta = Tta::none;
  std::uint64_t tta_seed = 0;        // the fastai views' random augmentations
  bool layer_by_layer = false;       // no fused ResNet body on the CPU (layers/fused_inference.h)
  std::string precision = "fp32";    // of the members' convolutions and GEMMs (kernels/precision.h)
};

struct PredictResult {
  std::size_t rows = 0;                 // images predicted
  bool has_truth = false;               // the catalog has every target column
  std::vector<double> rmse, nmad;       // per target over rows with a true value, when has_truth
  std::vector<std::string> target_names;
  std::vector<std::string> problems;    // catalog rows / images not predicted, with the reason
  int members = 0, views = 0;
  std::string forward;                  // how the members' forwards ran (fused, or layer by layer and why)
  std::filesystem::path out;
};

PredictResult predict(const PredictOptions& options);

// A predictions CSV read back (the format predict writes). Missing true
// values and a file without std_ columns read as NaN.
struct PredictionTable {
  std::string id_column;
  std::vector<std::string> ids;
  std::vector<std::string> targets;
  std::vector<std::vector<double>> truth, pred, spread;  // [target][row]
};
// Throws an InputError naming the file (and line) for a missing pred_ column or
// a value that is not a number.
PredictionTable read_predictions(const std::filesystem::path& path);

}  // namespace gcnn::train
