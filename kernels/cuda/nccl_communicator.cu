// The NCCL communicator (see nccl_communicator.h): bootstrap over the host
// communicator, in-place ncclAvg all-reduces grouped per call on a
// communication stream of its own, ordered against the compute stream with
// events, and RAII for the communicator, the stream and the events.
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/nccl_communicator.h"

#ifdef GCNN_CUDA_EMULATION
#include "kernels/cuda/emulation/nccl.h"
#else
#include <nccl.h>
#endif

namespace gcnn::cuda {

struct NcclCommunicator::State {
  int device = 0, rank = 0, size = 1;
  ncclComm_t comm = nullptr;
  cudaStream_t stream = nullptr;          // the communication stream
  cudaEvent_t compute_ready = nullptr;    // recorded on the compute stream before a group starts
  cudaEvent_t all_reduced = nullptr;      // recorded on the communication stream after the last group

  // Errors are ignored here: a destructor may run while an error unwinds.
  ~State() {
    if (comm) (void)ncclCommDestroy(comm);
    if (all_reduced) (void)cudaEventDestroy(all_reduced);
    if (compute_ready) (void)cudaEventDestroy(compute_ready);
    if (stream) (void)cudaStreamDestroy(stream);
  }
};

namespace {

// Throws when an NCCL call of this communicator failed, naming the rank and the call.
void check(const NcclCommunicator::State& s, ncclResult_t status, const char* call, const char* file, int line) {
  if (status != ncclSuccess)
    throw_error(file, line, GCNN_FORMAT("rank {} of {}: {} failed: {}", s.rank, s.size, call,
                                        ncclGetErrorString(status)));
}
#define GCNN_NCCL_CHECK(state, call) check((state), (call), #call, __FILE__, __LINE__)

}  // namespace

NcclCommunicator::NcclCommunicator(Communicator& host, int device) : state_(std::make_unique<State>()) {
  State& s = *state_;
  s.device = device;
  s.rank = host.rank();
  s.size = host.world_size();
  context(device);  // creates the device's compute stream and makes the device current
  ncclUniqueId id{};
  if (s.rank == 0) GCNN_NCCL_CHECK(s, ncclGetUniqueId(&id));
  host.broadcast(&id, sizeof(id), 0);
  GCNN_CUDA_CHECK(cudaSetDevice(device));
  GCNN_NCCL_CHECK(s, ncclCommInitRank(&s.comm, s.size, id, s.rank));
  GCNN_CUDA_CHECK(cudaStreamCreateWithFlags(&s.stream, cudaStreamNonBlocking));
  GCNN_CUDA_CHECK(cudaEventCreate(&s.compute_ready));
  GCNN_CUDA_CHECK(cudaEventCreate(&s.all_reduced));
}

NcclCommunicator::~NcclCommunicator() = default;

void NcclCommunicator::start_all_reduce_mean(const std::vector<DeviceBuffer>& buffers) {
  State& s = *state_;
  const DeviceContext& ctx = context(s.device);
  GCNN_CUDA_CHECK(cudaEventRecord(s.compute_ready, ctx.stream));
  GCNN_CUDA_CHECK(cudaStreamWaitEvent(s.stream, s.compute_ready, 0));
  GCNN_NCCL_CHECK(s, ncclGroupStart());
  // A failed call inside the group still ends the group before it is reported.
  ncclResult_t first_error = ncclSuccess;
  for (const DeviceBuffer& b : buffers) {
    const ncclResult_t r = ncclAllReduce(b.data, b.data, b.count, ncclFloat32, ncclAvg, s.comm, s.stream);
    if (first_error == ncclSuccess) first_error = r;
  }
  const ncclResult_t ended = ncclGroupEnd();
  check(s, first_error, "ncclAllReduce(..., ncclFloat32, ncclAvg, ...) in a group", __FILE__, __LINE__);
  check(s, ended, "ncclGroupEnd()", __FILE__, __LINE__);
}

void NcclCommunicator::order_compute_after_all_reduces() {
  State& s = *state_;
  const DeviceContext& ctx = context(s.device);
  GCNN_CUDA_CHECK(cudaEventRecord(s.all_reduced, s.stream));
  GCNN_CUDA_CHECK(cudaStreamWaitEvent(ctx.stream, s.all_reduced, 0));
  ncclResult_t async_error = ncclSuccess;
  GCNN_NCCL_CHECK(s, ncclCommGetAsyncError(s.comm, &async_error));
  check(s, async_error, "an all-reduce (ncclCommGetAsyncError)", __FILE__, __LINE__);
}

}  // namespace gcnn::cuda
