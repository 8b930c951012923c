// Included first by every .cu file of the CUDA backend: the real CUDA runtime,
// cuDNN and cuBLAS under nvcc, or their emulation stand-ins when compiled as
// host C++ (GCNN_CUDA_EMULATION); checked-call macros that carry file:line (and
// that wait for the device after each call under GCNN_CUDA_SYNC=1); the launch
// macro kernels use instead of raw <<<>>>; and the per-device context.
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

namespace gcnn::cuda {
// Debugging mode GCNN_CUDA_SYNC=1 (environment, read once; 0 or unset: off):
// every kernel launch and cuDNN/cuBLAS call then waits for the device and
// checks for errors, so a kernel that faults is named where it was launched
// instead of at a later, unrelated call. Slow; never on by default.
bool sync_each_call();
// Tests switch the mode without the environment.
void set_sync_each_call(bool on);
// The mode a GCNN_CUDA_SYNC value asks for: off for unset, "" or "0", on for
// "1"; anything else is an input error naming the variable.
bool parse_cuda_sync(const char* value);
// Waits for all work on the current device; throws naming `what` and file:line
// when it or anything before it failed.
void synchronize_and_check(const char* what, const char* file, int line);
}  // namespace gcnn::cuda

#define GCNN_SYNC_IF_DEBUGGING(what)                                                      \
  do {                                                                                    \
    if (::gcnn::cuda::sync_each_call()) ::gcnn::cuda::synchronize_and_check(what, __FILE__, __LINE__); \
  } while (0)

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
    GCNN_SYNC_IF_DEBUGGING(#call);                                                              \
  } while (0)

#define GCNN_CUBLAS_CHECK(call)                                                                 \
  do {                                                                                          \
    cublasStatus_t gcnn_status_ = (call);                                                       \
    if (gcnn_status_ != CUBLAS_STATUS_SUCCESS)                                                  \
      ::gcnn::throw_error(__FILE__, __LINE__,                                                   \
                          GCNN_FORMAT("cuBLAS error {} in {}", cublasGetStatusString(gcnn_status_), #call)); \
    GCNN_SYNC_IF_DEBUGGING(#call);                                                              \
  } while (0)

// GCNN_LAUNCH(kernel, grid, block, shared_bytes, stream, args...): launches a
// __global__ function and checks the launch (and, under GCNN_CUDA_SYNC=1, its
// execution). Under emulation it runs the grid on host fibers before
// returning, after the stream's deferred copies.
#ifdef GCNN_CUDA_EMULATION
#define GCNN_LAUNCH(kernel, grid, block, shared_bytes, stream, ...)                                    \
  do {                                                                                                 \
    ::gcnn::emu::run_pending(stream);                                                                  \
    ::gcnn::emu::launch(#kernel, kernel, grid, block, shared_bytes, __VA_ARGS__);                      \
    GCNN_SYNC_IF_DEBUGGING(#kernel);                                                                   \
  } while (0)
#else
#define GCNN_LAUNCH(kernel, grid, block, shared_bytes, stream, ...)       \
  do {                                                                    \
    kernel<<<(grid), (block), (shared_bytes), (stream)>>>(__VA_ARGS__);   \
    GCNN_CUDA_CHECK(cudaGetLastError());                                  \
    GCNN_SYNC_IF_DEBUGGING(#kernel);                                      \
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
