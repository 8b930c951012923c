// Host memory for tensors: 64-byte aligned blocks, the large ones mapped from
// the kernel and cached by size so that a training step, which requests the
// same sizes every step, is served without handing pages back to the kernel
// and faulting them in again.
#pragma once

#include <cstddef>

namespace gcnn::host {

// False under AddressSanitizer, which must see every free to report a use after it.
#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kCaching = false;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr bool kCaching = false;
#else
inline constexpr bool kCaching = true;
#endif
#else
inline constexpr bool kCaching = true;
#endif

// Blocks of at least this many bytes are mapped and cached when released;
// smaller ones come from malloc, whose own bins serve them without page faults.
inline constexpr std::size_t kCachedBlockMin = std::size_t{1} << 20;

// 64-byte aligned memory for at least `bytes` bytes; throws gcnn::Error when
// the host is out of memory.
void* allocate(std::size_t bytes);
// The same, every byte zero. A large block the cache cannot serve is freshly
// mapped, hence zero already: it takes no resident memory until written
// (parameter gradients of a model that only predicts are never written).
void* allocate_zeroed(std::size_t bytes);
// Returns a block from allocate(bytes) or allocate_zeroed(bytes) with the same `bytes`.
void release(void* ptr, std::size_t bytes);

struct CacheStats {
  std::size_t live_bytes = 0;    // cacheable blocks in use
  std::size_t cached_bytes = 0;  // released blocks kept for reuse
  std::size_t hits = 0;          // requests served from the cache
  std::size_t misses = 0;        // cacheable requests that had to allocate
};
CacheStats cache_stats();
// Hands every cached block back to the system.
void empty_cache();

}  // namespace gcnn::host
