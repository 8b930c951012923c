// Experiment data over the data/ module (see data.h).
#include "train/data.h"

#include <fmt/format.h>

#include <cmath>
#include <fstream>
#include <sstream>

#include "data/csv.h"
#include "data/split.h"
#include "data/synth.h"
#include "kernels/error.h"

namespace gcnn::train {
namespace fs = std::filesystem;

namespace {

std::string read_text(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Generates the synthetic set into dir unless the same one is already there.
void ensure_synthetic(const SyntheticDataConfig& s, const fs::path& dir) {
  const std::string stamp = fmt::format("n={} size={} seed={}\n", s.n, s.size, s.seed);
  const fs::path stamp_path = dir / "synthetic.txt";
  if (fs::exists(stamp_path) && read_text(stamp_path) == stamp && fs::exists(dir / "catalog.csv")) return;
  SynthOptions so;
  so.size = s.size;
  so.seed = s.seed;
  fmt::print("generating {} synthetic galaxies ({} px, seed {}) into {}\n", s.n, s.size, s.seed, dir.string());
  write_synthetic_dataset(dir, s.n, so);
  write_file_atomic(stamp_path, stamp);
}

}  // namespace

ExperimentData::ExperimentData(const ExperimentConfig& config, const fs::path& run_dir, Device device, int rank,
                               int world) {
  const DataConfig& d = config.data;
  fs::path catalog_path = d.catalog, images_dir = d.images;
  if (d.synthetic.enabled) {
    const fs::path dir = run_dir / "synthetic";
    if (rank == 0) ensure_synthetic(d.synthetic, dir);
    catalog_path = dir / "catalog.csv";
    images_dir = dir / "images";
  }
  DatasetOptions options;
  options.id_column = d.id_column;
  options.target_columns = d.targets;
  options.images.size = d.image_size;
  options.images.resolution = d.degrade;
  options.images.upsample = d.degrade_upsample;
  dataset_ = load_dataset(catalog_path, images_dir, options);
  if (rank == 0)
    for (const auto& problem : dataset_.problems) fmt::print("skipped: {}\n", problem);

  const Split split = d.folds > 0 ? kfold_split(dataset_.size(), d.folds, d.fold, d.split_seed)
                                  : random_split(dataset_.size(), d.val_fraction, d.split_seed);
  const std::size_t global_batch = static_cast<std::size_t>(d.batch_size) * static_cast<std::size_t>(world);
  GCNN_CHECK(!split.valid.empty() && split.train.size() >= global_batch,
             "{}: {} images cannot be split into a validation set ({}) and at least one training batch of {}{}",
             catalog_path.string(), dataset_.size(), split.valid.size(), global_batch,
             world > 1 ? fmt::format(" ({} per rank x {} ranks)", d.batch_size, world) : std::string());
  if (rank == 0) write_split_csv(run_dir / "split.csv", dataset_.catalog.ids, split);

  const Catalog& cat = dataset_.catalog;
  target_names = cat.target_names;
  const std::size_t T = cat.num_targets();
  target_mean.assign(T, 0.0f);
  target_std.assign(T, 1.0f);
  for (std::size_t t = 0; t < T; ++t) {
    double sum = 0, sq = 0;
    for (std::size_t r : split.train) sum += cat.target(r, t);
    const double mean = sum / static_cast<double>(split.train.size());
    for (std::size_t r : split.train) sq += (cat.target(r, t) - mean) * (cat.target(r, t) - mean);
    target_mean[t] = static_cast<float>(mean);
    target_std[t] = static_cast<float>(std::max(std::sqrt(sq / static_cast<double>(split.train.size())), 1e-6));
  }
  for (std::size_t r : split.valid)
    for (std::size_t t = 0; t < T; ++t) val_targets.push_back(cat.target(r, t));
  channel_stats = compute_channel_stats(dataset_.images, split.train);

  LoaderOptions train_options;
  train_options.batch_size = d.batch_size;
  train_options.shuffle = true;
  train_options.drop_last = true;  // batch normalisation needs full batches
  train_options.workers = d.workers;
  train_options.seed = config.seed;
  train_options.output_size = d.image_size;
  train_options.augment = d.dihedral || d.zoom > 1.0 || d.rotate > 0.0;
  train_options.augment_options.dihedral = d.dihedral;
  train_options.augment_options.max_zoom = static_cast<float>(d.zoom);
  train_options.augment_options.max_rotate_deg = static_cast<float>(d.rotate);
  train_options.stats = channel_stats;
  train_options.augment_on_device = device.is_cuda();
  train_options.shard_rank = rank;
  train_options.shard_count = world;
  train_ = std::make_unique<DataLoader>(dataset_, split.train, train_options);

  LoaderOptions val_options = train_options;
  val_options.shuffle = false;
  val_options.drop_last = false;
  val_options.augment = false;
  val_ = std::make_unique<DataLoader>(dataset_, split.valid, val_options);
}

}  // namespace gcnn::train
