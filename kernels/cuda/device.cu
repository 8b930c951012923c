// The CUDA device layer: device discovery, the per-device context (stream,
// cuDNN and cuBLAS handles), the caching allocator, host<->device copies and
// the GCNN_CUDA_SYNC debugging mode.
#include "kernels/cuda/common.cuh"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace gcnn::cuda {
namespace {

// Caching allocator: freed blocks are kept by size and handed out again to a
// request of the same rounded size or up to twice smaller, so training steps
// of a fixed shape stop calling cudaMalloc after the first one. On
// out-of-memory the cache is emptied and the allocation tried once more.
// Under emulation a tensor is placed at the END of its block, against the
// guard page the emulated cudaMalloc puts there, so that an emulated kernel
// reading or writing one element past a tensor faults (on a GPU: at the start,
// 512-byte aligned).
class CachingAllocator {
 public:
  explicit CachingAllocator(int device) : device_(device) {}
  ~CachingAllocator() { empty_cache(); }

  static std::size_t round(std::size_t bytes) {
    const std::size_t granule = bytes < (1u << 20) ? 512 : (2u << 20);
    return (bytes + granule - 1) / granule * granule;
  }

  void* allocate(std::size_t bytes) {
    std::size_t size = round(bytes);
    std::lock_guard lock(mutex_);
    auto it = cached_.lower_bound(size);
    if (it != cached_.end() && it->first <= 2 * size) {
      void* p = it->second;
      const std::size_t block_size = it->first;
      stats_.cached_bytes -= block_size;
      stats_.allocated_bytes += block_size;
      cached_.erase(it);
      update_peak();
      return hand_out(p, block_size, bytes);
    }
    void* p = nullptr;
    cudaError_t status = cudaMalloc(&p, size);
    if (status != cudaSuccess) {
      (void)cudaGetLastError();
      release_cached_locked();
      status = cudaMalloc(&p, size);
    }
    GCNN_CHECK(status == cudaSuccess,
               "cuda:{}: out of device memory allocating {} bytes ({} in use, peak {}): {}", device_, bytes,
               stats_.allocated_bytes, stats_.peak_allocated_bytes, cudaGetErrorString(status));
    ++stats_.device_allocations;
    stats_.allocated_bytes += size;
    update_peak();
    return hand_out(p, size, bytes);
  }

  void release(void* p) {
    std::lock_guard lock(mutex_);
    auto it = live_.find(p);
    if (it == live_.end()) return;  // not ours: nothing safe to do in a destructor path
    const LiveBlock b = it->second;
    stats_.allocated_bytes -= b.size;
    stats_.cached_bytes += b.size;
    cached_.emplace(b.size, b.block);
    live_.erase(it);
  }

  void empty_cache() {
    std::lock_guard lock(mutex_);
    release_cached_locked();
  }
  AllocatorStats stats() {
    std::lock_guard lock(mutex_);
    return stats_;
  }
  void reset_peak() {
    std::lock_guard lock(mutex_);
    stats_.peak_allocated_bytes = stats_.allocated_bytes;
  }

 private:
  // The pointer a request of `bytes` gets in `block` (see the class comment); called with mutex_ held.
  void* hand_out(void* block, std::size_t size, std::size_t bytes) {
#ifdef GCNN_CUDA_EMULATION
    void* p = static_cast<char*>(block) + (size - bytes);
    emu::set_used_extent(block, p, bytes);
#else
    (void)bytes;
    void* p = block;
#endif
    live_[p] = {block, size};
    return p;
  }
  void update_peak() {
    if (stats_.allocated_bytes > stats_.peak_allocated_bytes) stats_.peak_allocated_bytes = stats_.allocated_bytes;
  }
  void release_cached_locked() {
    for (auto& [size, p] : cached_) (void)cudaFree(p);
    cached_.clear();
    stats_.cached_bytes = 0;
  }

