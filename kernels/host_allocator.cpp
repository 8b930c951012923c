// The host block cache (see host_allocator.h). A request is served by a cached
// block of exactly its rounded size; a training step repeats its sizes, so
// from the second step on every large tensor reuses a block and no page is
// faulted in. A request that finds no block of its size first trims the cache,
// largest blocks first, to no more than the bytes in use, so sizes that stopped
// recurring (a last batch of another size, evaluation) do not pile up. Under
// AddressSanitizer nothing is cached, so every use after free is still reported.
#include "kernels/host_allocator.h"

#include <cstdlib>
#include <iterator>
#include <map>
#include <mutex>

#include "kernels/error.h"

namespace gcnn::host {
namespace {

constexpr std::size_t kAlignment = 64;
constexpr std::size_t kCachedGranule = std::size_t{64} << 10;

std::size_t rounded(std::size_t bytes) {
  const std::size_t granule = bytes < kCachedBlockMin ? kAlignment : kCachedGranule;
  return (bytes + granule - 1) / granule * granule;
}

class BlockCache {
 public:
  // A cached block of `size` bytes, or nullptr after trimming the cache; the
  // caller then allocates one. Either way the block counts as in use.
  void* take(std::size_t size) {
    std::lock_guard lock(mutex_);
    stats_.live_bytes += size;
    if (auto it = blocks_.find(size); it != blocks_.end()) {
      void* block = it->second;
      blocks_.erase(it);
      stats_.cached_bytes -= size;
      ++stats_.hits;
      return block;
    }
    ++stats_.misses;
    while (stats_.cached_bytes > stats_.live_bytes) {
      auto largest = std::prev(blocks_.end());
      std::free(largest->second);
      stats_.cached_bytes -= largest->first;
      blocks_.erase(largest);
    }
    return nullptr;
  }
  // A block handed out by take() (or allocated after it missed) comes back.
  void put(void* block, std::size_t size) {
    std::lock_guard lock(mutex_);
    blocks_.emplace(size, block);
    stats_.cached_bytes += size;
    stats_.live_bytes -= size;
  }
  // take() missed and the allocation failed too.
  void forget(std::size_t size) {
    std::lock_guard lock(mutex_);
    stats_.live_bytes -= size;
  }
  void empty() {
    std::lock_guard lock(mutex_);
    for (auto& [size, block] : blocks_) std::free(block);
    blocks_.clear();
    stats_.cached_bytes = 0;
  }
  CacheStats stats() {
    std::lock_guard lock(mutex_);
    return stats_;
  }

 private:
  std::mutex mutex_;
  std::multimap<std::size_t, void*> blocks_;
  CacheStats stats_;
};

// Never destroyed: tensors held by other static objects may be released after
// this file's statics are gone; the system reclaims the cached blocks at exit.
BlockCache& cache() {
  static BlockCache* blocks = new BlockCache;
  return *blocks;
}

}  // namespace

void* allocate(std::size_t bytes) {
  const std::size_t size = rounded(bytes);
  const bool cacheable = kCaching && size >= kCachedBlockMin;
  if (cacheable) {
    if (void* block = cache().take(size)) return block;
  }
  void* block = std::aligned_alloc(kAlignment, size);
  if (!block) {
    cache().empty();
    block = std::aligned_alloc(kAlignment, size);
  }
  if (!block) {
    if (cacheable) cache().forget(size);
    GCNN_FAIL("out of host memory allocating {} bytes", bytes);
  }
  return block;
}

void release(void* ptr, std::size_t bytes) {
  if (!ptr) return;
  const std::size_t size = rounded(bytes);
  if (kCaching && size >= kCachedBlockMin) {
    cache().put(ptr, size);
  } else {
    std::free(ptr);
  }
}

CacheStats cache_stats() { return cache().stats(); }

void empty_cache() { cache().empty(); }

}  // namespace gcnn::host
