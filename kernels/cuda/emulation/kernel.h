// CUDA emulation harness, kernel side: lets a .cu file of kernels/cuda/ compile
// as host C++ (GCNN_CUDA_EMULATION) and run on the CPU in tests.
//
// Each block's threads are fibers on one OS thread. A fiber runs until it
// reaches a barrier (__syncthreads, __syncwarp or a warp shuffle) or ends; then
// the next runs. The order in which threads run between barriers is a policy
// (Schedule): shuffled by default, so that a kernel missing a barrier reads
// values that are not written yet, or already overwritten, and gives a wrong
// answer. Blocks run one after another in the same policy's order (a kernel
// that assumes block 0 runs first breaks). Dynamic shared memory is poisoned
// with NaN bytes at each block start; a shuffle that reads a lane outside its
// mask gets poison (NaN bits) too, and a lane calling a shuffle with a mask
// that leaves it out is an error. Global memory is bounds-checked at the end
// of every tensor: the emulated cudaMalloc ends each block at a guard page and
// the caching allocator places tensors at the end of their block, so an access
// one element past a tensor faults, and the fault becomes an error naming the
// kernel, the block and thread, and the float index (kernel.cpp). An access
// before a tensor's start is not caught.
//
// Supported: threadIdx/blockIdx/blockDim/gridDim, dim3, float4, __syncthreads,
// __syncwarp, static __shared__ (stale between blocks, as undefined on a GPU),
// dynamic shared memory through GCNN_DYNAMIC_SHARED, __shfl_sync,
// __shfl_down_sync, __shfl_up_sync, __shfl_xor_sync, atomicAdd/atomicMax/
// atomicCAS, the bf16 type __nv_bfloat16 with its conversions (bit-exact, as
// cuda_bf16.h), and the math intrinsics listed below. Kernels launch through
// GCNN_LAUNCH (kernels/cuda/common.cuh), never raw <<<>>>.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <type_traits>
#include <utility>

struct uint3 {
  unsigned x = 0, y = 0, z = 0;
};
struct dim3 {
  unsigned x = 1, y = 1, z = 1;
  constexpr dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
};
// CUDA's 128-bit vector type: 16-byte aligned, as a load of one must be.
struct alignas(16) float4 {
  float x, y, z, w;
};

#include "kernels/bf16.h"
#include "kernels/cuda/emulation/control.h"

namespace gcnn::emu {

struct BlockState {
  dim3 grid_dim, block_dim;
  uint3 block_idx;
  void* dynamic_shared = nullptr;
};
struct ThreadState {
  uint3 thread_idx;
};

BlockState& current_block();
ThreadState& current_thread();

void syncthreads();
void syncwarp();
// Exchanges one 64-bit value among the lanes of the calling warp: every lane
// deposits `value`, then reads the value deposited by `src_lane` (its own when
// src_lane is outside the warp or the lane is inactive; kPoisonBits when
// src_lane is not in `mask`). The calling lane must be in `mask`.
inline constexpr std::uint64_t kPoisonBits = ~std::uint64_t{0};
std::uint64_t warp_exchange(std::uint64_t value, int src_lane, unsigned mask);
int lane_id();

// Runs body() for every thread of every block of the grid.
void run_grid(const char* kernel_name, dim3 grid, dim3 block, std::size_t dynamic_shared_bytes,
              const std::function<void()>& body);

template <class T>
std::uint64_t to_bits(T v) {
  static_assert(sizeof(T) <= 8 && std::is_trivially_copyable_v<T>);
  std::uint64_t bits = 0;
  std::memcpy(&bits, &v, sizeof(T));
  return bits;
}
template <class T>
T from_bits(std::uint64_t bits) {
  T v;
  std::memcpy(&v, &bits, sizeof(T));
  return v;
}

template <class... KernelArgs, class... Args>
void launch(const char* name, void (*kernel)(KernelArgs...), dim3 grid, dim3 block, std::size_t shared_bytes,
            Args&&... args) {
  static_assert(sizeof...(KernelArgs) == sizeof...(Args), "kernel launched with the wrong number of arguments");
  std::tuple<std::decay_t<KernelArgs>...> converted(std::forward<Args>(args)...);
  run_grid(name, grid, block, shared_bytes, [&] { std::apply(kernel, converted); });
}

}  // namespace gcnn::emu

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __shared__ static thread_local
#define threadIdx (::gcnn::emu::current_thread().thread_idx)
#define blockIdx (::gcnn::emu::current_block().block_idx)
#define blockDim (::gcnn::emu::current_block().block_dim)
#define gridDim (::gcnn::emu::current_block().grid_dim)
inline constexpr int warpSize = 32;
#define GCNN_DYNAMIC_SHARED(type, name) type* name = static_cast<type*>(::gcnn::emu::current_block().dynamic_shared)

