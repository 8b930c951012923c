// DataLoader: per-epoch shuffling, background batch building, ordered hand-out.
#include "data/loader.h"

#include <algorithm>

#include "data/random.h"
#include "data/threads.h"
#include "kernels/error.h"
#include "kernels/ops/augment.h"

namespace gcnn {

DataLoader::DataLoader(const Dataset& dataset, std::vector<std::size_t> rows, LoaderOptions options)
    : dataset_(dataset), rows_(std::move(rows)), options_(std::move(options)) {
  GCNN_CHECK(options_.batch_size > 0, "DataLoader: batch size {} must be positive", options_.batch_size);
  check_worker_count(options_.workers, "DataLoader: workers");
  GCNN_CHECK(options_.shard_count > 0 && options_.shard_rank >= 0 && options_.shard_rank < options_.shard_count,
             "DataLoader: shard {} of {} is not a rank of the job", options_.shard_rank, options_.shard_count);
  GCNN_CHECK(options_.prefetch_batches > 0, "DataLoader: prefetch_batches {} must be > 0", options_.prefetch_batches);
  GCNN_CHECK(dataset_.images.count() == dataset_.catalog.size(),
             "DataLoader: dataset has {} images but {} catalog rows", dataset_.images.count(), dataset_.catalog.size());
  for (std::size_t r : rows_)
    GCNN_CHECK(r < dataset_.size(), "DataLoader: row {} out of range (dataset has {} rows)", r, dataset_.size());
  output_size_ = options_.output_size > 0 ? options_.output_size : dataset_.images.stored_size();
  norm_ = options_.stats.normalization();
}

DataLoader::~DataLoader() { stop_workers(); }

std::size_t DataLoader::batches_per_epoch() const {
  const auto b = static_cast<std::size_t>(options_.batch_size);
  const std::size_t global = b * static_cast<std::size_t>(options_.shard_count);
  const std::size_t full = rows_.size() / global, rest = rows_.size() % global;
  if (options_.drop_last) return full;
  // A short last global batch: this rank has a batch when its slice starts inside it.
  return full + (rest > static_cast<std::size_t>(options_.shard_rank) * b ? 1 : 0);
}

void DataLoader::stop_workers() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  consumed_cv_.notify_all();
  for (auto& t : workers_) t.join();
  workers_.clear();
}

void DataLoader::start_epoch(std::uint64_t epoch) {
  stop_workers();
  epoch_ = epoch;
  order_ = rows_;
  if (options_.shuffle) {
    Rng rng(mix_seed({options_.seed, epoch, 0x10AD}));
    shuffle_in_place(order_, rng);
  }
  consumed_ = 0;
  next_to_build_ = 0;
  ready_.clear();
  worker_error_.clear();
  stopping_ = false;
  started_ = true;
  try {
    for (int i = 0; i < options_.workers; ++i) workers_.emplace_back([this] { worker_loop(); });
  } catch (...) {
    stop_workers();
    throw;
  }
}

void DataLoader::worker_loop() {
  const std::size_t total = batches_per_epoch();
  const auto ahead = static_cast<std::size_t>(options_.prefetch_batches);
  for (;;) {
    std::size_t b;
    {
      std::unique_lock lock(mutex_);
      consumed_cv_.wait(lock, [&] { return stopping_ || next_to_build_ >= total || next_to_build_ < consumed_ + ahead; });
      if (stopping_ || next_to_build_ >= total) return;
      b = next_to_build_++;
    }
    try {
      Batch batch = build_batch(b);
      std::lock_guard lock(mutex_);
      ready_.emplace(b, std::move(batch));
    } catch (const std::exception& e) {
      std::lock_guard lock(mutex_);
      if (worker_error_.empty()) worker_error_ = e.what();
    }
    produced_.notify_all();
  }
}

