// The emulation harness's bounds checks: every emulated cudaMalloc block ends
// at a guard page and the caching allocator puts each tensor at the end of its
// block, so a kernel that reads or writes one element past a tensor fails with
// an error naming the kernel, the thread and the index. Proved on deliberately
// broken kernels (off-by-one read, off-by-one write), on tensors whose size is
// and is not a multiple of the allocator's rounding, and on a reused cached
// block; a correct kernel on the same tensors still runs.
#define GCNN_CUDA_EMULATION 1
#include "kernels/cuda/common.cuh"

#include <gtest/gtest.h>

#include <string>

#include "kernels/cuda/emulation/control.h"
#include "tests/support/test_support.h"

namespace gcnn {
namespace {

// y[i] = x[i] for i <= n: reads x[n], one past the end.
__global__ void off_by_one_read_kernel(const float* x, float* y, std::size_t n) {
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i <= n;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x)
    if (i < n) y[i] = x[i];
    else y[0] = x[i];
}

// y[i] = x[i] for i < n and y[n] = 0: writes one past the end.
__global__ void off_by_one_write_kernel(const float* x, float* y, std::size_t n) {
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i <= n;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x)
    y[i] = i < n ? x[i] : 0.0f;
}

// y[i] = x[i] for i < n: the correct copy.
__global__ void copy_kernel(const float* x, float* y, std::size_t n) {
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x)
    y[i] = x[i];
}

template <class Kernel>
std::string launch_error(Kernel kernel, const Tensor& x, Tensor& y) {
  const auto n = static_cast<std::size_t>(x.numel());
  try {
    GCNN_LAUNCH(kernel, cuda::blocks_for(n, 64), 64, 0, nullptr, x.data<float>(), y.data<float>(), n);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(EmulationBoundsChecks, OffByOneReadAndWriteFailNamingKernelAndIndex) {
  // 5 floats: far inside a 512-byte block; 128 floats: exactly the rounded block; 1001: a block of 4096 bytes.
  for (std::int64_t n : {5, 128, 1001}) {
    SCOPED_TRACE("n " + std::to_string(n));
    const Tensor x = test::random_tensor({n}, 11, -1.0f, 1.0f, Device::cuda(0));
    Tensor y = Tensor::zeros({n}, Device::cuda(0));
    const std::string read = launch_error(off_by_one_read_kernel, x, y);
    EXPECT_NE(read.find("kernel kernel"), std::string::npos) << read;  // GCNN_LAUNCH names its first argument
    EXPECT_NE(read.find("reads out of bounds"), std::string::npos) << read;
    EXPECT_NE(read.find("float index " + std::to_string(n) + " of a buffer of " + std::to_string(n)),
              std::string::npos)
        << read;
    const std::string write = launch_error(off_by_one_write_kernel, x, y);
    EXPECT_NE(write.find("writes out of bounds"), std::string::npos) << write;
    EXPECT_NE(write.find("float index " + std::to_string(n)), std::string::npos) << write;
    EXPECT_EQ(launch_error(copy_kernel, x, y), "");
    EXPECT_EQ(y.to_vector(), x.to_vector());
  }
}

TEST(EmulationBoundsChecks, NamedKernelInTheMessageAndCachedBlocksStillGuarded) {
  { Tensor big = Tensor::empty({1000}, Device::cuda(0)); }  // leaves a 4096-byte block in the cache
  const Tensor x = test::random_tensor({990}, 12, -1.0f, 1.0f, Device::cuda(0));  // served from that block
  Tensor y = Tensor::zeros({990}, Device::cuda(0));
  const auto n = static_cast<std::size_t>(x.numel());
  try {
    GCNN_LAUNCH(off_by_one_read_kernel, 16, 64, 0, nullptr, x.data<float>(), y.data<float>(), n);
    ADD_FAILURE() << "the off-by-one read was not caught";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("kernel off_by_one_read_kernel"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("float index 990"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace gcnn
