// CUDA emulation harness, runtime side: host stand-ins, with the real names and
// signatures, for the CUDA runtime calls the backend makes (device query,
// malloc/free, memcpy/memset, streams, events, errors). Device memory is host
// memory, each block followed by a guard page (an emulated kernel's access past
// the end of an allocation is an error naming the kernel and the index);
// kernels run synchronously at launch. Copies from pinned host memory
// (cudaHostAlloc) are deferred, as a DMA engine would run them later: they
// happen when something orders work after them (an event they precede that
// the host or another stream waits on, a sync, a launch or library call on
// their stream), so a missing cudaStreamWaitEvent reads stale data, and a
// host write to a pinned buffer before its copy completed is seen by the copy.
// Host synchronisations and pageable copies are counted (control.h).
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/cuda/emulation/kernel.h"

enum cudaError_t {
  cudaSuccess = 0,
  cudaErrorInvalidValue = 1,
  cudaErrorMemoryAllocation = 2,
  cudaErrorInvalidDevice = 101,
  cudaErrorNoDevice = 100,
  cudaErrorInvalidResourceHandle = 400,
  cudaErrorNotReady = 600,
  cudaErrorLaunchFailure = 719,
};
using cudaError = cudaError_t;

enum cudaMemcpyKind {
  cudaMemcpyHostToHost = 0,
  cudaMemcpyHostToDevice = 1,
  cudaMemcpyDeviceToHost = 2,
  cudaMemcpyDeviceToDevice = 3,
  cudaMemcpyDefault = 4,
};

struct CUstream_st;
struct CUevent_st;
using cudaStream_t = CUstream_st*;
using cudaEvent_t = CUevent_st*;

struct cudaDeviceProp {
  char name[256];
  std::size_t totalGlobalMem;
  std::size_t sharedMemPerBlock;
  int multiProcessorCount;
  int major;
  int minor;
  int warpSize;
  int maxThreadsPerBlock;
};

#define CUDART_VERSION 13000

const char* cudaGetErrorString(cudaError_t error);
const char* cudaGetErrorName(cudaError_t error);
cudaError_t cudaGetLastError();
cudaError_t cudaPeekAtLastError();
cudaError_t cudaGetDeviceCount(int* count);
cudaError_t cudaGetDeviceProperties(cudaDeviceProp* prop, int device);
cudaError_t cudaSetDevice(int device);
cudaError_t cudaGetDevice(int* device);
cudaError_t cudaDeviceSynchronize();
cudaError_t cudaRuntimeGetVersion(int* version);
cudaError_t cudaDriverGetVersion(int* version);
enum cudaDeviceAttr {
  cudaDevAttrClockRate = 13,
  cudaDevAttrMemoryClockRate = 36,
  cudaDevAttrGlobalMemoryBusWidth = 37,
};
cudaError_t cudaDeviceGetAttribute(int* value, cudaDeviceAttr attr, int device);
cudaError_t cudaMalloc(void** ptr, std::size_t bytes);
cudaError_t cudaFree(void* ptr);
cudaError_t cudaMemcpy(void* dst, const void* src, std::size_t bytes, cudaMemcpyKind kind);
cudaError_t cudaMemcpyAsync(void* dst, const void* src, std::size_t bytes, cudaMemcpyKind kind,
                            cudaStream_t stream = nullptr);
cudaError_t cudaHostAlloc(void** ptr, std::size_t bytes, unsigned flags);
cudaError_t cudaMallocHost(void** ptr, std::size_t bytes);
cudaError_t cudaFreeHost(void* ptr);
#define cudaHostAllocDefault 0x00
cudaError_t cudaMemsetAsync(void* ptr, int value, std::size_t bytes, cudaStream_t stream = nullptr);
cudaError_t cudaStreamCreate(cudaStream_t* stream);
cudaError_t cudaStreamCreateWithFlags(cudaStream_t* stream, unsigned flags);
cudaError_t cudaStreamDestroy(cudaStream_t stream);
cudaError_t cudaStreamSynchronize(cudaStream_t stream);
cudaError_t cudaStreamWaitEvent(cudaStream_t stream, cudaEvent_t event, unsigned flags = 0);
cudaError_t cudaEventCreate(cudaEvent_t* event);
cudaError_t cudaEventCreateWithFlags(cudaEvent_t* event, unsigned flags);
cudaError_t cudaEventQuery(cudaEvent_t event);
#define cudaEventDefault 0x00
#define cudaEventDisableTiming 0x02
cudaError_t cudaEventDestroy(cudaEvent_t event);
cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t stream = nullptr);
cudaError_t cudaEventSynchronize(cudaEvent_t event);
cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t end);
#define cudaStreamNonBlocking 0x01

namespace gcnn::emu {
// Bounds checks: the caching allocator (kernels/cuda/device.cu) tells the
// runtime which part of a block a tensor uses; it places tensors at the end of
// their block, right before the guard page.
void set_used_extent(const void* block, const void* start, std::size_t bytes);
// Where a faulting address lies when it is in a block's guard page: the used
// extent of that block and how many bytes past its end the address is.
struct GuardHit {
  const char* used_start;
  std::size_t used_bytes;
  std::size_t bytes_past_end;
};
bool find_guard_hit(const void* address, GuardHit* hit);
// Performs the stream's deferred copies: work about to run on it (a kernel
// launch, a cuDNN or cuBLAS call) comes after them.
void run_pending(cudaStream_t stream);
// A launched kernel faulted on the device (see control.h, fault_next_launch):
// the next synchronising call reports it.
void raise_device_fault();
}  // namespace gcnn::emu
