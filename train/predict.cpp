// Prediction from checkpoints with test-time augmentation and ensembles (see predict.h).
#include "train/predict.h"

#include <fmt/format.h>

#include <cmath>
#include <limits>
#include <memory>
#include <set>
#include <unordered_map>

#include "data/augment.h"
#include "data/csv.h"
#include "data/dataset.h"
#include "data/loader.h"
#include "kernels/error.h"
#include "kernels/precision.h"
#include "layers/fused_inference.h"
#include "layers/safetensors.h"
#include "train/checkpoint.h"
#include "train/config.h"
#include "train/trainer.h"

namespace gcnn::train {
namespace fs = std::filesystem;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr int kFastaiAugmentedViews = 4;

// One ensemble member: a checkpoint's model with its normalisation.
struct Member {
  fs::path file;
  Normalisation norm;
  ExperimentConfig config;
  std::unique_ptr<Sequential> model;
  std::string forward;  // fused ResNet body, or layer by layer and why
};

fs::path checkpoint_file(const fs::path& checkpoint) {
  fs::path file = checkpoint;
  if (fs::is_directory(file))
    file = fs::exists(file / "best.safetensors") ? file / "best.safetensors" : file / "last.safetensors";
  GCNN_INPUT_CHECK(fs::is_regular_file(file), "--checkpoint {}: no such checkpoint file", file.string());
  return file;
}

Member load_member(const fs::path& checkpoint, Device device, Precision precision, bool layer_by_layer) {
  Member m;
  m.file = checkpoint_file(checkpoint);
  const std::string source = m.file.string();
  Safetensors st = read_safetensors(m.file);
  m.norm = read_normalisation(st.metadata, source);
  // The stored config's paths may not exist here: only the model and data keys matter.
  YAML::Node stored;
  try {
    stored = YAML::Load(checkpoint_metadata(st.metadata, "gcnn.config", source));
  } catch (const YAML::Exception& e) {
    GCNN_INPUT_FAIL("{}: metadata gcnn.config is not valid YAML (line {}): {}", source, e.mark.line + 1, e.msg);
  }
  GCNN_INPUT_CHECK(stored.IsMap(), "{}: metadata gcnn.config is not a YAML map of keys", source);
  YAML::Node data = stored["data"];
  GCNN_INPUT_CHECK(!data || data.IsMap(), "{}: metadata gcnn.config: 'data' is not a map of keys", source);
  YAML::Node minimal = YAML::Clone(stored);
  minimal["data"] = YAML::Node(YAML::NodeType::Map);
  minimal["data"]["synthetic"]["n"] = 100;
  for (const char* key :
       {"id_column", "image_size", "degrade", "degrade_upsample", "batch_size", "normalize_targets"})
    if (data[key]) minimal["data"][key] = data[key];
  minimal["data"]["targets"] = YAML::Node(YAML::NodeType::Sequence);
  for (const auto& t : m.norm.target_names) minimal["data"]["targets"].push_back(t);
  if (minimal["model"] && minimal["model"]["init_weights"]) minimal["model"].remove("init_weights");
  YAML::Emitter emitter;
  emitter << minimal;
  m.config = parse_config(emitter.c_str(), source + " (stored config)", fs::current_path());
  m.model = build_model(m.config, static_cast<int>(m.norm.target_names.size()));
  LoadReport report = load_state_dict(*m.model, st.tensors, source);
  GCNN_CHECK(report.missing.empty(), "{}: checkpoint lacks tensors the model needs: {}", source,
             fmt::join(report.missing, ", "));
  move_to(*m.model, device);
  set_precision(*m.model, precision);
  const std::string why_not = layer_by_layer ? "--layer-by-layer" : fuse_for_inference(*m.model);
  m.forward = describe_forward(*m.model, why_not);
  return m;
}

// The images to predict, their true values ([target][row], NaN when unknown)
// and what was left out.
struct Inputs {
  Dataset dataset;
  bool has_truth = false;
  std::vector<std::vector<double>> truth;
};

// Every .jpg/.jpeg/.png of dir, by stem, sorted.
std::vector<std::string> image_ids_in(const fs::path& dir) {
  GCNN_INPUT_CHECK(fs::is_directory(dir), "--images {}: no such folder", dir.string());
  std::set<std::string> ids;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string ext = entry.path().extension().string();
    if (entry.is_regular_file() && (ext == ".jpg" || ext == ".jpeg" || ext == ".png"))
      ids.insert(entry.path().stem().string());
  }
  GCNN_INPUT_CHECK(!ids.empty(), "--images {}: no .jpg, .jpeg or .png files to predict", dir.string());
  return {ids.begin(), ids.end()};
}

