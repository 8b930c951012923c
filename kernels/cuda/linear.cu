// Fully connected layer on CUDA: the three products are cublasSgemm calls, the
// bias add and bias gradient are small kernels here.
//
// cuBLAS is column-major (cuBLAS documentation, cublas<t>gemm:
// C = alpha op(A) op(B) + beta C, op(A) m x k, op(B) k x n, C m x n, each
// stored column-major with its leading dimension). A row-major [R, C] matrix
// is, byte for byte, the column-major [C, R] matrix of its transpose, so with
// x [N, in], w [out, in], y [N, out] row-major:
//   y^T  (out x N) = w   x^T  -> sgemm(T, N, m=out, n=N,   k=in,  A=w,  lda=in, B=x,  ldb=in,  C=y,  ldc=out)
//   dx^T (in x N)  = w^T dy^T -> sgemm(N, N, m=in,  n=N,   k=out, A=w,  lda=in, B=dy, ldb=out, C=dx, ldc=in)
//   dw^T (in x out)= x^T dy   -> sgemm(N, T, m=in,  n=out, k=N,   A=x,  lda=in, B=dy, ldb=out, C=dw, ldc=in)
// beta = 0 ("C need not be a valid input" in the documentation), so outputs
// are overwritten. The handle keeps cuBLAS's default math mode, which does not
// use TF32 tensor cores for sgemm unless asked (CUBLAS_TF32_TENSOR_OP_MATH or
// NVIDIA_TF32_OVERRIDE), so precision fp32 stays FP32 with cublasSgemm.
// The other precisions call cublasGemmEx with the same operands (its
// documented type combinations; alpha and beta are floats for both):
//   tf32: A, B, C CUDA_R_32F, compute type CUBLAS_COMPUTE_32F_FAST_TF32;
//   bf16: A, B CUDA_R_16BF (converted from our FP32 tensors), C CUDA_R_32F,
//         compute type CUBLAS_COMPUTE_32F (FP32 accumulation, FP32 output).
#include "kernels/cuda/common.cuh"

#include "kernels/cuda/bf16_convert.h"
#include "kernels/cuda/linear.h"

namespace gcnn::cuda {
namespace {

// y[i, o] += bias[o] for the row-major [rows, cols] matrix y.
__global__ void add_bias_rows_kernel(float* y, const float* bias, std::int64_t rows, std::int64_t cols) {
  const std::int64_t total = rows * cols;
  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; i < total;
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x)
    y[i] += bias[i % cols];
}

// db[o] = sum over rows of dy[i, o]: one thread per column (rows is the batch, small).
__global__ void column_sum_kernel(const float* dy, float* db, std::int64_t rows, std::int64_t cols) {
  for (std::int64_t o = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; o < cols;
       o += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    float sum = 0.0f;
    for (std::int64_t i = 0; i < rows; ++i) sum += dy[i * cols + o];
    db[o] = sum;
  }
}

int blas_int(std::int64_t v) {
  GCNN_CHECK(v <= 2147483647, "linear (cuda): dimension {} exceeds cuBLAS's int range", v);
  return static_cast<int>(v);
}

// C (FP32, column-major m x n) = op(A) op(B) in the given precision; A and B
// are FP32 tensors (converted to bf16 here in precision bf16).
void gemm(cublasHandle_t handle, Precision precision, cublasOperation_t ta, cublasOperation_t tb, std::int64_t m,
          std::int64_t n, std::int64_t k, const Tensor& A, std::int64_t lda, const Tensor& B, std::int64_t ldb,
          Tensor& C, std::int64_t ldc) {
  const float one = 1.0f, zero = 0.0f;
  if (precision == Precision::fp32) {
    GCNN_CUBLAS_CHECK(cublasSgemm(handle, ta, tb, blas_int(m), blas_int(n), blas_int(k), &one, A.data<float>(),
                                  blas_int(lda), B.data<float>(), blas_int(ldb), &zero, C.data<float>(),
                                  blas_int(ldc)));
    return;
  }
  const bool bf16 = precision == Precision::bf16;
  const Tensor a = bf16 ? to_bf16(A) : A, b = bf16 ? to_bf16(B) : B;
  const cudaDataType_t type = bf16 ? CUDA_R_16BF : CUDA_R_32F;
  GCNN_CUBLAS_CHECK(cublasGemmEx(handle, ta, tb, blas_int(m), blas_int(n), blas_int(k), &one, a.raw_data(), type,
                                 blas_int(lda), b.raw_data(), type, blas_int(ldb), &zero, C.raw_data(), CUDA_R_32F,
                                 blas_int(ldc), bf16 ? CUBLAS_COMPUTE_32F : CUBLAS_COMPUTE_32F_FAST_TF32,
                                 CUBLAS_GEMM_DEFAULT));
}

}  // namespace

void linear_forward(const Tensor& x, const Tensor& w, const Tensor& bias, Tensor& y, Precision precision) {
  const std::int64_t n = x.dim(0), in = x.dim(1), out = w.dim(0);
  auto& ctx = context(x.device().index);
  gemm(ctx.cublas, precision, CUBLAS_OP_T, CUBLAS_OP_N, out, n, in, w, in, x, in, y, out);
  if (bias.defined())
    GCNN_LAUNCH(add_bias_rows_kernel, blocks_for(static_cast<std::size_t>(n * out)), kThreadsPerBlock, 0, ctx.stream,
                y.data<float>(), bias.data<float>(), n, out);
}

void linear_backward(const Tensor& x, const Tensor& w, const Tensor& dy, Tensor* dx, Tensor& dw, Tensor* db,
                     Precision precision) {
  const std::int64_t n = x.dim(0), in = x.dim(1), out = w.dim(0);
  auto& ctx = context(x.device().index);
  if (dx) gemm(ctx.cublas, precision, CUBLAS_OP_N, CUBLAS_OP_N, in, n, out, w, in, dy, out, *dx, in);
  gemm(ctx.cublas, precision, CUBLAS_OP_N, CUBLAS_OP_T, in, out, n, x, in, dy, out, dw, in);
  if (db)
    GCNN_LAUNCH(column_sum_kernel, blocks_for(static_cast<std::size_t>(out)), kThreadsPerBlock, 0, ctx.stream,
                dy.data<float>(), db->data<float>(), n, out);
}

}  // namespace gcnn::cuda
