// Host stand-ins for the CUDA runtime calls (see runtime.h).
#include "kernels/cuda/emulation/runtime.h"

#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <iterator>
#include <map>
#include <mutex>
#include <set>

#include "kernels/cuda/emulation/control.h"

// A deferred host->device copy from pinned memory; seq: its place in its stream.
struct PendingCopy {
  std::uint64_t seq;
  void* dst;
  const void* src;
  std::size_t bytes;
};
struct CUstream_st {
  int device = 0;
  std::uint64_t issued = 0;  // operations enqueued so far (the seq of the last one)
  std::deque<PendingCopy> pending;
};
// An event marks its stream's operations up to seq when recorded.
struct CUevent_st {
  std::chrono::steady_clock::time_point time;
  bool recorded = false;
  cudaStream_t stream = nullptr;
  std::uint64_t seq = 0;
};

namespace gcnn::emu {
namespace {
// An emulated cudaMalloc block: its bytes end where an inaccessible guard page
// of its own mapping begins; extent is the part a tensor uses (the caching
// allocator places it at the block's end, see set_used_extent).
struct Block {
  std::size_t size;
  char* mapping;
  std::size_t mapping_bytes;
  const char* used_start;
  std::size_t used_bytes;
};
std::mutex g_mutex;
std::map<const char*, Block> g_blocks;  // device pointer -> block
std::size_t g_bytes = 0;
int g_device_count = 0;
int g_current_device = 0;
thread_local cudaError_t g_last_error = cudaSuccess;
std::map<const char*, std::size_t> g_pinned;  // cudaHostAlloc blocks: start -> bytes
std::recursive_mutex g_stream_mutex;          // guards every stream's pending copies
std::set<cudaStream_t> g_streams;             // live streams
std::atomic<std::uint64_t> g_host_syncs{0}, g_pageable_copies{0}, g_pinned_copies{0};

// Performs stream's deferred copies up to and including seq (the stream may be gone or null: nothing).
void run_until(cudaStream_t stream, std::uint64_t seq) {
  std::lock_guard lock(g_stream_mutex);
  if (!stream || !g_streams.count(stream)) return;
  while (!stream->pending.empty() && stream->pending.front().seq <= seq) {
    const PendingCopy& c = stream->pending.front();
    std::memmove(c.dst, c.src, c.bytes);
    stream->pending.pop_front();
  }
}
void run_all_streams() {
  std::lock_guard lock(g_stream_mutex);
  for (cudaStream_t s : g_streams) run_until(s, UINT64_MAX);
}
// True when [ptr, ptr + bytes) lies inside one cudaHostAlloc block.
bool is_pinned(const void* ptr, std::size_t bytes) {
  std::lock_guard lock(g_mutex);
  auto p = static_cast<const char*>(ptr);
  auto it = g_pinned.upper_bound(p);
  if (it == g_pinned.begin()) return false;
  --it;
  return p + bytes <= it->first + it->second;
}

cudaError_t record(cudaError_t e) {
  if (e != cudaSuccess) g_last_error = e;
  return e;
}

// A device fault not yet reported (fault_next_launch): what a synchronising call returns, once.
std::atomic<bool> g_device_fault{false};
cudaError_t take_device_fault() {
  return g_device_fault.exchange(false) ? record(cudaErrorLaunchFailure) : cudaSuccess;
}
}  // namespace

void raise_device_fault() { g_device_fault = true; }

void set_device_count(int count) { g_device_count = count; }
int device_count() { return g_device_count; }
std::size_t bytes_in_use() {
  std::lock_guard lock(g_mutex);
  return g_bytes;
}
bool is_device_pointer(const void* ptr) {
  std::lock_guard lock(g_mutex);
  auto p = static_cast<const char*>(ptr);
  auto it = g_blocks.upper_bound(p);
  if (it == g_blocks.begin()) return false;
  --it;
  return p < it->first + it->second.size;
}

void set_used_extent(const void* block, const void* start, std::size_t bytes) {
  std::lock_guard lock(g_mutex);
  auto it = g_blocks.find(static_cast<const char*>(block));
  if (it == g_blocks.end()) return;
  it->second.used_start = static_cast<const char*>(start);
  it->second.used_bytes = bytes;
}

RuntimeCounters runtime_counters() { return {g_host_syncs.load(), g_pageable_copies.load(), g_pinned_copies.load()}; }

void run_pending(cudaStream_t stream) { run_until(stream, UINT64_MAX); }

bool find_guard_hit(const void* address, GuardHit* hit) {
  std::lock_guard lock(g_mutex);
  const auto a = static_cast<const char*>(address);
  auto it = g_blocks.upper_bound(a);
  if (it == g_blocks.begin()) return false;
  --it;
  const Block& b = it->second;
  const char* guard = b.mapping + b.mapping_bytes - static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  if (a < guard || a >= b.mapping + b.mapping_bytes) return false;
  *hit = {b.used_start, b.used_bytes, static_cast<std::size_t>(a - (b.used_start + b.used_bytes))};
  return true;
}
}  // namespace gcnn::emu

