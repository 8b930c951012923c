// CUDA emulation harness: host stand-ins for the NCCL calls the backend makes
// (kernels/cuda/nccl_communicator.cu), with NCCL 2's names, signatures and
// enum values (nccl.h of NCCL 2.28). The collectives run through MPI on host
// copies of the emulated device buffers, at the call (ncclGroupEnd for a
// group): emulated streams run their work when it is queued, so that is where
// the stream order puts them. Without MPI only a single rank can be served.
#pragma once

#include <cstddef>

#include "kernels/cuda/emulation/runtime.h"

#define NCCL_MAJOR 2
#define NCCL_MINOR 28
#define NCCL_PATCH 0
#define NCCL_UNIQUE_ID_BYTES 128

enum ncclResult_t {
  ncclSuccess = 0,
  ncclUnhandledCudaError = 1,
  ncclSystemError = 2,
  ncclInternalError = 3,
  ncclInvalidArgument = 4,
  ncclInvalidUsage = 5,
  ncclRemoteError = 6,
  ncclInProgress = 7,
};
enum ncclRedOp_t { ncclSum = 0, ncclProd = 1, ncclMax = 2, ncclMin = 3, ncclAvg = 4 };
enum ncclDataType_t { ncclFloat32 = 7, ncclFloat = 7, ncclFloat64 = 8, ncclDouble = 8 };

struct ncclUniqueId {
  char internal[NCCL_UNIQUE_ID_BYTES];
};
struct ncclComm;
using ncclComm_t = ncclComm*;

const char* ncclGetErrorString(ncclResult_t result);
// Random bytes: every rank must receive rank 0's (ncclCommInitRank checks that).
ncclResult_t ncclGetUniqueId(ncclUniqueId* unique_id);
// Collective over MPI_COMM_WORLD (MPI must be initialised): nranks and rank
// must be MPI's, and every rank's id rank 0's.
ncclResult_t ncclCommInitRank(ncclComm_t* comm, int nranks, ncclUniqueId comm_id, int rank);
ncclResult_t ncclCommDestroy(ncclComm_t comm);
ncclResult_t ncclCommGetAsyncError(ncclComm_t comm, ncclResult_t* async_error);
// Float buffers only, ncclSum or ncclAvg (the sum times 1 / nranks, in float).
ncclResult_t ncclAllReduce(const void* sendbuff, void* recvbuff, std::size_t count, ncclDataType_t datatype,
                           ncclRedOp_t op, ncclComm_t comm, cudaStream_t stream);
// Collectives called between them run, in call order, at ncclGroupEnd.
ncclResult_t ncclGroupStart();
ncclResult_t ncclGroupEnd();