// data: the members' image size and degradation (the resolution study).
Inputs load_inputs(const PredictOptions& o, const std::string& id_column, const std::vector<std::string>& targets,
                   const DataConfig& data) {
  Inputs in;
  Catalog catalog;
  CsvTable table;
  if (o.catalog.empty()) {
    catalog.source = o.images.string();
    catalog.ids = image_ids_in(o.images);
    catalog.lines.assign(catalog.ids.size(), 0);
  } else {
    table = read_csv(o.catalog);
    catalog = catalog_from_table(table, id_column, {}, CatalogOptions{.skip_bad_rows = true});
  }
  ImageLoadOptions image_options;
  image_options.size = data.image_size;
  image_options.resolution = data.degrade;
  image_options.upsample = data.degrade_upsample;
  image_options.on_bad_image = BadImagePolicy::skip;
  LoadedImages loaded = load_images(o.images, catalog.ids, image_options);
  in.dataset.problems = catalog.skipped;
  in.dataset.problems.insert(in.dataset.problems.end(), loaded.problems.begin(), loaded.problems.end());
  in.dataset.catalog = catalog.subset(loaded.kept);
  in.dataset.images = std::move(loaded.images);
  GCNN_INPUT_CHECK(in.dataset.size() > 0, "{}: no galaxies to predict ({} rows left out)",
                   o.catalog.empty() ? o.images.string() : o.catalog.string(), in.dataset.problems.size());

  in.truth.assign(targets.size(), std::vector<double>(in.dataset.size(), kNaN));
  std::vector<int> columns;
  for (const auto& t : targets) columns.push_back(table.column(t));
  in.has_truth = !o.catalog.empty();
  for (int c : columns) in.has_truth = in.has_truth && c >= 0;
  if (!in.has_truth) return in;
  std::unordered_map<std::size_t, std::size_t> row_of_line;
  for (std::size_t r = 0; r < table.rows.size(); ++r) row_of_line[table.rows[r].line] = r;
  for (std::size_t i = 0; i < in.dataset.size(); ++i) {
    const CsvRow& row = table.rows[row_of_line.at(in.dataset.catalog.lines[i])];
    for (std::size_t k = 0; k < targets.size(); ++k) {
      double v;
      if (parse_finite_double(row.fields[static_cast<std::size_t>(columns[k])], v)) in.truth[k][i] = v;
    }
  }
  return in;
}

// Running mean and variance (Welford) of the predictions of each (row, target).
class Accumulator {
 public:
  Accumulator(std::size_t rows, std::size_t targets)
      : T_(targets), n_(rows * targets), mean_(rows * targets), m2_(rows * targets) {}
  void add(std::size_t row, std::size_t k, double v) {
    const std::size_t i = row * T_ + k;
    ++n_[i];
    const double d = v - mean_[i];
    mean_[i] += d / static_cast<double>(n_[i]);
    m2_[i] += d * (v - mean_[i]);
  }
  double mean(std::size_t row, std::size_t k) const { return mean_[row * T_ + k]; }
  double std(std::size_t row, std::size_t k) const {
    const std::size_t i = row * T_ + k;
    return std::sqrt(m2_[i] / static_cast<double>(n_[i]));
  }

 private:
  std::size_t T_;
  std::vector<std::size_t> n_;
  std::vector<double> mean_, m2_;
};

