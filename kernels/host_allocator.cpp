// The host block cache (see host_allocator.h). Large blocks are anonymous
// mappings (page aligned, zero when fresh). A request is served by a cached
// block of exactly its rounded size; a training step repeats its sizes, so
// from the second step on every large tensor reuses a block and no page is
// faulted in. A request that finds no block of its size first trims the cache,
// largest blocks first, to no more than the bytes in use, so sizes that stopped
// recurring (a last batch of another size, evaluation) do not pile up. Under
// AddressSanitizer every block comes from malloc and nothing is cached, so
// every out-of-bounds access and use after free is still reported.
#include "kernels/host_allocator.h"

#include <sys/mman.h>

#include <cstdlib>
#include <cstring>
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

// A fresh anonymous mapping of `size` bytes (zero), or nullptr.
void* map(std::size_t size) {
  void* block = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return block == MAP_FAILED ? nullptr : block;
}
void unmap(void* block, std::size_t size) { munmap(block, size); }

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
      unmap(largest->second, largest->first);
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
    for (auto& [size, block] : blocks_) unmap(block, size);
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

// A block of `size` (already rounded) bytes; *fresh tells whether it was just
// mapped, hence zero.
void* obtain(std::size_t bytes, std::size_t size, bool* fresh) {
  *fresh = false;
  if (!kCaching || size < kCachedBlockMin) {
    void* block = std::aligned_alloc(kAlignment, size);
    if (!block) {
      cache().empty();
      block = std::aligned_alloc(kAlignment, size);
    }
    GCNN_CHECK(block != nullptr, "out of host memory allocating {} bytes", bytes);
    return block;
  }
  if (void* block = cache().take(size)) return block;
  void* block = map(size);
  if (!block) {
    cache().empty();
    block = map(size);
  }
  if (!block) {
    cache().forget(size);
    GCNN_FAIL("out of host memory allocating {} bytes", bytes);
  }
  *fresh = true;
  return block;
}
}  // namespace

void* allocate(std::size_t bytes) {
  bool fresh = false;
  return obtain(bytes, rounded(bytes), &fresh);
}

void* allocate_zeroed(std::size_t bytes) {
  bool fresh = false;
  void* block = obtain(bytes, rounded(bytes), &fresh);
  if (!fresh) std::memset(block, 0, bytes);
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
