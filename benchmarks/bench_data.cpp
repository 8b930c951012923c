// Data pipeline micro-benchmarks (single thread unless stated): JPEG decoding,
// the augmentation warp, a loader epoch over cached images, and the synthetic
// generator. `gcnn bench data` measures the whole pipeline on image folders.
#include <benchmark/benchmark.h>

#include "data/augment.h"
#include "data/loader.h"
#include "data/synth.h"

namespace {

gcnn::Image galaxy(int size, std::size_t index = 0) {
  return gcnn::render_galaxy(gcnn::draw_galaxy(1, index), size);
}

void BM_DecodeJpeg(benchmark::State& state) {
  const int size = static_cast<int>(state.range(0));
  std::string jpeg = gcnn::encode_jpeg(galaxy(size), 60);
  for (auto _ : state) benchmark::DoNotOptimize(gcnn::decode_image(jpeg, "bench.jpg"));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DecodeJpeg)->Arg(64)->Arg(128);

void BM_AugmentWarp(benchmark::State& state) {
  const int size = static_cast<int>(state.range(0));
  gcnn::Image img = galaxy(size);
  std::vector<float> out(static_cast<std::size_t>(3 * size * size));
  gcnn::AugmentOptions opts;
  std::uint64_t i = 0;
  for (auto _ : state) {
    gcnn::Warp w = gcnn::draw_warp(opts, 1, 0, i++, size, size);
    gcnn::warp_image(img.pixels.data(), size, w, gcnn::Normalization{}, out.data(), size);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AugmentWarp)->Arg(64)->Arg(128);

void BM_LoaderEpoch(benchmark::State& state) {
  const int size = 128, n = 256;
  gcnn::Dataset ds;
  std::vector<std::uint8_t> px;
  for (int i = 0; i < n; ++i) {
    gcnn::Image img = galaxy(size, static_cast<std::size_t>(i % 8));
    px.insert(px.end(), img.pixels.begin(), img.pixels.end());
    ds.catalog.ids.push_back(std::to_string(i));
  }
  ds.catalog.lines.resize(static_cast<std::size_t>(n));
  ds.images = gcnn::ImageDataset::from_pixels(size, std::move(px));
  std::vector<std::size_t> rows(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) rows[static_cast<std::size_t>(i)] = static_cast<std::size_t>(i);
  gcnn::LoaderOptions opts;
  opts.augment = true;
  opts.workers = static_cast<int>(state.range(0));
  gcnn::DataLoader loader(ds, rows, opts);
  std::uint64_t epoch = 0;
  for (auto _ : state) {
    loader.start_epoch(epoch++);
    gcnn::Batch batch;
    while (loader.next(batch)) benchmark::DoNotOptimize(batch.images.data<float>());
  }
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_LoaderEpoch)->Arg(0)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);

void BM_SynthGalaxy(benchmark::State& state) {
  const int size = static_cast<int>(state.range(0));
  std::size_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(gcnn::render_galaxy(gcnn::draw_galaxy(1, i++), size));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SynthGalaxy)->Arg(64)->Arg(128)->Unit(benchmark::kMillisecond);

}  // namespace