using namespace gcnn::emu;

const char* cudaGetErrorString(cudaError_t error) {
  switch (error) {
    case cudaSuccess: return "no error";
    case cudaErrorInvalidValue: return "invalid argument";
    case cudaErrorMemoryAllocation: return "out of memory";
    case cudaErrorNoDevice: return "no CUDA-capable device is detected";
    case cudaErrorInvalidDevice: return "invalid device ordinal";
    case cudaErrorInvalidResourceHandle: return "invalid resource handle";
    case cudaErrorNotReady: return "device not ready";
    case cudaErrorLaunchFailure: return "unspecified launch failure";
  }
  return "unknown error";
}
const char* cudaGetErrorName(cudaError_t error) {
  switch (error) {
    case cudaSuccess: return "cudaSuccess";
    case cudaErrorInvalidValue: return "cudaErrorInvalidValue";
    case cudaErrorMemoryAllocation: return "cudaErrorMemoryAllocation";
    case cudaErrorNoDevice: return "cudaErrorNoDevice";
    case cudaErrorInvalidDevice: return "cudaErrorInvalidDevice";
    case cudaErrorInvalidResourceHandle: return "cudaErrorInvalidResourceHandle";
    case cudaErrorNotReady: return "cudaErrorNotReady";
    case cudaErrorLaunchFailure: return "cudaErrorLaunchFailure";
  }
  return "cudaErrorUnknown";
}
cudaError_t cudaGetLastError() {
  cudaError_t e = g_last_error;
  g_last_error = cudaSuccess;
  return e;
}
cudaError_t cudaPeekAtLastError() { return g_last_error; }

cudaError_t cudaGetDeviceCount(int* count) {
  *count = g_device_count;
  return g_device_count > 0 ? cudaSuccess : record(cudaErrorNoDevice);
}
cudaError_t cudaGetDeviceProperties(cudaDeviceProp* prop, int device) {
  if (device < 0 || device >= g_device_count) return record(cudaErrorInvalidDevice);
  std::memset(prop, 0, sizeof(*prop));
  std::strncpy(prop->name, "Emulated CUDA device (host fibers)", sizeof(prop->name) - 1);
  prop->totalGlobalMem = std::size_t{4} << 30;
  prop->sharedMemPerBlock = 48 * 1024;
  prop->multiProcessorCount = 1;
  prop->major = 9;
  prop->minor = 0;
  prop->warpSize = 32;
  prop->maxThreadsPerBlock = 1024;
  return cudaSuccess;
}
cudaError_t cudaSetDevice(int device) {
  if (device < 0 || device >= g_device_count) return record(cudaErrorInvalidDevice);
  g_current_device = device;
  return cudaSuccess;
}
cudaError_t cudaGetDevice(int* device) {
  *device = g_current_device;
  return cudaSuccess;
}
cudaError_t cudaDeviceSynchronize() {
  ++g_host_syncs;
  run_all_streams();
  return take_device_fault();
}
cudaError_t cudaRuntimeGetVersion(int* version) {
  *version = CUDART_VERSION;
  return cudaSuccess;
}
cudaError_t cudaDriverGetVersion(int* version) {
  *version = CUDART_VERSION;
  return cudaSuccess;
}
// An emulated device reports a 1 GHz SM clock and a 1 GHz, 64-bit memory bus.
cudaError_t cudaDeviceGetAttribute(int* value, cudaDeviceAttr attr, int device) {
  if (device < 0 || device >= g_device_count) return record(cudaErrorInvalidDevice);
  switch (attr) {
    case cudaDevAttrClockRate: *value = 1'000'000; return cudaSuccess;
    case cudaDevAttrMemoryClockRate: *value = 1'000'000; return cudaSuccess;
    case cudaDevAttrGlobalMemoryBusWidth: *value = 64; return cudaSuccess;
  }
  return record(cudaErrorInvalidValue);
}

