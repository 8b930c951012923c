// DataLoader: batches of augmented, normalised images and their targets over
// a list of dataset rows. Each epoch the rows are shuffled with (seed, epoch);
// worker threads build whole batches in the background, at most
// prefetch_batches ahead of the consumer (bounded memory), and next() hands
// them out in order, so the batches of an epoch are the same whatever the
// number of workers. Augmentation is a function of (seed, epoch, row). The
// dataset must outlive the loader (it is referenced, not copied).
// Data parallelism: with shard_count ranks, the epoch's order is cut into
// global batches of batch_size * shard_count rows and rank shard_rank takes
// the shard_rank-th slice of batch_size rows of each, so the ranks' batches
// are disjoint and together are exactly one process's batches of the global
// size (same order, same augmentation).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "data/augment.h"
#include "data/dataset.h"
#include "data/normalize.h"
#include "kernels/device.h"
#include "kernels/tensor.h"

namespace gcnn {

struct Batch {
  Tensor images;                  // [B, 3, S, S] float, normalised, CPU (undefined with augment_on_device)
  Tensor targets;                 // [B, T] (undefined when the catalog has no targets)
  std::vector<std::string> ids;   // B catalog ids
  std::vector<std::size_t> rows;  // B dataset rows
  // With LoaderOptions::augment_on_device: the B source images as packed
  // uint8 bytes (kernels/ops/augment.h) and their warps [B, 7], on the CPU;
  // DataLoader::images_on turns them into `images` on a device.
  Tensor pixels, warps;
};

struct LoaderOptions {
  int batch_size = 32;
  bool shuffle = true;
  bool drop_last = false;     // drop a final batch smaller than batch_size
  int workers = 2;            // background threads; 0: build batches in next()
  int prefetch_batches = 4;   // most batches built ahead of the consumer
  std::uint64_t seed = 0;
  int output_size = 0;        // 0: the dataset's stored size
  bool augment = false;       // false: plain resize (evaluation)
  AugmentOptions augment_options;
  ChannelStats stats;         // normalisation (identity by default)
  // Workers only gather source bytes and draw warps; the warp itself runs
  // where images_on is called (the CUDA kernel on the GPU path).
  bool augment_on_device = false;
  int shard_rank = 0;         // this rank's slice of each global batch
  int shard_count = 1;        // ranks sharing the epoch
};

class DataLoader {
 public:
  DataLoader(const Dataset& dataset, std::vector<std::size_t> rows, LoaderOptions options);
  ~DataLoader();
  DataLoader(const DataLoader&) = delete;
  DataLoader& operator=(const DataLoader&) = delete;

  // This rank's batches (with drop_last the same on every rank; without, the
  // ranks past the end of a short last global batch have one fewer).
  std::size_t batches_per_epoch() const;
  std::size_t size() const { return rows_.size(); }
  // The dataset rows of the loader, in the order given (all ranks' rows).
  const std::vector<std::size_t>& rows() const { return rows_; }
  const LoaderOptions& options() const { return options_; }
  // Starts (or restarts) an epoch: reshuffles and sets the workers going.
  void start_epoch(std::uint64_t epoch);
  // The next batch of the epoch in order; false when the epoch is done.
  // Rethrows a worker's error (e.g. an image file that went bad).
  bool next(Batch& batch);
  // Builds batch b of the current epoch's order on the calling thread.
  Batch build_batch(std::size_t b) const;
  // The batch's images on `device`: batch.images moved there, or with
  // augment_on_device the warp applied there (ops::augment_images).
  Tensor images_on(const Batch& batch, Device device) const;
  // images_on in two halves, for callers that move tensors themselves (the
  // trainer's BatchUploader): the host tensors images_on would move (images,
  // or pixels and warps), and the images made from them once on a device.
  std::vector<Tensor> image_sources(const Batch& batch) const;
  Tensor images_from(const std::vector<Tensor>& sources) const;

 private:
  void stop_workers();
  void worker_loop();

  const Dataset& dataset_;
  std::vector<std::size_t> rows_;
  LoaderOptions options_;
  int output_size_;
  Normalization norm_;

  std::vector<std::size_t> order_;  // this epoch's row order
  std::uint64_t epoch_ = 0;
  bool started_ = false;
  std::size_t consumed_ = 0;        // batches handed out this epoch

  std::mutex mutex_;
  std::condition_variable produced_, consumed_cv_;
  std::map<std::size_t, Batch> ready_;
  std::size_t next_to_build_ = 0;
  bool stopping_ = false;
  std::string worker_error_;
  std::vector<std::thread> workers_;
};

}  // namespace gcnn
