// gcnn bench data: images/s of the data pipeline on a folder of cutouts (e.g.
// the shared SDSS sample) and on synthetic galaxies: decoding into the cache,
// augment + batch from the cache through the DataLoader, and decode + augment
// + batch when every image is decoded again (the beyond-memory path).
#include <chrono>
#include <ctime>
#include <filesystem>

#include <fmt/core.h>

#include "apps/bench.h"
#include "data/loader.h"
#include "data/synth.h"
#include "data/threads.h"
#include "kernels/error.h"

namespace {
namespace fs = std::filesystem;

struct BenchDataArgs {
  fs::path images;
  std::size_t synthetic = 2000;
  int size = 128;
  int batch = 32;
  int workers = 2;
  int epochs = 3;
  bool augment = true;
};

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Images per wall-clock second and per CPU second of the whole process (all
// threads): the second hardly depends on what else the machine is running.
struct Rate {
  double wall = 0, cpu = 0;
};

template <class F>
Rate measure(std::size_t images, F&& body) {
  auto start = std::chrono::steady_clock::now();
  std::clock_t cpu_start = std::clock();
  body();
  const double cpu = static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC;
  return {static_cast<double>(images) / seconds_since(start), static_cast<double>(images) / std::max(cpu, 1e-9)};
}

std::string show(const Rate& r) { return fmt::format("{:.0f} ({:.0f}/cpu-s)", r.wall, r.cpu); }

// images/s of `epochs` epochs through a loader.
Rate loader_rate(const gcnn::Dataset& ds, const BenchDataArgs& args) {
  std::vector<std::size_t> rows(ds.size());
  for (std::size_t i = 0; i < rows.size(); ++i) rows[i] = i;
  gcnn::LoaderOptions opts;
  opts.batch_size = args.batch;
  opts.workers = args.workers;
  opts.augment = args.augment;
  opts.seed = 1;
  gcnn::DataLoader loader(ds, rows, opts);
  return measure(ds.size() * static_cast<std::size_t>(args.epochs), [&] {
    for (int e = 0; e < args.epochs; ++e) {
      loader.start_epoch(static_cast<std::uint64_t>(e));
      gcnn::Batch batch;
      while (loader.next(batch)) {
      }
    }
  });
}

void bench_folder(const std::string& label, const fs::path& dir, const BenchDataArgs& args) {
  gcnn::Dataset ds;
  for (const auto& entry : fs::directory_iterator(dir)) {
    auto ext = entry.path().extension();
    if (ext == ".jpg" || ext == ".jpeg" || ext == ".png") ds.catalog.ids.push_back(entry.path().stem().string());
  }
  std::sort(ds.catalog.ids.begin(), ds.catalog.ids.end());
  GCNN_INPUT_CHECK(!ds.catalog.ids.empty(), "bench data: no .jpg or .png images in {}", dir.string());
  ds.catalog.lines.resize(ds.catalog.ids.size());

  gcnn::ImageLoadOptions load;
  load.size = args.size;
  load.threads = args.workers;
  const Rate decode = measure(ds.size(), [&] { ds.images = gcnn::load_images(dir, ds.catalog.ids, load).images; });
  const Rate cached = loader_rate(ds, args);

  load.cache_limit_bytes = 0;  // decode on every access
  ds.images = gcnn::load_images(dir, ds.catalog.ids, load).images;
  const Rate streamed = loader_rate(ds, args);
  fmt::print("{:<10} {:>6} {:>22} {:>26} {:>32}\n", label, ds.size(), show(decode), show(cached), show(streamed));
}

int run_bench_data(const BenchDataArgs& args) {
  gcnn::check_worker_count(args.workers, "bench data: --workers");
  GCNN_INPUT_CHECK(args.size >= gcnn::kSynthMinSize && args.size <= gcnn::kSynthMaxSize,
                   "bench data: --size {}: must be in [{}, {}]", args.size, gcnn::kSynthMinSize, gcnn::kSynthMaxSize);
  GCNN_INPUT_CHECK(args.batch >= 1 && args.batch <= 4096, "bench data: --batch {}: must be in [1, 4096]", args.batch);
  GCNN_INPUT_CHECK(args.epochs >= 1 && args.epochs <= 1000, "bench data: --epochs {}: must be in [1, 1000]", args.epochs);
  GCNN_INPUT_CHECK(args.synthetic <= static_cast<std::size_t>(gcnn::kSynthMaxGalaxies),
                   "bench data: --synthetic {}: must be at most {}", args.synthetic, gcnn::kSynthMaxGalaxies);
  fmt::print("data pipeline, {} px, batch {}, {} worker thread(s), augmentation {}, {} epoch(s); images/s "
             "(and per CPU-second)\n",
             args.size, args.batch, args.workers, args.augment ? "on" : "off", args.epochs);
  fmt::print("{:<10} {:>6} {:>22} {:>26} {:>32}\n", "images", "count", "decode+cache", "augment+batch (cached)",
             "decode+augment+batch (no cache)");
  if (!args.images.empty()) bench_folder(args.images.filename().string().empty() ? "folder" : "real", args.images, args);
  if (args.synthetic > 0) {
    fs::path dir = fs::temp_directory_path() / fmt::format("gcnn_bench_synth_{}", args.size);
    gcnn::SynthOptions synth;
    synth.size = args.size;
    synth.seed = 1;
    synth.threads = args.workers;
    auto start = std::chrono::steady_clock::now();
    gcnn::write_synthetic_dataset(dir, args.synthetic, synth);
    const double generate = static_cast<double>(args.synthetic) / seconds_since(start);
    bench_folder("synthetic", dir / "images", args);
    fmt::print("(synthetic generation itself: {:.0f} images/s; files in {})\n", generate, dir.string());
  }
  return 0;
}

GCNN_BENCH("data", "Images/s of decode, augment and batching on real and synthetic cutouts", [](CLI::App& cmd) {
  auto args = std::make_shared<BenchDataArgs>();
  cmd.add_option("--images", args->images, "Folder of <id>.jpg cutouts (e.g. the shared SDSS sample)");
  cmd.add_option("--synthetic", args->synthetic, "Synthetic images to generate and measure (0: none)")
      ->capture_default_str();
  cmd.add_option("--size", args->size, "Image size")->capture_default_str();
  cmd.add_option("--batch", args->batch, "Batch size")->capture_default_str();
  cmd.add_option("--workers", args->workers, "Decode and loader threads")->capture_default_str();
  cmd.add_option("--epochs", args->epochs, "Loader epochs to time")->capture_default_str();
  cmd.add_option("--augment", args->augment, "Random augmentation (true/false)")->capture_default_str();
  return [args] { return run_bench_data(*args); };
});

}  // namespace