// The block ends at a page boundary followed by a PROT_NONE guard page, so an
// emulated kernel's access past the end faults (kernel.cpp turns the fault
// into an error naming the kernel). Blocks of a multiple of 256 bytes keep
// cudaMalloc's 256-byte alignment.
cudaError_t cudaMalloc(void** ptr, std::size_t bytes) {
  *ptr = nullptr;
  if (bytes == 0) return cudaSuccess;
  const auto page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  const std::size_t data_bytes = (bytes + page - 1) / page * page, mapping_bytes = data_bytes + page;
  void* mapping = mmap(nullptr, mapping_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mapping == MAP_FAILED) return record(cudaErrorMemoryAllocation);
  auto* m = static_cast<char*>(mapping);
  if (mprotect(m + data_bytes, page, PROT_NONE) != 0) {
    munmap(mapping, mapping_bytes);
    return record(cudaErrorMemoryAllocation);
  }
  char* p = m + data_bytes - bytes;
  std::lock_guard lock(g_mutex);
  g_blocks[p] = {bytes, m, mapping_bytes, p, bytes};
  g_bytes += bytes;
  *ptr = p;
  return cudaSuccess;
}
cudaError_t cudaFree(void* ptr) {
  if (!ptr) return cudaSuccess;
  std::lock_guard lock(g_mutex);
  auto it = g_blocks.find(static_cast<const char*>(ptr));
  if (it == g_blocks.end()) return record(cudaErrorInvalidValue);
  g_bytes -= it->second.size;
  munmap(it->second.mapping, it->second.mapping_bytes);
  g_blocks.erase(it);
  return cudaSuccess;
}

namespace {
// Checks that a device-side range lies inside one live allocation.
bool valid_device_range(const void* ptr, std::size_t bytes) {
  std::lock_guard lock(g_mutex);
  auto p = static_cast<const char*>(ptr);
  auto it = g_blocks.upper_bound(p);
  if (it == g_blocks.begin()) return false;
  --it;
  return p >= it->first && p + bytes <= it->first + it->second.size;
}
}  // namespace

namespace {
// Checks a copy's device side(s) and counts it by the memory of its host side.
cudaError_t check_copy(void* dst, const void* src, std::size_t bytes, cudaMemcpyKind kind, bool* pinned_source) {
  const bool dst_device = kind == cudaMemcpyHostToDevice || kind == cudaMemcpyDeviceToDevice;
  const bool src_device = kind == cudaMemcpyDeviceToHost || kind == cudaMemcpyDeviceToDevice;
  if ((dst_device && !valid_device_range(dst, bytes)) || (src_device && !valid_device_range(src, bytes)))
    return record(cudaErrorInvalidValue);
  *pinned_source = kind == cudaMemcpyHostToDevice && is_pinned(src, bytes);
  if (kind == cudaMemcpyHostToDevice || kind == cudaMemcpyDeviceToHost) {
    const bool pinned = kind == cudaMemcpyHostToDevice ? *pinned_source : is_pinned(dst, bytes);
    ++(pinned ? g_pinned_copies : g_pageable_copies);
  }
  return cudaSuccess;
}
}  // namespace

