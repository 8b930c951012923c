// gcnn synth: writes a synthetic SDSS-like galaxy set (images/<objID>.jpg and
// catalog.csv) and optionally a PNG preview grid, next to real cutouts if given.
#include <chrono>
#include <filesystem>

#include <fmt/core.h>

#include "apps/command.h"
#include "data/csv.h"
#include "data/image.h"
#include "data/synth.h"
#include "kernels/error.h"

namespace {
namespace fs = std::filesystem;

struct SynthArgs {
  std::int64_t n = 1000;
  gcnn::SynthOptions options;
  fs::path out;
  fs::path preview;
  fs::path compare;  // a folder of real cutouts shown under the synthetic ones
  int preview_count = 24;
};

int run_synth(const SynthArgs& args) {
  gcnn::check_synth_request(args.n, args.options);
  GCNN_INPUT_CHECK(args.preview_count >= 1 && args.preview_count <= 1000, "synth: --preview-count {}: must be in [1, 1000]",
                   args.preview_count);
  auto start = std::chrono::steady_clock::now();
  auto galaxies = gcnn::write_synthetic_dataset(args.out, static_cast<std::size_t>(args.n), args.options);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  fmt::print("wrote {} synthetic galaxies ({}x{} px, seed {}) to {} in {:.2f} s ({:.0f} images/s)\n", galaxies.size(),
             args.options.size, args.options.size, args.options.seed, args.out.string(), seconds,
             static_cast<double>(galaxies.size()) / seconds);
  if (args.preview.empty()) return 0;

  std::vector<gcnn::Image> tiles;
  const std::size_t shown = std::min<std::size_t>(galaxies.size(), static_cast<std::size_t>(args.preview_count));
  for (std::size_t i = 0; i < shown; ++i)
    tiles.push_back(gcnn::read_image(args.out / "images" / (galaxies[i].id + ".jpg")));
  int real = 0;
  if (!args.compare.empty()) {
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(args.compare))
      if (entry.path().extension() == ".jpg" || entry.path().extension() == ".png") files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    for (std::size_t i = 0; i < files.size() && i < shown; ++i, ++real)
      tiles.push_back(gcnn::prepare_image(gcnn::read_image(files[i]), args.options.size));
  }
  gcnn::write_file_atomic(args.preview, gcnn::encode_png(gcnn::image_grid(tiles, 8)));
  fmt::print("preview: {} ({} synthetic{})\n", args.preview.string(), shown,
             real ? fmt::format(", then {} real from {}", real, args.compare.string()) : "");
  return 0;
}

GCNN_COMMAND("synth", "Generate synthetic SDSS-like galaxy images and a catalog", [](CLI::App& cmd) {
  auto args = std::make_shared<SynthArgs>();
  cmd.add_option("--n", args->n, "Number of galaxies")->capture_default_str();
  cmd.add_option("--size", args->options.size, "Image side in pixels")->capture_default_str();
  cmd.add_option("--seed", args->options.seed, "Random seed (same seed, same bytes)")->capture_default_str();
  cmd.add_option("--out", args->out, "Output folder (images/ and catalog.csv)")->required();
  cmd.add_option("--quality", args->options.jpeg_quality, "JPEG quality 1-100")->capture_default_str();
  cmd.add_option("--threads", args->options.threads, "Worker threads (0: all cores)")->capture_default_str();
  cmd.add_option("--preview", args->preview, "Write a PNG grid of the first images");
  cmd.add_option("--preview-count", args->preview_count, "Images in the preview")->capture_default_str();
  cmd.add_option("--compare", args->compare, "Folder of real cutouts to show under the synthetic ones");
  return [args] { return run_synth(*args); };
});

}  // namespace