// Adds the predictions (physical units) of model on images x for batch rows.
void add_predictions(Member& m, const Tensor& x, const Batch& batch, Device device, Accumulator& acc) {
  const std::size_t T = m.norm.target_names.size();
  const std::vector<float> y = m.model->forward(x.to(device), false).to_vector();
  for (std::size_t b = 0; b < batch.rows.size(); ++b)
    for (std::size_t k = 0; k < T; ++k) {
      double v = y[b * T + k];
      if (m.config.data.normalize_targets) v = v * m.norm.target_std[k] + m.norm.target_mean[k];
      acc.add(batch.rows[b], k, v);
    }
}

// Every TTA view of every image through one member.
void predict_member(Member& m, const Dataset& dataset, const PredictOptions& o, Device device, Accumulator& acc) {
  std::vector<std::size_t> rows(dataset.size());
  for (std::size_t i = 0; i < rows.size(); ++i) rows[i] = i;
  LoaderOptions lo;
  lo.batch_size = o.batch_size;
  lo.shuffle = false;
  lo.output_size = m.config.data.image_size;
  lo.stats = m.norm.channel_stats;
  lo.seed = o.tta_seed;
  {
    DataLoader plain(dataset, rows, lo);
    plain.start_epoch(0);
    Batch batch;
    const int transforms = o.tta == Tta::dihedral ? 8 : 1;
    while (plain.next(batch))
      for (int k = 0; k < transforms; ++k)
        add_predictions(m, k == 0 ? batch.images : dihedral_batch(batch.images, k), batch, device, acc);
  }
  if (o.tta != Tta::fastai) return;
  lo.augment = true;
  lo.augment_options = AugmentOptions{.dihedral = true, .max_zoom = 1.1f, .max_rotate_deg = 10.0f, .brightness = 0.05f};
  DataLoader augmented(dataset, rows, lo);
  for (int view = 1; view <= kFastaiAugmentedViews; ++view) {
    augmented.start_epoch(static_cast<std::uint64_t>(view));
    Batch batch;
    while (augmented.next(batch)) add_predictions(m, batch.images, batch, device, acc);
  }
}

std::string format_value(double v) { return std::isfinite(v) ? fmt::format("{:.6f}", v) : std::string(); }

}  // namespace

Tta parse_tta(const std::string& name) {
  if (name == "none") return Tta::none;
  if (name == "dihedral") return Tta::dihedral;
  if (name == "fastai") return Tta::fastai;
  GCNN_INPUT_FAIL("--tta '{}': expected none, dihedral or fastai", name);
}

int tta_views(Tta tta) { return tta == Tta::dihedral ? 8 : tta == Tta::fastai ? 1 + kFastaiAugmentedViews : 1; }