bool DataLoader::next(Batch& batch) {
  GCNN_CHECK(started_, "DataLoader::next called before start_epoch");
  if (consumed_ >= batches_per_epoch()) return false;
  if (options_.workers == 0) {
    batch = build_batch(consumed_++);
    return true;
  }
  std::unique_lock lock(mutex_);
  produced_.wait(lock, [&] { return ready_.count(consumed_) > 0 || !worker_error_.empty(); });
  if (!ready_.count(consumed_)) throw Error(worker_error_);
  auto it = ready_.find(consumed_);
  batch = std::move(it->second);
  ready_.erase(it);
  ++consumed_;
  lock.unlock();
  consumed_cv_.notify_all();
  return true;
}

Batch DataLoader::build_batch(std::size_t b) const {
  const auto size = static_cast<std::size_t>(options_.batch_size);
  const auto ranks = static_cast<std::size_t>(options_.shard_count), rank = static_cast<std::size_t>(options_.shard_rank);
  const std::size_t begin = (b * ranks + rank) * size;
  const std::size_t end = std::min(begin + size, order_.size());
  GCNN_CHECK(begin < end, "DataLoader: batch {} out of range for {} rows", b, order_.size());
  const auto count = static_cast<std::int64_t>(end - begin);
  const int in_size = dataset_.images.stored_size(), s = output_size_;
  const std::size_t in_bytes = dataset_.images.image_bytes();
  Batch batch;
  const bool on_device = options_.augment_on_device;
  std::vector<std::uint8_t> gathered(on_device ? in_bytes * static_cast<std::size_t>(count) : 0);
  std::vector<Warp> warps;
  if (!on_device) batch.images = Tensor::empty({count, 3, s, s});
  const std::size_t t = dataset_.catalog.num_targets();
  std::vector<float> targets;
  targets.reserve(static_cast<std::size_t>(count) * t);
  std::vector<std::uint8_t> buffer;
  for (std::size_t j = begin; j < end; ++j) {
    const std::size_t row = order_[j];
    const Warp warp = options_.augment ? draw_warp(options_.augment_options, options_.seed, epoch_, row, in_size, s)
                                       : resize_warp(in_size, s);
    if (on_device) {
      dataset_.images.get(row, gathered.data() + (j - begin) * in_bytes);
      warps.push_back(warp);
    } else {
      const std::uint8_t* px = dataset_.images.cached(row);
      if (!px) {
        buffer.resize(in_bytes);
        dataset_.images.get(row, buffer.data());
        px = buffer.data();
      }
      warp_image(px, in_size, warp, norm_, batch.images.data<float>() + (j - begin) * 3 * s * s, s);
    }
    batch.ids.push_back(dataset_.catalog.ids[row]);
    batch.rows.push_back(row);
    for (std::size_t k = 0; k < t; ++k) targets.push_back(dataset_.catalog.target(row, k));
  }
  if (on_device) {
    batch.pixels = pack_bytes(gathered.data(), gathered.size());
    batch.warps = pack_warps(warps);
  }
  if (t > 0) batch.targets = Tensor::from_vector({count, static_cast<std::int64_t>(t)}, targets);
  return batch;
}

std::vector<Tensor> DataLoader::image_sources(const Batch& batch) const {
  if (!options_.augment_on_device) return {batch.images};
  GCNN_CHECK(batch.pixels.defined() && batch.warps.defined(), "DataLoader::images_on: batch has no source pixels");
  return {batch.pixels, batch.warps};
}

Tensor DataLoader::images_from(const std::vector<Tensor>& sources) const {
  GCNN_CHECK(sources.size() == (options_.augment_on_device ? 2u : 1u),
             "DataLoader::images_from: {} source tensors, not those of image_sources", sources.size());
  if (!options_.augment_on_device) return sources[0];
  const Tensor &pixels = sources[0], &warps = sources[1];
  Tensor out = Tensor::empty({warps.dim(0), 3, output_size_, output_size_}, pixels.device());
  ops::augment_images(pixels, dataset_.images.stored_size(), warps, norm_, out);
  return out;
}

Tensor DataLoader::images_on(const Batch& batch, Device device) const {
  std::vector<Tensor> sources = image_sources(batch);
  for (Tensor& t : sources)
    if (t.device() != device) t = t.to(device);
  return images_from(sources);
}

}  // namespace gcnn
