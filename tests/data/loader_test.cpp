// DataLoader: every row once per epoch, batch sizes and drop_last, order that
// depends on (seed, epoch) only (not on worker count or prefetch), targets and
// ids that follow their images, deterministic augmentation, shards of the
// global batches for data parallelism.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "data/loader.h"
#include "kernels/error.h"

namespace gcnn {
namespace {

// n rows; image i is a 4x4 image whose every pixel is i (so a batch tells which
// rows it holds); target row i = (i, 10 i).
Dataset numbered_dataset(int n) {
  Dataset ds;
  std::vector<std::uint8_t> px;
  for (int i = 0; i < n; ++i) {
    px.insert(px.end(), 4 * 4 * 3, static_cast<std::uint8_t>(i));
    ds.catalog.ids.push_back(fmt::format("g{}", i));
    ds.catalog.targets.push_back(static_cast<float>(i));
    ds.catalog.targets.push_back(10.0f * i);
    ds.catalog.lines.push_back(static_cast<std::size_t>(i) + 2);
  }
  ds.catalog.target_names = {"oh_p50", "lgm_tot_p50"};
  ds.images = ImageDataset::from_pixels(4, px);
  return ds;
}

std::vector<std::size_t> all_rows(int n) {
  std::vector<std::size_t> rows(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) rows[static_cast<std::size_t>(i)] = static_cast<std::size_t>(i);
  return rows;
}

// Rows of an epoch read back from the image contents, checking ids and targets.
std::vector<std::size_t> epoch_rows(DataLoader& loader, std::uint64_t epoch, std::vector<std::size_t>* sizes = nullptr) {
  loader.start_epoch(epoch);
  std::vector<std::size_t> rows;
  Batch batch;
  while (loader.next(batch)) {
    const auto b = static_cast<std::size_t>(batch.images.dim(0));
    if (sizes) sizes->push_back(b);
    EXPECT_EQ(batch.images.shape(), (Shape{static_cast<std::int64_t>(b), 3, 4, 4}));
    EXPECT_EQ(batch.targets.shape(), (Shape{static_cast<std::int64_t>(b), 2}));
    auto img = batch.images.to_vector();
    auto tgt = batch.targets.to_vector();
    for (std::size_t j = 0; j < b; ++j) {
      auto row = static_cast<std::size_t>(std::lround(img[j * 48] * 255));
      EXPECT_EQ(row, batch.rows[j]);
      EXPECT_EQ(batch.ids[j], fmt::format("g{}", row));
      EXPECT_FLOAT_EQ(tgt[j * 2], static_cast<float>(row));
      EXPECT_FLOAT_EQ(tgt[j * 2 + 1], 10.0f * static_cast<float>(row));
      rows.push_back(row);
    }
  }
  EXPECT_FALSE(loader.next(batch));
  return rows;
}

TEST(DataLoader, EveryRowOncePerEpochInBatchesOfTheRightSize) {
  Dataset ds = numbered_dataset(50);
  LoaderOptions opts;
  opts.batch_size = 8;
  DataLoader loader(ds, all_rows(50), opts);
  EXPECT_EQ(loader.batches_per_epoch(), 7u);
  std::vector<std::size_t> sizes;
  auto rows = epoch_rows(loader, 0, &sizes);
  EXPECT_EQ(sizes, (std::vector<std::size_t>{8, 8, 8, 8, 8, 8, 2}));
  EXPECT_NE(rows, all_rows(50));  // shuffled
  std::sort(rows.begin(), rows.end());
  EXPECT_EQ(rows, all_rows(50));
}

TEST(DataLoader, DropLastDropsTheShortBatchOnly) {
  Dataset ds = numbered_dataset(50);
  LoaderOptions opts;
  opts.batch_size = 8;
  opts.drop_last = true;
  DataLoader loader(ds, all_rows(50), opts);
  EXPECT_EQ(loader.batches_per_epoch(), 6u);
  std::vector<std::size_t> sizes;
  auto rows = epoch_rows(loader, 3, &sizes);
  EXPECT_EQ(sizes, std::vector<std::size_t>(6, 8));
  std::sort(rows.begin(), rows.end());
  EXPECT_TRUE(std::adjacent_find(rows.begin(), rows.end()) == rows.end());  // no repeats
}

TEST(DataLoader, OrderDependsOnSeedAndEpochNotOnWorkers) {
  Dataset ds = numbered_dataset(61);
  std::vector<std::size_t> subset;
  for (std::size_t i = 0; i < 61; i += 2) subset.push_back(i);
  LoaderOptions opts;
  opts.batch_size = 5;
  opts.seed = 11;
  opts.workers = 0;
  DataLoader reference(ds, subset, opts);
  auto epoch0 = epoch_rows(reference, 0), epoch1 = epoch_rows(reference, 1);
  EXPECT_NE(epoch0, epoch1);
  EXPECT_EQ(epoch_rows(reference, 0), epoch0);  // restarting an epoch repeats it
  for (int workers : {1, 3}) {
    for (int prefetch : {1, 6}) {
      opts.workers = workers;
      opts.prefetch_batches = prefetch;
      DataLoader loader(ds, subset, opts);
      EXPECT_EQ(epoch_rows(loader, 0), epoch0) << workers << " workers, prefetch " << prefetch;
      EXPECT_EQ(epoch_rows(loader, 1), epoch1) << workers << " workers, prefetch " << prefetch;
    }
  }
  opts.seed = 12;
  DataLoader other(ds, subset, opts);
  EXPECT_NE(epoch_rows(other, 0), epoch0);
  auto sorted = epoch0;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted, subset);
}

TEST(DataLoader, NoShuffleKeepsRowOrderAndAbandonedEpochsRestartCleanly) {
  Dataset ds = numbered_dataset(20);
  LoaderOptions opts;
  opts.batch_size = 6;
  opts.shuffle = false;
  opts.workers = 2;
  opts.prefetch_batches = 2;
  DataLoader loader(ds, all_rows(20), opts);
  loader.start_epoch(0);
  Batch batch;
  ASSERT_TRUE(loader.next(batch));  // leave the epoch half read
  EXPECT_EQ(epoch_rows(loader, 1), all_rows(20));
}

TEST(DataLoader, AugmentedBatchesAreDeterministicAndNormalised) {
  // Random 16x16 images so that transforms show.
  Dataset ds;
  std::vector<std::uint8_t> px(10 * 16 * 16 * 3);
  for (std::size_t i = 0; i < px.size(); ++i) px[i] = static_cast<std::uint8_t>((i * 2654435761u) >> 13);
  ds.images = ImageDataset::from_pixels(16, px);
  for (int i = 0; i < 10; ++i) ds.catalog.ids.push_back(std::to_string(i));
  ds.catalog.lines.resize(10);
  LoaderOptions opts;
  opts.batch_size = 4;
  opts.augment = true;
  opts.output_size = 12;
  opts.stats.mean = {0.5f, 0.5f, 0.5f};
  opts.stats.std = {0.25f, 0.25f, 0.25f};
  DataLoader a(ds, all_rows(10), opts);
  opts.workers = 0;
  DataLoader b(ds, all_rows(10), opts);
  for (std::uint64_t epoch : {0u, 1u}) {
    a.start_epoch(epoch);
    b.start_epoch(epoch);
    Batch ba, bb;
    while (a.next(ba)) {
      ASSERT_TRUE(b.next(bb));
      EXPECT_FALSE(ba.targets.defined());  // unlabelled catalog
      EXPECT_EQ(ba.images.shape(), bb.images.shape());
      EXPECT_EQ(ba.images.dim(2), 12);
      EXPECT_EQ(ba.images.to_vector(), bb.images.to_vector());
      for (float v : ba.images.to_vector()) ASSERT_TRUE(v >= -2.0f && v <= 2.0f);  // (x - 0.5) / 0.25
    }
  }
}

TEST(DataLoader, DevicePathGivesTheSameImages) {
  Dataset ds;
  std::vector<std::uint8_t> px(7 * 16 * 16 * 3);
  for (std::size_t i = 0; i < px.size(); ++i) px[i] = static_cast<std::uint8_t>((i * 40503u) >> 7);
  ds.images = ImageDataset::from_pixels(16, px);
  for (int i = 0; i < 7; ++i) ds.catalog.ids.push_back(std::to_string(i));
  ds.catalog.lines.resize(7);
  LoaderOptions opts;
  opts.batch_size = 3;
  opts.augment = true;
  opts.stats.mean = {0.1f, 0.2f, 0.3f};
  DataLoader host(ds, all_rows(7), opts);
  opts.augment_on_device = true;
  DataLoader device(ds, all_rows(7), opts);
  host.start_epoch(2);
  device.start_epoch(2);
  Batch a, b;
  while (host.next(a)) {
    ASSERT_TRUE(device.next(b));
    EXPECT_FALSE(b.images.defined());
    EXPECT_EQ(a.ids, b.ids);
    EXPECT_EQ(host.images_on(a, Device::cpu()).to_vector(), device.images_on(b, Device::cpu()).to_vector());
  }
}

// Data parallelism: the shards' batches b are the consecutive slices of the
// global loader's batch b (rows, augmented images, targets), so 2 ranks x 2
// see what 1 process x 4 sees; a short last global batch leaves a rank without
// a batch when its slice starts past the end.
TEST(DataLoader, ShardsAreSlicesOfTheGlobalBatches) {
  Dataset ds;
  std::vector<std::uint8_t> px(10 * 16 * 16 * 3);
  for (std::size_t i = 0; i < px.size(); ++i) px[i] = static_cast<std::uint8_t>((i * 2654435761u) >> 13);
  ds.images = ImageDataset::from_pixels(16, px);
  for (int i = 0; i < 10; ++i) ds.catalog.ids.push_back(std::to_string(i));
  ds.catalog.lines.resize(10);
  LoaderOptions opts;
  opts.batch_size = 4;
  opts.augment = true;
  opts.output_size = 12;
  opts.seed = 9;
  DataLoader global(ds, all_rows(10), opts);
  opts.batch_size = 2;
  opts.shard_count = 2;
  opts.shard_rank = 0;
  DataLoader rank0(ds, all_rows(10), opts);
  opts.shard_rank = 1;
  DataLoader rank1(ds, all_rows(10), opts);
  EXPECT_EQ(global.batches_per_epoch(), 3u);
  EXPECT_EQ(rank0.batches_per_epoch(), 3u);  // 2 + 2, 2 + 2, 2 + (none)
  EXPECT_EQ(rank1.batches_per_epoch(), 2u);
  const std::int64_t image = 3 * 12 * 12;
  for (std::uint64_t epoch : {0u, 1u}) {
    global.start_epoch(epoch);
    rank0.start_epoch(epoch);
    rank1.start_epoch(epoch);
    Batch g;
    std::size_t b = 0;
    for (; global.next(g); ++b) {
      const std::vector<float> images = g.images.to_vector();
      std::vector<std::size_t> rows;
      std::vector<float> shard_images;
      for (DataLoader* shard : {&rank0, &rank1}) {
        Batch s;
        if (b == 2 && shard == &rank1) continue;
        ASSERT_TRUE(shard->next(s)) << "epoch " << epoch << " batch " << b;
        rows.insert(rows.end(), s.rows.begin(), s.rows.end());
        const std::vector<float> v = s.images.to_vector();
        shard_images.insert(shard_images.end(), v.begin(), v.end());
      }
      EXPECT_EQ(rows, g.rows) << "epoch " << epoch << " batch " << b;
      EXPECT_EQ(shard_images.size(), static_cast<std::size_t>(g.images.dim(0) * image));
      EXPECT_EQ(shard_images, images) << "epoch " << epoch << " batch " << b;
    }
    EXPECT_EQ(b, 3u);
    Batch rest;
    EXPECT_FALSE(rank0.next(rest));
    EXPECT_FALSE(rank1.next(rest));
  }
}

TEST(DataLoader, DropLastGivesEveryShardTheSameBatchCount) {
  Dataset ds = numbered_dataset(50);
  LoaderOptions opts;
  opts.batch_size = 8;
  opts.drop_last = true;
  opts.shard_count = 3;
  std::vector<std::size_t> seen;
  for (int r = 0; r < 3; ++r) {
    opts.shard_rank = r;
    DataLoader loader(ds, all_rows(50), opts);
    EXPECT_EQ(loader.batches_per_epoch(), 2u);  // 50 / (8 x 3)
    std::vector<std::size_t> sizes;
    const std::vector<std::size_t> rows = epoch_rows(loader, 4, &sizes);
    EXPECT_EQ(sizes, std::vector<std::size_t>(2, 8));
    seen.insert(seen.end(), rows.begin(), rows.end());
  }
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(seen.size(), 48u);
  EXPECT_TRUE(std::adjacent_find(seen.begin(), seen.end()) == seen.end());  // disjoint shards
  opts.shard_rank = 3;
  EXPECT_THROW(DataLoader(ds, all_rows(50), opts), Error);
}

}  // namespace
}  // namespace gcnn
