// The CUDA backend's entry points as plain C++ (no CUDA types), so the rest of
// the engine can call them whether the backend was built by nvcc, compiled
// under the emulation harness, or is absent. Implemented in kernels/cuda/*.cu.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace gcnn::cuda {

// True when the backend was compiled by nvcc (false under emulation).
bool compiled_with_nvcc();
// "CUDA 13.0, cuDNN 9.19.0, cuBLAS 13.1" or "emulated".
std::string build_description();

// Built without nvcc: makes one emulated device visible, so CUDA code runs on
// the host (gcnn check-layer --device cuda) and returns true. Built by nvcc:
// returns false and changes nothing (the real devices are used).
bool expose_emulated_device();

// Number of usable devices; when 0, *why says why in one line.
int device_count(std::string* why);
struct DeviceProperties {
  std::string name;
  std::size_t total_memory = 0;
  int multiprocessors = 0;
  int major = 0, minor = 0;
  int clock_khz = 0;          // peak SM clock (cudaDevAttrClockRate)
  int memory_clock_khz = 0;   // peak memory clock (cudaDevAttrMemoryClockRate)
  int memory_bus_bits = 0;    // global memory bus width (cudaDevAttrGlobalMemoryBusWidth)
  int driver_version = 0;     // cudaDriverGetVersion: 13000 = 13.0
  int runtime_version = 0;    // cudaRuntimeGetVersion
  std::size_t cudnn_version = 0;  // cudnnGetVersion of the loaded library: 91900 = 9.19.0
};
DeviceProperties device_properties(int device);

// Device memory through the per-device caching allocator.
void* allocate(int device, std::size_t bytes);
void release(int device, void* ptr, std::size_t bytes);
struct AllocatorStats {
  std::size_t allocated_bytes = 0;  // live, handed out
  std::size_t cached_bytes = 0;     // freed but kept for reuse
  std::size_t peak_allocated_bytes = 0;
  std::size_t device_allocations = 0;  // calls that reached cudaMalloc
};
AllocatorStats allocator_stats(int device);
void reset_peak(int device);
// Returns every cached block to the driver.
void empty_cache(int device);

enum class CopyKind { HostToDevice, DeviceToHost, DeviceToDevice };
// Copies on the device's stream; waits for the copy only when it goes to the
// host (a host source may be reused as soon as this returns).
void copy(int device, void* dst, const void* src, std::size_t bytes, CopyKind kind);
void fill_float(int device, float* dst, std::size_t count, float value);
void synchronize(int device);

// How the cuDNN algorithm search (kernels/cuda/conv_algorithm.cu) picks,
// process-wide (experiment keys cuda.workspace_mb and deterministic): the
// most workspace an algorithm may use, and whether only algorithms cuDNN
// reports as deterministic qualify (bit-identical reruns on one GPU).
// Convolutions met after a change search again.
struct ConvSearchPolicy {
  std::size_t workspace_limit = std::size_t{512} << 20;
  bool deterministic = false;
};
void set_conv_search_policy(const ConvSearchPolicy& policy);
ConvSearchPolicy conv_search_policy();

// Host->device uploads that do not stall the host or the device
// (kernels/cuda/upload.cu): each upload is staged into one of two pinned host
// buffers (the slot) and copied on a copy stream of its own, and the
// device's compute stream waits for it through an event, so the copy of batch
// i + 1 runs while step i computes. The copy into a slot waits (on the device)
// for the compute work enqueued before the previous upload, which is the last
// to read that slot's destinations; the host waits only when it is two
// uploads ahead of the copy engine.
class PinnedUploader {
 public:
  static constexpr int kSlots = 2;
  struct Part {
    void* device_dst;
    const void* host_src;
    std::size_t bytes;
  };
  explicit PinnedUploader(int device);
  ~PinnedUploader();
  PinnedUploader(const PinnedUploader&) = delete;
  PinnedUploader& operator=(const PinnedUploader&) = delete;
  // Uploads parts as the next batch through slot (0 or 1; callers alternate).
  // fresh_destinations: some device_dst was allocated since the slot's last
  // use, so the copy waits for all compute work enqueued so far.
  void upload(int slot, const std::vector<Part>& parts, bool fresh_destinations);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace gcnn::cuda
