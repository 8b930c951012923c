// gcnn predict: predictions of one checkpoint or an ensemble, with optional
// test-time augmentation, for a catalog or a folder of images (train/predict.h).
#include <fmt/core.h>

#include <cmath>
#include <memory>

#include "apps/command.h"
#include "train/predict.h"

namespace {

struct PredictArgs {
  gcnn::train::PredictOptions options;
  std::string tta = "none";
};

int run_predict(PredictArgs& a) {
  a.options.tta = gcnn::train::parse_tta(a.tta);
  const auto r = gcnn::train::predict(a.options);
  if (!r.problems.empty()) {
    fmt::print(stderr, "not predicted ({} catalog rows or images):\n", r.problems.size());
    for (const auto& p : r.problems) fmt::print(stderr, "  {}\n", p);
  }
  fmt::print("predicted {} galaxies ({} member{} x {} view{}); {} left out -> {}\n", r.rows, r.members,
             r.members == 1 ? "" : "s", r.views, r.views == 1 ? "" : "s", r.problems.size(), r.out.string());
  fmt::print("forward: {}\n", r.forward);
  for (std::size_t k = 0; k < r.rmse.size(); ++k)
    if (std::isfinite(r.rmse[k]))
      fmt::print("{}: RMSE {:.4f}  NMAD {:.4f}\n", r.target_names[k], r.rmse[k], r.nmad[k]);
  return 0;
}

GCNN_COMMAND("predict", "Predict targets for a catalog or a folder of images with trained checkpoints",
             [](CLI::App& cmd) {
               auto a = std::make_shared<PredictArgs>();
               auto& o = a->options;
               cmd.add_option("--checkpoint", o.checkpoints,
                              "Run folder or .safetensors checkpoint; repeat for an ensemble (mean of the members)")
                   ->required();
               cmd.add_option("--catalog", o.catalog,
                              "Catalog CSV (ids and, optionally, true targets); without it every image in --images")
                   ->check(CLI::ExistingFile);
               cmd.add_option("--images", o.images, "Folder of <id>.jpg|.jpeg|.png")->required();
               cmd.add_option("--out", o.out, "Output CSV (default: predictions.csv beside the first checkpoint)");
               cmd.add_option("--batch-size", o.batch_size, "Images per forward pass")->capture_default_str();
               cmd.add_option("--tta", a->tta,
                              "Test-time augmentation: none, dihedral (8 rotations/reflections) or fastai (plain + "
                              "4 random augmentations)")
                   ->capture_default_str();
               cmd.add_option("--tta-seed", o.tta_seed, "Seed of the fastai views' augmentations")
                   ->capture_default_str();
               cmd.add_flag("--layer-by-layer", o.layer_by_layer,
                            "Run the model's layers one by one, not the fused ResNet body of the CPU (batch norms "
                            "folded into the convolutions, oneDNN's layouts kept between them)");
               cmd.add_option("--precision", o.precision,
                              "Convolution and GEMM arithmetic: fp32, tf32 (CUDA), bf16 (CPUs with AVX-512 BF16 or "
                              "AMX, and CUDA) or auto")
                   ->capture_default_str();
               gcnn::app::add_device_option(cmd, o.device);
               return [a] { return run_predict(*a); };
             });

}  // namespace