// The synchronous copy: the host waits for it and for all earlier work.
cudaError_t cudaMemcpy(void* dst, const void* src, std::size_t bytes, cudaMemcpyKind kind) {
  if (bytes == 0) return cudaSuccess;
  bool pinned_source = false;
  if (cudaError_t e = check_copy(dst, src, bytes, kind, &pinned_source); e != cudaSuccess) return e;
  ++g_host_syncs;
  run_all_streams();
  std::memmove(dst, src, bytes);
  return take_device_fault();
}
// A host->device copy from pinned memory on a stream is deferred (see runtime.h);
// every other copy happens now, after the stream's earlier deferred copies.
cudaError_t cudaMemcpyAsync(void* dst, const void* src, std::size_t bytes, cudaMemcpyKind kind, cudaStream_t stream) {
  if (bytes == 0) return cudaSuccess;
  bool pinned_source = false;
  if (cudaError_t e = check_copy(dst, src, bytes, kind, &pinned_source); e != cudaSuccess) return e;
  std::lock_guard lock(g_stream_mutex);
  if (pinned_source && stream && g_streams.count(stream)) {
    stream->pending.push_back({++stream->issued, dst, src, bytes});
    return cudaSuccess;
  }
  run_until(stream, UINT64_MAX);
  std::memmove(dst, src, bytes);
  return cudaSuccess;
}
cudaError_t cudaHostAlloc(void** ptr, std::size_t bytes, unsigned) {
  *ptr = nullptr;
  if (bytes == 0) return cudaSuccess;
  void* p = std::malloc(bytes);
  if (!p) return record(cudaErrorMemoryAllocation);
  std::lock_guard lock(g_mutex);
  g_pinned[static_cast<const char*>(p)] = bytes;
  *ptr = p;
  return cudaSuccess;
}
cudaError_t cudaMallocHost(void** ptr, std::size_t bytes) { return cudaHostAlloc(ptr, bytes, cudaHostAllocDefault); }
// Like the real call, waits for the device first (a copy may still read the block).
cudaError_t cudaFreeHost(void* ptr) {
  if (!ptr) return cudaSuccess;
  ++g_host_syncs;
  run_all_streams();
  std::lock_guard lock(g_mutex);
  auto it = g_pinned.find(static_cast<const char*>(ptr));
  if (it == g_pinned.end()) return record(cudaErrorInvalidValue);
  g_pinned.erase(it);
  std::free(ptr);
  return cudaSuccess;
}
cudaError_t cudaMemsetAsync(void* ptr, int value, std::size_t bytes, cudaStream_t stream) {
  if (bytes == 0) return cudaSuccess;
  if (!valid_device_range(ptr, bytes)) return record(cudaErrorInvalidValue);
  run_until(stream, UINT64_MAX);
  std::memset(ptr, value, bytes);
  return cudaSuccess;
}
cudaError_t cudaStreamCreate(cudaStream_t* stream) {
  *stream = new CUstream_st{};
  (*stream)->device = g_current_device;
  std::lock_guard lock(g_stream_mutex);
  g_streams.insert(*stream);
  return cudaSuccess;
}
cudaError_t cudaStreamCreateWithFlags(cudaStream_t* stream, unsigned) { return cudaStreamCreate(stream); }
cudaError_t cudaStreamDestroy(cudaStream_t stream) {
  std::lock_guard lock(g_stream_mutex);
  run_until(stream, UINT64_MAX);
  g_streams.erase(stream);
  delete stream;
  return cudaSuccess;
}
cudaError_t cudaStreamSynchronize(cudaStream_t stream) {
  ++g_host_syncs;
  run_until(stream, UINT64_MAX);
  return take_device_fault();
}
// Work enqueued on stream later runs at issue under emulation, so what the event marks is done now.
cudaError_t cudaStreamWaitEvent(cudaStream_t, cudaEvent_t event, unsigned) {
  if (!event) return record(cudaErrorInvalidResourceHandle);
  if (event->recorded) run_until(event->stream, event->seq);
  return cudaSuccess;
}
cudaError_t cudaEventCreate(cudaEvent_t* event) {
  *event = new CUevent_st{};
  return cudaSuccess;
}
cudaError_t cudaEventCreateWithFlags(cudaEvent_t* event, unsigned) { return cudaEventCreate(event); }
cudaError_t cudaEventDestroy(cudaEvent_t event) {
  delete event;
  return cudaSuccess;
}
cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t stream) {
  if (!event) return record(cudaErrorInvalidResourceHandle);
  std::lock_guard lock(g_stream_mutex);
  event->time = std::chrono::steady_clock::now();
  event->recorded = true;
  event->stream = stream;
  event->seq = stream && g_streams.count(stream) ? stream->issued : 0;
  return cudaSuccess;
}
// Not ready while a copy the event marks is still deferred; a never-recorded event is complete.
cudaError_t cudaEventQuery(cudaEvent_t event) {
  if (!event) return record(cudaErrorInvalidResourceHandle);
  std::lock_guard lock(g_stream_mutex);
  if (!event->recorded || !event->stream || !g_streams.count(event->stream)) return cudaSuccess;
  const auto& pending = event->stream->pending;
  return !pending.empty() && pending.front().seq <= event->seq ? cudaErrorNotReady : cudaSuccess;
}
cudaError_t cudaEventSynchronize(cudaEvent_t event) {
  if (!event || !event->recorded) return record(cudaErrorInvalidResourceHandle);
  ++g_host_syncs;
  run_until(event->stream, event->seq);
  return take_device_fault();
}
cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t end) {
  if (!start || !end || !start->recorded || !end->recorded) return record(cudaErrorInvalidResourceHandle);
  *ms = std::chrono::duration<float, std::milli>(end->time - start->time).count();
  return cudaSuccess;
}