  int device_;
  std::mutex mutex_;
  std::multimap<std::size_t, void*> cached_;
  struct LiveBlock {
    void* block;
    std::size_t size;
  };
  std::map<void*, LiveBlock> live_;  // pointer handed out -> its block
  AllocatorStats stats_;
};

// Everything owned for one device; destroyed in reverse order of creation.
struct DeviceResources {
  explicit DeviceResources(int device) : allocator(device) {
    ctx.device = device;
    GCNN_CUDA_CHECK(cudaSetDevice(device));
    GCNN_CUDA_CHECK(cudaStreamCreateWithFlags(&ctx.stream, cudaStreamNonBlocking));
    GCNN_CUDNN_CHECK(cudnnCreate(&ctx.cudnn));
    GCNN_CUDNN_CHECK(cudnnSetStream(ctx.cudnn, ctx.stream));
    GCNN_CUBLAS_CHECK(cublasCreate(&ctx.cublas));
    GCNN_CUBLAS_CHECK(cublasSetStream(ctx.cublas, ctx.stream));
    cudaDeviceProp prop;
    GCNN_CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
    ctx.multiprocessors = prop.multiProcessorCount;
  }
  ~DeviceResources() {
    // Errors are ignored here: at process exit the runtime may already be gone.
    allocator.empty_cache();
    if (ctx.cublas) (void)cublasDestroy(ctx.cublas);
    if (ctx.cudnn) (void)cudnnDestroy(ctx.cudnn);
    if (ctx.stream) (void)cudaStreamDestroy(ctx.stream);
  }
  DeviceContext ctx;
  CachingAllocator allocator;
};

std::mutex g_devices_mutex;
std::vector<std::unique_ptr<DeviceResources>>& devices() {
  static std::vector<std::unique_ptr<DeviceResources>> all;
  return all;
}

DeviceResources& resources(int device) {
  std::string why;
  int count = device_count(&why);
  GCNN_CHECK(device >= 0 && device < count, "cuda:{} does not exist ({} device(s)){}{}", device, count,
             why.empty() ? "" : ": ", why);
  std::lock_guard lock(g_devices_mutex);
  auto& all = devices();
  if (all.size() < static_cast<std::size_t>(count)) all.resize(count);
  if (!all[device]) all[device] = std::make_unique<DeviceResources>(device);
  GCNN_CUDA_CHECK(cudaSetDevice(device));
  return *all[device];
}

__global__ void fill_float_kernel(float* dst, std::size_t n, float value) {
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x)
    dst[i] = value;
}

// GCNN_CUDA_SYNC: -1 until the environment is read, then 0 or 1.
std::atomic<int> g_sync_each_call{-1};

int read_sync_environment() {
  if (!parse_cuda_sync(std::getenv("GCNN_CUDA_SYNC"))) return 0;
  std::fputs("GCNN_CUDA_SYNC=1: every CUDA launch and cuDNN/cuBLAS call waits for the device and is checked "
             "(debugging; slow)\n",
             stderr);
  return 1;
}

}  // namespace

bool parse_cuda_sync(const char* value) {
  const std::string v = value ? value : "";
  if (v.empty() || v == "0") return false;
  if (v != "1") throw_input_error(GCNN_FORMAT("environment variable GCNN_CUDA_SYNC='{}': expected 0 or 1", v));
  return true;
}

bool sync_each_call() {
  int on = g_sync_each_call.load(std::memory_order_relaxed);
  if (on < 0) {
    on = read_sync_environment();
    g_sync_each_call.store(on, std::memory_order_relaxed);
  }
  return on == 1;
}

void set_sync_each_call(bool on) { g_sync_each_call.store(on ? 1 : 0, std::memory_order_relaxed); }

void synchronize_and_check(const char* what, const char* file, int line) {
  cudaError_t status = cudaGetLastError();                   // a launch error not yet seen
  const cudaError_t while_running = cudaDeviceSynchronize();  // a fault while it ran
  if (status == cudaSuccess) status = while_running;
  (void)cudaGetLastError();  // reported here, not again by the next check
  if (status != cudaSuccess)
    throw_error(file, line,
                GCNN_FORMAT("CUDA error {} ({}) while running {} (GCNN_CUDA_SYNC=1 waited for it right after it "
                            "was issued)",
                            cudaGetErrorName(status), cudaGetErrorString(status), what));
}

