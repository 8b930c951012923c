// CUDA emulation harness, test controls: how many emulated devices exist, the
// order in which emulated threads run between barriers, and counters that let
// tests prove a CUDA code path really ran. Safe to include from any C++ file.
#pragma once

#include <cstddef>
#include <cstdint>

namespace gcnn::emu {

enum class Schedule {
  Forward,   // thread 0 first
  Reverse,   // highest thread first
  Shuffled,  // a fresh pseudo-random order for every stretch between barriers
};
void set_schedule(Schedule schedule, std::uint64_t seed = 0x9e3779b97f4a7c15ULL);
Schedule schedule();

// How many emulated devices cudaGetDeviceCount reports: 0 by default (a build
// without nvcc has no device); the emulation tests set 1.
void set_device_count(int count);
int device_count();

// Kernel launches run under emulation so far.
std::uint64_t launch_count();
// The next kernel launch faults on the device, as a kernel that dereferences a
// bad pointer does on a GPU: the launch itself succeeds, and the next
// synchronising call (stream, event or device synchronize, or cudaMemcpy)
// returns cudaErrorLaunchFailure. On a GPU that error is sticky; here it is
// reported once, so that later tests run.
void fault_next_launch();
// ncclAllReduce calls the NCCL stand-in (nccl.h) has served so far.
std::uint64_t nccl_all_reduce_count();
// Bytes currently held by the emulated cudaMalloc (tests check for leaks).
std::size_t bytes_in_use();
// True when ptr lies inside a live emulated cudaMalloc block.
bool is_device_pointer(const void* ptr);

// What the emulated runtime has been asked to do that costs a GPU step time:
// host synchronisations (cudaStreamSynchronize, cudaDeviceSynchronize,
// cudaEventSynchronize, and the synchronous cudaMemcpy) and host<->device
// copies by the host side's memory (pageable: staged by the driver, never
// overlapped; pinned: cudaHostAlloc memory, asynchronous DMA). Counted since
// the process started; tests take differences.
struct RuntimeCounters {
  std::uint64_t host_syncs = 0;
  std::uint64_t pageable_copies = 0;
  std::uint64_t pinned_copies = 0;
};
RuntimeCounters runtime_counters();
// cudnnFind*AlgorithmEx calls served so far (tests check the search is cached).
std::uint64_t algorithm_searches();

}  // namespace gcnn::emu
