// Included first by every .cu file of the CUDA backend: the real CUDA runtime,
// cuDNN and cuBLAS under nvcc, or their emulation stand-ins when compiled as
// host C++ (GCNN_CUDA_EMULATION); checked-call macros that carry file:line; the
// launch macro kernels use instead of raw <<<>>>; and the per-device context.
#pragma once

#ifdef GCNN_CUDA_EMULATION
#include "kernels/cuda/emulation/cublas.h"
#include "kernels/cuda/emulation/cudnn.h"
#include "kernels/cuda/emulation/runtime.h"
#else
#include <cublas_v2.h>
#include <cuda_bf16.h>
#include <cuda_runtime.h>
#include <cudnn.h>
#define GCNN_DYNAMIC_SHARED(type, name) extern __shared__ type name[]
#endif

#include <cstddef>

#include "kernels/cuda/backend.h"
#include "kernels/error.h"

#define GCNN_CUDA_CHECK(call)                                                                   \
  do {                                                                                          \
    cudaError_t gcnn_status_ = (call);                                                          \
    if (gcnn_status_ != cudaSuccess)                                                            \
      ::gcnn::throw_error(__FILE__, __LINE__, GCNN_FORMAT("CUDA error {} ({}) in {}",           \
                                                          cudaGetErrorName(gcnn_status_),       \
                                                          cudaGetErrorString(gcnn_status_), #call)); \
  } while (0)

#define GCNN_CUDNN_CHECK(call)                                                                  \
  do {                                                                                          \
    cudnnStatus_t gcnn_status_ = (call);                                                        \
    if (gcnn_status_ != CUDNN_STATUS_SUCCESS)                                                   \
      ::gcnn::throw_error(__FILE__, __LINE__,                                                   \
                          GCNN_FORMAT("cuDNN error {} in {}", cudnnGetErrorString(gcnn_status_), #call)); \
  } while (0)

#define GCNN_CUBLAS_CHECK(call)                                                                 \
  do {                                                                                          \
    cublasStatus_t gcnn_status_ = (call);                                                       \
    if (gcnn_status_ != CUBLAS_STATUS_SUCCESS)                                                  \
      ::gcnn::throw_error(__FILE__, __LINE__,                                                   \
                          GCNN_FORMAT("cuBLAS error {} in {}", cublasGetStatusString(gcnn_status_), #call)); \
  } while (0)

// GCNN_LAUNCH(kernel, grid, block, shared_bytes, stream, args...): launches a
// __global__ function and checks the launch. Under emulation it runs the grid
// on host fibers before returning, after the stream's deferred copies.
#ifdef GCNN_CUDA_EMULATION
#define GCNN_LAUNCH(kernel, grid, block, shared_bytes, stream, ...) \
  (::gcnn::emu::run_pending(stream), ::gcnn::emu::launch(#kernel, kernel, grid, block, shared_bytes, __VA_ARGS__))
#else
#define GCNN_LAUNCH(kernel, grid, block, shared_bytes, stream, ...)       \
  do {                                                                    \
    kernel<<<(grid), (block), (shared_bytes), (stream)>>>(__VA_ARGS__);   \
    GCNN_CUDA_CHECK(cudaGetLastError());                                  \
  } while (0)
#endif

namespace gcnn::cuda {

// Per-device resources, created on first use and owned for the life of the
// process: the stream every op runs on, and the cuDNN and cuBLAS handles bound
// to it, and the SM count grids are sized from. Also makes the device current
// for the calling host thread.
struct DeviceContext {
  int device = 0;
  int multiprocessors = 1;
  cudaStream_t stream = nullptr;
  cudnnHandle_t cudnn = nullptr;
  cublasHandle_t cublas = nullptr;
};
DeviceContext& context(int device);

// Blocks of at most this many threads are what the 1-D kernels launch.
constexpr int kThreadsPerBlock = 256;
inline unsigned blocks_for(std::size_t n, int threads = kThreadsPerBlock) {
  std::size_t b = (n + threads - 1) / threads;
  return static_cast<unsigned>(b < 1 ? 1 : (b > 65535u * 32u ? 65535u * 32u : b));
}

}  // namespace gcnn::cuda
