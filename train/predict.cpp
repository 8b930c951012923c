// Prediction from a checkpoint (see predict.h).
#include "train/predict.h"

#include <fmt/format.h>

#include "data/csv.h"
#include "kernels/error.h"
#include "layers/safetensors.h"
#include "train/checkpoint.h"
#include "train/data.h"
#include "train/trainer.h"

namespace gcnn::train {
namespace fs = std::filesystem;

PredictResult predict(const PredictOptions& o) {
  fs::path file = o.checkpoint;
  if (fs::is_directory(file)) file = fs::exists(file / "best.safetensors") ? file / "best.safetensors" : file / "last.safetensors";
  GCNN_INPUT_CHECK(fs::is_regular_file(file), "--checkpoint {}: no such checkpoint file", file.string());
  Safetensors st = read_safetensors(file);
  const Normalisation norm = read_normalisation(st.metadata, file.string());
  // The stored config's paths may not exist here: only the model and data keys matter.
  ExperimentConfig config;
  {
    YAML::Node stored;
    try {
      stored = YAML::Load(checkpoint_metadata(st.metadata, "gcnn.config", file.string()));
    } catch (const YAML::Exception& e) {
      GCNN_INPUT_FAIL("{}: metadata gcnn.config is not valid YAML (line {}): {}", file.string(), e.mark.line + 1,
                      e.msg);
    }
    GCNN_INPUT_CHECK(stored.IsMap(), "{}: metadata gcnn.config is not a YAML map of keys", file.string());
    YAML::Node data = stored["data"];
    GCNN_INPUT_CHECK(!data || data.IsMap(), "{}: metadata gcnn.config: 'data' is not a map of keys", file.string());
    YAML::Node minimal = YAML::Clone(stored);
    minimal["data"] = YAML::Node(YAML::NodeType::Map);
    minimal["data"]["synthetic"]["n"] = 100;
    for (const char* key : {"id_column", "image_size", "batch_size", "normalize_targets"})
      if (data[key]) minimal["data"][key] = data[key];
    minimal["data"]["targets"] = YAML::Node(YAML::NodeType::Sequence);
    for (const auto& t : norm.target_names) minimal["data"]["targets"].push_back(t);
    if (minimal["model"] && minimal["model"]["init_weights"]) minimal["model"].remove("init_weights");
    YAML::Emitter emitter;
    emitter << minimal;
    config = parse_config(emitter.c_str(), file.string() + " (stored config)", fs::current_path());
  }
  const int T = static_cast<int>(norm.target_names.size());
  auto model = build_model(config, T);
  LoadReport report = load_state_dict(*model, st.tensors, file.string());
  GCNN_CHECK(report.missing.empty(), "{}: checkpoint lacks tensors the model needs: {}", file.string(),
             fmt::join(report.missing, ", "));
  const Device device = parse_device(o.device);
  move_to(*model, device);

  CatalogBatches batches(o.catalog, o.images, config.data.id_column, norm.target_names, config.data.image_size,
                         norm.channel_stats, o.batch_size);
  PredictResult r;
  r.rows = batches.size();
  r.has_truth = batches.has_targets();
  r.target_names = norm.target_names;
  r.out = o.out.empty() ? file.parent_path() / "predictions.csv" : o.out;

  std::vector<std::string> header{config.data.id_column};
  for (const auto& t : norm.target_names) header.push_back(t);
  for (const auto& t : norm.target_names) header.push_back("pred_" + t);
  std::string csv = csv_line(header);
  std::vector<std::vector<float>> preds(T), truths(T);
  Batch batch;
  while (batches.next(batch)) {
    const std::vector<float> y = model->forward(batches.images_on(batch, device), false).to_vector();
    const std::vector<float> t = r.has_truth ? batch.targets.to_vector() : std::vector<float>{};
    for (std::size_t b = 0; b < batch.ids.size(); ++b) {
      std::vector<std::string> fields{batch.ids[b]};
      for (int k = 0; k < T; ++k) fields.push_back(r.has_truth ? fmt::format("{:.6f}", t[b * T + k]) : "");
      for (int k = 0; k < T; ++k) {
        float v = y[b * T + k];
        if (config.data.normalize_targets) v = v * norm.target_std[k] + norm.target_mean[k];
        fields.push_back(fmt::format("{:.6f}", v));
        preds[k].push_back(v);
        if (r.has_truth) truths[k].push_back(t[b * T + k]);
      }
      csv += csv_line(fields);
    }
  }
  GCNN_INPUT_CHECK(r.rows > 0, "--catalog {}: no galaxies to predict", o.catalog.string());
  if (r.has_truth)
    for (int k = 0; k < T; ++k) {
      r.rmse.push_back(rmse(preds[k], truths[k]));
      r.nmad.push_back(nmad(preds[k], truths[k]));
    }
  // Last, so that any failure above leaves an existing output file untouched.
  write_file_atomic(r.out, csv);
  return r;
}

}  // namespace gcnn::train
