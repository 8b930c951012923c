// CUDA emulation harness: host stand-ins for the cuBLAS calls the backend makes,
// with cuBLAS's names and signatures, computed by plain host loops.
#pragma once

#include "kernels/cuda/emulation/runtime.h"

enum cublasStatus_t {
  CUBLAS_STATUS_SUCCESS = 0,
  CUBLAS_STATUS_NOT_INITIALIZED = 1,
  CUBLAS_STATUS_INVALID_VALUE = 7,
  CUBLAS_STATUS_EXECUTION_FAILED = 13,
};
struct cublasContext;
using cublasHandle_t = cublasContext*;

cublasStatus_t cublasCreate(cublasHandle_t* handle);
cublasStatus_t cublasDestroy(cublasHandle_t handle);
cublasStatus_t cublasSetStream(cublasHandle_t handle, cudaStream_t stream);
cublasStatus_t cublasGetVersion(cublasHandle_t handle, int* version);
const char* cublasGetStatusString(cublasStatus_t status);

// ---- GEMM, served by kernels/cuda/emulation/cublas_gemm.cpp ----
// Column-major, as cuBLAS: C = alpha op(A) op(B) + beta C with op(A) m x k,
// op(B) k x n, C m x n; C is not read when beta is zero.
enum cublasOperation_t { CUBLAS_OP_N = 0, CUBLAS_OP_T = 1, CUBLAS_OP_C = 2 };
cublasStatus_t cublasSgemm(cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb, int m, int n,
                           int k, const float* alpha, const float* A, int lda, const float* B, int ldb,
                           const float* beta, float* C, int ldc);

namespace gcnn::emu {
// Performs the deferred copies of the handle's stream (before a call computes on it).
void run_pending_of(cublasHandle_t handle);
}  // namespace gcnn::emu
