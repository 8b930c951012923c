// Host stand-ins for the NCCL calls (see nccl.h): all-reduce through
// MPI_Allreduce on a communicator duplicated from MPI_COMM_WORLD at
// ncclCommInitRank, on host copies of the emulated device buffers.
#include "kernels/cuda/emulation/nccl.h"

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstdint>
#include <cstring>
#include <memory>
#include <random>
#include <vector>

#include "kernels/cuda/emulation/control.h"

#if GCNN_HAVE_MPI
#include <mpi.h>
#endif

struct ncclComm {
  int nranks = 1;
  int rank = 0;
#if GCNN_HAVE_MPI
  MPI_Comm mpi = MPI_COMM_NULL;
#endif
};

namespace {

std::atomic<std::uint64_t> g_all_reduces{0};

// An all-reduce queued inside ncclGroupStart/ncclGroupEnd.
struct QueuedAllReduce {
  const float* send;
  float* recv;
  std::size_t count;
  ncclRedOp_t op;
  ncclComm_t comm;
};
thread_local int g_group_depth = 0;
thread_local std::vector<QueuedAllReduce> g_group;

bool on_device(const void* p, std::size_t bytes) {
  const auto* c = static_cast<const char*>(p);
  return c && gcnn::emu::is_device_pointer(c) && gcnn::emu::is_device_pointer(c + bytes - 1);
}

// The collective itself: a host copy of send, summed over the ranks, averaged
// when asked, written to recv.
ncclResult_t run_all_reduce(const QueuedAllReduce& a) {
  std::vector<float> host(a.send, a.send + a.count);
#if GCNN_HAVE_MPI
  if (a.comm->nranks > 1) {
    for (std::size_t done = 0; done < a.count;) {
      const std::size_t n = std::min<std::size_t>(INT_MAX / 2, a.count - done);
      if (MPI_Allreduce(MPI_IN_PLACE, host.data() + done, static_cast<int>(n), MPI_FLOAT, MPI_SUM, a.comm->mpi) !=
          MPI_SUCCESS)
        return ncclSystemError;
      done += n;
    }
  }
#endif
  if (a.op == ncclAvg) {
    const float scale = 1.0f / static_cast<float>(a.comm->nranks);
    for (float& v : host) v *= scale;
  }
  std::memcpy(a.recv, host.data(), a.count * sizeof(float));
  ++g_all_reduces;
  return ncclSuccess;
}

}  // namespace

namespace gcnn::emu {
std::uint64_t nccl_all_reduce_count() { return g_all_reduces.load(); }
}  // namespace gcnn::emu

const char* ncclGetErrorString(ncclResult_t result) {
  switch (result) {
    case ncclSuccess: return "no error";
    case ncclUnhandledCudaError: return "unhandled cuda error";
    case ncclSystemError: return "unhandled system error (the MPI stand-in failed, or MPI is not initialised)";
    case ncclInternalError: return "internal error";
    case ncclInvalidArgument: return "invalid argument";
    case ncclInvalidUsage: return "invalid usage";
    case ncclRemoteError: return "remote process exited or there was a network error";
    case ncclInProgress: return "NCCL operation in progress";
  }
  return "unknown result code";
}

ncclResult_t ncclGetUniqueId(ncclUniqueId* unique_id) {
  if (!unique_id) return ncclInvalidArgument;
  std::random_device entropy;
  for (char& c : unique_id->internal) c = static_cast<char>(entropy());
  return ncclSuccess;
}

ncclResult_t ncclCommInitRank(ncclComm_t* comm, int nranks, ncclUniqueId comm_id, int rank) {
  if (!comm || nranks < 1 || rank < 0 || rank >= nranks) return ncclInvalidArgument;
  auto made = std::make_unique<ncclComm>();
  made->nranks = nranks;
  made->rank = rank;
#if GCNN_HAVE_MPI
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized) {
    if (nranks > 1) return ncclSystemError;
  } else {
    int mpi_rank = 0, mpi_size = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &mpi_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &mpi_size);
    if (mpi_size != nranks || mpi_rank != rank) return ncclInvalidArgument;
    if (MPI_Comm_dup(MPI_COMM_WORLD, &made->mpi) != MPI_SUCCESS) return ncclSystemError;
    // Real NCCL finds its peers through the id: a rank with another id never joins.
    ncclUniqueId root = comm_id;
    if (MPI_Bcast(root.internal, NCCL_UNIQUE_ID_BYTES, MPI_BYTE, 0, made->mpi) != MPI_SUCCESS) return ncclSystemError;
    int mismatches = std::memcmp(root.internal, comm_id.internal, NCCL_UNIQUE_ID_BYTES) != 0 ? 1 : 0;
    if (MPI_Allreduce(MPI_IN_PLACE, &mismatches, 1, MPI_INT, MPI_SUM, made->mpi) != MPI_SUCCESS) return ncclSystemError;
    if (mismatches > 0) {
      MPI_Comm_free(&made->mpi);
      return ncclInvalidUsage;
    }
  }
#else
  (void)comm_id;
  if (nranks > 1) return ncclSystemError;
#endif
  *comm = made.release();
  return ncclSuccess;
}

ncclResult_t ncclCommDestroy(ncclComm_t comm) {
  if (!comm) return ncclInvalidArgument;
#if GCNN_HAVE_MPI
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (comm->mpi != MPI_COMM_NULL && !finalized) MPI_Comm_free(&comm->mpi);
#endif
  delete comm;
  return ncclSuccess;
}

ncclResult_t ncclCommGetAsyncError(ncclComm_t comm, ncclResult_t* async_error) {
  if (!comm || !async_error) return ncclInvalidArgument;
  *async_error = ncclSuccess;  // every collective already ran, and reported its status
  return ncclSuccess;
}

ncclResult_t ncclAllReduce(const void* sendbuff, void* recvbuff, std::size_t count, ncclDataType_t datatype,
                           ncclRedOp_t op, ncclComm_t comm, cudaStream_t) {
  if (!comm || datatype != ncclFloat32 || (op != ncclSum && op != ncclAvg)) return ncclInvalidArgument;
  if (count == 0) return ncclSuccess;
  if (!on_device(sendbuff, count * sizeof(float)) || !on_device(recvbuff, count * sizeof(float)))
    return ncclInvalidArgument;
  const QueuedAllReduce a{static_cast<const float*>(sendbuff), static_cast<float*>(recvbuff), count, op, comm};
  if (g_group_depth > 0) {
    g_group.push_back(a);
    return ncclSuccess;
  }
  return run_all_reduce(a);
}

ncclResult_t ncclGroupStart() {
  ++g_group_depth;
  return ncclSuccess;
}

ncclResult_t ncclGroupEnd() {
  if (g_group_depth == 0) return ncclInvalidUsage;
  if (--g_group_depth > 0) return ncclSuccess;
  std::vector<QueuedAllReduce> group;
  group.swap(g_group);
  for (const QueuedAllReduce& a : group)
    if (const ncclResult_t r = run_all_reduce(a); r != ncclSuccess) return r;
  return ncclSuccess;
}