PredictResult predict(const PredictOptions& o) {
  GCNN_INPUT_CHECK(!o.checkpoints.empty(), "predict: give at least one --checkpoint");
  GCNN_INPUT_CHECK(o.batch_size > 0, "--batch-size {}: must be positive", o.batch_size);
  const Device device = parse_device(o.device);
  const Precision precision = resolve_precision(o.precision, device);
  std::vector<Member> members;
  for (const auto& c : o.checkpoints) {
    members.push_back(load_member(c, device, precision, o.layer_by_layer));
    const Member& first = members.front();
    const Member& m = members.back();
    GCNN_INPUT_CHECK(m.norm.target_names == first.norm.target_names,
                     "ensemble members disagree on targets: {} predicts [{}], {} predicts [{}]", first.file.string(),
                     fmt::join(first.norm.target_names, ", "), m.file.string(), fmt::join(m.norm.target_names, ", "));
    GCNN_INPUT_CHECK(m.config.data.image_size == first.config.data.image_size,
                     "ensemble members disagree on the image size: {} takes {} px, {} takes {} px",
                     first.file.string(), first.config.data.image_size, m.file.string(), m.config.data.image_size);
    GCNN_INPUT_CHECK(m.config.data.degrade == first.config.data.degrade &&
                         m.config.data.degrade_upsample == first.config.data.degrade_upsample,
                     "ensemble members disagree on data.degrade (the resolution study): {} sees {} px, {} sees {} px",
                     first.file.string(), first.config.data.degrade, m.file.string(), m.config.data.degrade);
  }
  const Member& first = members.front();
  const std::vector<std::string>& targets = first.norm.target_names;
  const std::size_t T = targets.size();
  const Inputs in = load_inputs(o, first.config.data.id_column, targets, first.config.data);
  const std::size_t rows = in.dataset.size();

  Accumulator acc(rows, T);
  for (Member& m : members) predict_member(m, in.dataset, o, device, acc);

  PredictResult r;
  r.rows = rows;
  r.has_truth = in.has_truth;
  r.target_names = targets;
  r.problems = in.dataset.problems;
  r.members = static_cast<int>(members.size());
  r.views = tta_views(o.tta);
  std::set<std::string> forwards;
  for (const Member& m : members) forwards.insert(m.forward);
  r.forward = fmt::format("{}, {}", precision_name(precision), fmt::join(forwards, "; "));
  r.out = o.out.empty() ? first.file.parent_path() / "predictions.csv" : o.out;

  std::vector<std::string> header{first.config.data.id_column};
  for (const auto& t : targets) header.push_back(t);
  for (const auto& t : targets) header.push_back("pred_" + t);
  for (const auto& t : targets) header.push_back("std_" + t);
  std::string csv = csv_line(header);
  std::vector<std::vector<float>> preds(T), truths(T);
  for (std::size_t i = 0; i < rows; ++i) {
    std::vector<std::string> fields{in.dataset.catalog.ids[i]};
    for (std::size_t k = 0; k < T; ++k) fields.push_back(format_value(in.truth[k][i]));
    for (std::size_t k = 0; k < T; ++k) fields.push_back(format_value(acc.mean(i, k)));
    for (std::size_t k = 0; k < T; ++k) fields.push_back(format_value(acc.std(i, k)));
    csv += csv_line(fields);
    for (std::size_t k = 0; k < T; ++k)
      if (std::isfinite(in.truth[k][i])) {
        preds[k].push_back(static_cast<float>(acc.mean(i, k)));
        truths[k].push_back(static_cast<float>(in.truth[k][i]));
      }
  }
  if (r.has_truth)
    for (std::size_t k = 0; k < T; ++k) {
      r.rmse.push_back(preds[k].empty() ? kNaN : rmse(preds[k], truths[k]));
      r.nmad.push_back(preds[k].empty() ? kNaN : nmad(preds[k], truths[k]));
    }
  // Last, so that any failure above leaves an existing output file untouched.
  write_file_atomic(r.out, csv);
  return r;
}

PredictionTable read_predictions(const fs::path& path) {
  const CsvTable table = read_csv(path);
  GCNN_INPUT_CHECK(!table.header.empty(), "{}: empty predictions file", path.string());
  PredictionTable p;
  p.id_column = table.header[0];
  struct Columns {
    int truth, pred, spread;
  };
  std::vector<Columns> columns;
  for (std::size_t c = 0; c < table.header.size(); ++c)
    if (table.header[c].rfind("pred_", 0) == 0) {
      const std::string name = table.header[c].substr(5);
      p.targets.push_back(name);
      columns.push_back({table.column(name), static_cast<int>(c), table.column("std_" + name)});
    }
  GCNN_INPUT_CHECK(!p.targets.empty(), "{}: no pred_<target> column (columns: {})", path.string(),
                   fmt::join(table.header, ", "));
  const std::size_t T = p.targets.size();
  p.truth.assign(T, {});
  p.pred.assign(T, {});
  p.spread.assign(T, {});
  auto value = [&](const CsvRow& row, int column, bool required) {
    if (column < 0) return kNaN;
    const std::string& field = row.fields[static_cast<std::size_t>(column)];
    double v;
    if (field.empty() && !required) return kNaN;
    GCNN_INPUT_CHECK(parse_finite_double(field, v), "{}:{}: column '{}': '{}' is not a finite number", path.string(),
                     row.line, table.header[static_cast<std::size_t>(column)], field);
    return v;
  };
  for (const CsvRow& row : table.rows) {
    p.ids.push_back(row.fields[0]);
    for (std::size_t k = 0; k < T; ++k) {
      p.truth[k].push_back(value(row, columns[k].truth, false));
      p.pred[k].push_back(value(row, columns[k].pred, true));
      p.spread[k].push_back(value(row, columns[k].spread, false));
    }
  }
  return p;
}

}  // namespace gcnn::train
