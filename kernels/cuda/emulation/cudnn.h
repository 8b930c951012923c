// CUDA emulation harness: host stand-ins for the cuDNN calls the backend makes,
// with cuDNN's names and signatures, computed by the reference ops. Only the
// calls the backend uses are here; each is added together with its first user.
#pragma once

#include <cstddef>

#include "kernels/cuda/emulation/runtime.h"

enum cudnnStatus_t {
  CUDNN_STATUS_SUCCESS = 0,
  CUDNN_STATUS_NOT_INITIALIZED = 1001,
  CUDNN_STATUS_BAD_PARAM = 2000,
  CUDNN_STATUS_NOT_SUPPORTED = 3000,
  CUDNN_STATUS_EXECUTION_FAILED = 5000,
};
struct cudnnContext;
using cudnnHandle_t = cudnnContext*;

#define CUDNN_MAJOR 9
#define CUDNN_MINOR 0
#define CUDNN_PATCHLEVEL 0

const char* cudnnGetErrorString(cudnnStatus_t status);
std::size_t cudnnGetVersion();
cudnnStatus_t cudnnCreate(cudnnHandle_t* handle);
cudnnStatus_t cudnnDestroy(cudnnHandle_t handle);
cudnnStatus_t cudnnSetStream(cudnnHandle_t handle, cudaStream_t stream);