DeviceContext& context(int device) { return resources(device).ctx; }

bool compiled_with_nvcc() {
#ifdef GCNN_CUDA_EMULATION
  return false;
#else
  return true;
#endif
}

bool expose_emulated_device() {
#ifdef GCNN_CUDA_EMULATION
  if (emu::device_count() == 0) emu::set_device_count(1);
  return true;
#else
  return false;
#endif
}

std::string build_description() {
#ifdef GCNN_CUDA_EMULATION
  return "emulated on the host";
#else
  int runtime = 0;
  (void)cudaRuntimeGetVersion(&runtime);
  return GCNN_FORMAT("CUDA runtime {}.{}, cuDNN {}.{}.{}, archs {}", runtime / 1000, (runtime % 1000) / 10,
                     CUDNN_MAJOR, CUDNN_MINOR, CUDNN_PATCHLEVEL, GCNN_CUDA_ARCHITECTURES);
#endif
}

int device_count(std::string* why) {
  int count = 0;
  cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess || count <= 0) {
    (void)cudaGetLastError();
    if (why) {
#ifdef GCNN_CUDA_EMULATION
      *why = "CUDA support not compiled in (built without nvcc and cuDNN)";
#else
      *why = GCNN_FORMAT("CUDA compiled in but no usable device: {} ({})", cudaGetErrorString(status),
                         cudaGetErrorName(status));
#endif
    }
    return 0;
  }
  if (why) why->clear();
  return count;
}

DeviceProperties device_properties(int device) {
  cudaDeviceProp prop;
  GCNN_CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
  DeviceProperties out{prop.name, prop.totalGlobalMem, prop.multiProcessorCount, prop.major, prop.minor};
  // CUDA 13 removed the clock fields from cudaDeviceProp: read them as attributes.
  GCNN_CUDA_CHECK(cudaDeviceGetAttribute(&out.clock_khz, cudaDevAttrClockRate, device));
  GCNN_CUDA_CHECK(cudaDeviceGetAttribute(&out.memory_clock_khz, cudaDevAttrMemoryClockRate, device));
  GCNN_CUDA_CHECK(cudaDeviceGetAttribute(&out.memory_bus_bits, cudaDevAttrGlobalMemoryBusWidth, device));
  GCNN_CUDA_CHECK(cudaDriverGetVersion(&out.driver_version));
  GCNN_CUDA_CHECK(cudaRuntimeGetVersion(&out.runtime_version));
  out.cudnn_version = cudnnGetVersion();
  return out;
}

void* allocate(int device, std::size_t bytes) { return resources(device).allocator.allocate(bytes); }
void release(int device, void* ptr, std::size_t) { resources(device).allocator.release(ptr); }
AllocatorStats allocator_stats(int device) { return resources(device).allocator.stats(); }
void reset_peak(int device) { resources(device).allocator.reset_peak(); }
void empty_cache(int device) { resources(device).allocator.empty_cache(); }

void copy(int device, void* dst, const void* src, std::size_t bytes, CopyKind kind) {
  DeviceContext& ctx = context(device);
  cudaMemcpyKind k = kind == CopyKind::HostToDevice   ? cudaMemcpyHostToDevice
                     : kind == CopyKind::DeviceToHost ? cudaMemcpyDeviceToHost
                                                      : cudaMemcpyDeviceToDevice;
  GCNN_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, k, ctx.stream));
  // The host reads what came back. A pageable source has been staged when
  // cudaMemcpyAsync returns (it may be reused), and device-to-device copies
  // are ordered on the stream like kernels: neither needs a wait.
  if (kind == CopyKind::DeviceToHost) GCNN_CUDA_CHECK(cudaStreamSynchronize(ctx.stream));
}

void fill_float(int device, float* dst, std::size_t count, float value) {
  DeviceContext& ctx = context(device);
  GCNN_LAUNCH(fill_float_kernel, blocks_for(count), kThreadsPerBlock, 0, ctx.stream, dst, count, value);
}

void synchronize(int device) { GCNN_CUDA_CHECK(cudaStreamSynchronize(context(device).stream)); }

}  // namespace gcnn::cuda
