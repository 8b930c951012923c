// The host block cache: alignment, reuse of released large blocks by size,
// trimming when a size stops recurring, and concurrent use from several threads.
#include "kernels/host_allocator.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <random>
#include <thread>
#include <vector>

#include "kernels/tensor.h"

namespace gcnn {
namespace {

constexpr std::size_t kMiB = std::size_t{1} << 20;

// Skips the calling test where the build does not cache (AddressSanitizer).
#define SKIP_WITHOUT_CACHE()                                                              \
  if (!host::kCaching) GTEST_SKIP() << "this build does not cache host blocks (AddressSanitizer)"

TEST(HostAllocator, BlocksAreAlignedAndWritable) {
  for (std::size_t bytes : {std::size_t{1}, std::size_t{100}, std::size_t{4096}, kMiB - 1, kMiB + 3, 5 * kMiB + 1}) {
    SCOPED_TRACE(bytes);
    auto* block = static_cast<unsigned char*>(host::allocate(bytes));
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(block) % 64, 0u);
    std::memset(block, 0xab, bytes);
    EXPECT_EQ(block[bytes - 1], 0xab);
    host::release(block, bytes);
  }
}

TEST(HostAllocator, ReleasedLargeBlockServesTheNextRequestOfItsSize) {
  SKIP_WITHOUT_CACHE();
  host::empty_cache();
  void* first = host::allocate(3 * kMiB + 7);
  host::release(first, 3 * kMiB + 7);
  const host::CacheStats before = host::cache_stats();
  EXPECT_GE(before.cached_bytes, 3 * kMiB + 7);
  // Any request that rounds to the same size gets the same block back.
  void* second = host::allocate(3 * kMiB + 100);
  EXPECT_EQ(second, first);
  const host::CacheStats after = host::cache_stats();
  EXPECT_EQ(after.hits, before.hits + 1);
  EXPECT_EQ(after.misses, before.misses);
  EXPECT_EQ(after.cached_bytes, 0u);
  host::release(second, 3 * kMiB + 100);
  host::empty_cache();
  EXPECT_EQ(host::cache_stats().cached_bytes, 0u);
}

TEST(HostAllocator, SmallBlocksAreNotCached) {
  SKIP_WITHOUT_CACHE();
  host::empty_cache();
  void* block = host::allocate(host::kCachedBlockMin - 64);
  host::release(block, host::kCachedBlockMin - 64);
  EXPECT_EQ(host::cache_stats().cached_bytes, 0u);
}

TEST(HostAllocator, MissTrimsLargestCachedBlocksDownToTheBytesInUse) {
  SKIP_WITHOUT_CACHE();
  host::empty_cache();
  ASSERT_EQ(host::cache_stats().live_bytes, 0u) << "no other large host tensor may be alive in this test";
  void* four = host::allocate(4 * kMiB);
  void* two = host::allocate(2 * kMiB);
  host::release(four, 4 * kMiB);
  host::release(two, 2 * kMiB);
  EXPECT_EQ(host::cache_stats().cached_bytes, 6 * kMiB);
  // 3 MiB is not cached: the miss leaves at most 3 MiB cached, dropping the
  // largest block first, so the 2 MiB block stays.
  const std::size_t misses = host::cache_stats().misses;
  void* three = host::allocate(3 * kMiB);
  EXPECT_EQ(host::cache_stats().misses, misses + 1);
  EXPECT_EQ(host::cache_stats().cached_bytes, 2 * kMiB);
  EXPECT_EQ(host::cache_stats().live_bytes, 3 * kMiB);
  EXPECT_EQ(host::allocate(2 * kMiB), two);
  host::release(two, 2 * kMiB);
  host::release(three, 3 * kMiB);
  host::empty_cache();
}

TEST(HostAllocator, RepeatedTrainingStepPatternIsServedFromTheCache) {
  SKIP_WITHOUT_CACHE();
  host::empty_cache();
  // Tensors of a step (each 1 or 2 MiB, so cached), allocated in forward order
  // and freed in reverse, with a gradient of each size alive while its
  // activation is released.
  const std::vector<Shape> shapes = {{8, 64, 32, 32}, {8, 64, 32, 32}, {8, 128, 16, 16}, {16, 256, 8, 8}, {8, 16, 64, 64}};
  auto step = [&] {
    std::vector<Tensor> activations;
    for (const Shape& s : shapes) activations.push_back(Tensor::empty(s));
    for (auto it = shapes.rbegin(); it != shapes.rend(); ++it) {
      Tensor grad = Tensor::empty(*it);
      activations.pop_back();
    }
  };
  step();
  const host::CacheStats warm = host::cache_stats();
  step();
  step();
  const host::CacheStats after = host::cache_stats();
  EXPECT_EQ(after.misses, warm.misses);
  EXPECT_EQ(after.hits, warm.hits + 2 * 2 * shapes.size());
  EXPECT_EQ(after.cached_bytes, warm.cached_bytes);
  host::empty_cache();
}

TEST(HostAllocator, ZeroedBlocksAreZeroFreshAndFromTheCache) {
  for (std::size_t bytes : {std::size_t{100}, 2 * kMiB + 12}) {
    SCOPED_TRACE(bytes);
    auto* dirty = static_cast<unsigned char*>(host::allocate(bytes));
    std::memset(dirty, 0xff, bytes);
    host::release(dirty, bytes);
    // Served from the cache (large) or from malloc's bins (small): either way
    // the block may be the dirty one, and must read as zeros.
    auto* zeroed = static_cast<unsigned char*>(host::allocate_zeroed(bytes));
    std::size_t nonzero = 0;
    for (std::size_t i = 0; i < bytes; ++i) nonzero += zeroed[i] != 0;
    EXPECT_EQ(nonzero, 0u);
    host::release(zeroed, bytes);
  }
}

// Resident bytes of this process, from /proc/self/statm.
std::size_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::size_t pages_total = 0, pages_resident = 0;
  statm >> pages_total >> pages_resident;
  return pages_resident * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
}

TEST(HostAllocator, LargeZerosTakeNoResidentMemoryUntilWritten) {
  SKIP_WITHOUT_CACHE();
  host::empty_cache();
  const std::size_t before = resident_bytes();
  Tensor grads = Tensor::zeros({16, 1024, 1024});  // 64 MiB
  EXPECT_EQ(grads.data<float>()[12345], 0.0f);
  EXPECT_LT(resident_bytes(), before + 8 * kMiB);
  grads.fill(1.0f);
  EXPECT_GE(resident_bytes(), before + 60 * kMiB);
}

TEST(HostAllocator, ThreadsShareTheCacheWithoutCorruptingBlocks) {
  // Loader threads and the training thread allocate at once: each thread fills
  // its blocks with its own byte and checks it before releasing them.
  std::vector<std::thread> threads;
  std::vector<int> corrupted(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([t, &corrupted] {
      std::mt19937 rng(static_cast<unsigned>(t));
      std::uniform_int_distribution<int> size_class(1, 4);
      for (int i = 0; i < 200; ++i) {
        const std::size_t bytes = static_cast<std::size_t>(size_class(rng)) * kMiB + 64 * static_cast<std::size_t>(t);
        auto* block = static_cast<unsigned char*>(host::allocate(bytes));
        std::memset(block, t + 1, bytes);
        std::this_thread::yield();
        if (block[0] != t + 1 || block[bytes / 2] != t + 1 || block[bytes - 1] != t + 1) ++corrupted[t];
        host::release(block, bytes);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(corrupted, std::vector<int>(4, 0));
}

}  // namespace
}  // namespace gcnn