inline void __syncthreads() { ::gcnn::emu::syncthreads(); }
inline void __syncwarp(unsigned = 0xffffffffu) { ::gcnn::emu::syncwarp(); }

template <class T>
T __shfl_sync(unsigned mask, T value, int src_lane, int width = 32) {
  int lane = ::gcnn::emu::lane_id();
  int base = lane - lane % width;
  return ::gcnn::emu::from_bits<T>(
      ::gcnn::emu::warp_exchange(::gcnn::emu::to_bits(value), base + src_lane % width, mask));
}
template <class T>
T __shfl_down_sync(unsigned mask, T value, unsigned delta, int width = 32) {
  int lane = ::gcnn::emu::lane_id();
  int src = lane + static_cast<int>(delta);
  if (src / width != lane / width) src = lane;
  return ::gcnn::emu::from_bits<T>(::gcnn::emu::warp_exchange(::gcnn::emu::to_bits(value), src, mask));
}
template <class T>
T __shfl_up_sync(unsigned mask, T value, unsigned delta, int width = 32) {
  int lane = ::gcnn::emu::lane_id();
  int src = lane - static_cast<int>(delta);
  if (src < 0 || src / width != lane / width) src = lane;
  return ::gcnn::emu::from_bits<T>(::gcnn::emu::warp_exchange(::gcnn::emu::to_bits(value), src, mask));
}
template <class T>
T __shfl_xor_sync(unsigned mask, T value, int lane_mask, int width = 32) {
  int lane = ::gcnn::emu::lane_id();
  int src = lane ^ lane_mask;
  if (src / width != lane / width) src = lane;
  return ::gcnn::emu::from_bits<T>(::gcnn::emu::warp_exchange(::gcnn::emu::to_bits(value), src, mask));
}

// Fibers never run at the same time, so plain read-modify-write is atomic here.
template <class T>
T atomicAdd(T* address, T value) {
  T old = *address;
  *address = old + value;
  return old;
}
template <class T>
T atomicMax(T* address, T value) {
  T old = *address;
  if (value > old) *address = value;
  return old;
}
template <class T>
T atomicCAS(T* address, T compare, T value) {
  T old = *address;
  if (old == compare) *address = value;
  return old;
}

inline float rsqrtf(float x) { return 1.0f / std::sqrt(x); }
inline float __expf(float x) { return std::exp(x); }
inline float __logf(float x) { return std::log(x); }
inline float __fdividef(float a, float b) { return a / b; }
inline float __saturatef(float x) { return x < 0.0f ? 0.0f : (x > 1.0f ? 1.0f : x); }
inline int __float_as_int(float x) { return ::gcnn::emu::from_bits<int>(::gcnn::emu::to_bits(x)); }
inline float __int_as_float(int x) { return ::gcnn::emu::from_bits<float>(::gcnn::emu::to_bits(x)); }
inline float __ldg(const float* p) { return *p; }

// bfloat16 as cuda_bf16.h has it: 16 bits in a struct, converted by
// round-to-nearest-even (NaN -> canonical 0x7fff) and exact widening.
struct __nv_bfloat16 {
  std::uint16_t __x;
};
inline __nv_bfloat16 __float2bfloat16_rn(float v) { return {::gcnn::float_to_bf16_bits(v)}; }
inline float __bfloat162float(__nv_bfloat16 v) { return ::gcnn::bf16_bits_to_float(v.__x); }
