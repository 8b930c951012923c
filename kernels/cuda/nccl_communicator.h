// NCCL communicator for device buffers, as plain C++ (no CUDA or NCCL types),
// so train/ can use it whether the backend was built by nvcc (the real NCCL)
// or under the emulation harness (kernels/cuda/emulation/nccl.h: the same
// calls served through MPI on host copies). Implemented in nccl_communicator.cu.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include "kernels/communicator.h"

namespace gcnn::cuda {

// A device float buffer and its length.
struct DeviceBuffer {
  float* data;
  std::size_t count;
};

// One NCCL communicator per process, on one device, with its own
// communication stream. Every NCCL error throws a gcnn::Error naming the rank
// and the call.
class NcclCommunicator {
 public:
  // Collective over every rank of host: rank 0's ncclGetUniqueId is broadcast
  // over host, then each rank makes device current and calls ncclCommInitRank.
  NcclCommunicator(Communicator& host, int device);
  ~NcclCommunicator();
  NcclCommunicator(const NcclCommunicator&) = delete;
  NcclCommunicator& operator=(const NcclCommunicator&) = delete;

  // Replaces each buffer by its mean over ranks, in place, as one NCCL group
  // on the communication stream, after everything the device's compute stream
  // has queued so far (an event orders them); returns without waiting.
  void start_all_reduce_mean(const std::vector<DeviceBuffer>& buffers);
  // Makes the compute stream wait for every all-reduce started so far (the
  // host does not wait), then reports an asynchronous NCCL error if any.
  void order_compute_after_all_reduces();

  struct State;

 private:
  std::unique_ptr<State> state_;
};

}  // namespace gcnn::cuda
