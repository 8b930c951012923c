// The GCNN_CUDA_SYNC=1 debugging mode under emulation: a kernel that faults on
// the device is reported by whichever synchronising call comes next, unless the
// mode is on; then its own launch fails, naming the kernel and the launching
// file. Also: in the mode every launch and cuDNN/cuBLAS call waits for the
// device, and without it an op waits for nothing; the values are the same.
#define GCNN_CUDA_EMULATION 1
#include "kernels/cuda/common.cuh"

#include <gtest/gtest.h>

#include <string>

#include "kernels/cuda/emulation/control.h"
#include "kernels/ops/linear.h"
#include "tests/support/test_support.h"

namespace gcnn {
namespace {

// x[i] *= a.
__global__ void scale_kernel(float* x, std::size_t n, float a) {
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x)
    x[i] *= a;
}

// Sets the mode for one scope; off again afterwards, as every other test expects.
struct SyncMode {
  explicit SyncMode(bool on) { cuda::set_sync_each_call(on); }
  ~SyncMode() { cuda::set_sync_each_call(false); }
};

void launch_scale(Tensor& x) {
  const auto n = static_cast<std::size_t>(x.numel());
  GCNN_LAUNCH(scale_kernel, cuda::blocks_for(n, 64), 64, 0, nullptr, x.data<float>(), n, 2.0f);
}

TEST(CudaDebugSync, AFaultIsNamedAtItsLaunchOnlyInTheMode) {
  Tensor x = test::random_tensor({100}, 3, -1.0f, 1.0f, Device::cuda(0));
  {
    SyncMode mode(false);
    emu::fault_next_launch();
    EXPECT_NO_THROW(launch_scale(x));  // the launch returns before the fault is known
    EXPECT_EQ(cudaDeviceSynchronize(), cudaErrorLaunchFailure);  // later, at whatever waits next
    (void)cudaGetLastError();
  }
  {
    SyncMode mode(true);
    emu::fault_next_launch();
    try {
      launch_scale(x);
      ADD_FAILURE() << "the faulting launch returned in GCNN_CUDA_SYNC mode";
    } catch (const Error& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find("cudaErrorLaunchFailure"), std::string::npos) << what;
      EXPECT_NE(what.find("while running scale_kernel"), std::string::npos) << what;
      EXPECT_NE(what.find("debug_sync_test.cpp"), std::string::npos) << what;
    }
    EXPECT_EQ(cudaDeviceSynchronize(), cudaSuccess);
  }
}

TEST(CudaDebugSync, EveryLaunchAndLibraryCallWaitsInTheModeAndNothingWaitsOutsideIt) {
  const Tensor x = test::random_tensor({7, 5}, 4), w = test::random_tensor({3, 5}, 5), b = test::random_tensor({3}, 6);
  const Tensor xd = x.to(Device::cuda(0)), wd = w.to(Device::cuda(0)), bd = b.to(Device::cuda(0));
  std::vector<float> values[2];
  for (bool on : {false, true}) {
    SCOPED_TRACE(on ? "GCNN_CUDA_SYNC=1" : "GCNN_CUDA_SYNC off");
    Tensor y = Tensor::empty({7, 3}, Device::cuda(0));
    const std::uint64_t launches = emu::launch_count(), syncs = emu::runtime_counters().host_syncs;
    {
      SyncMode mode(on);
      ops::linear_forward(xd, wd, bd, y);  // one cuBLAS GEMM and the bias kernel
    }
    const std::uint64_t launched = emu::launch_count() - launches, waited = emu::runtime_counters().host_syncs - syncs;
    EXPECT_GE(launched, 1u);
    if (on) EXPECT_GE(waited, launched + 1) << "one wait per launch and at least one for the GEMM";
    else EXPECT_EQ(waited, 0u);
    values[on] = y.to_vector();
  }
  EXPECT_EQ(values[0], values[1]);
}

TEST(CudaDebugSync, TheEnvironmentValueIsZeroOrOne) {
  EXPECT_FALSE(cuda::parse_cuda_sync(nullptr));
  EXPECT_FALSE(cuda::parse_cuda_sync(""));
  EXPECT_FALSE(cuda::parse_cuda_sync("0"));
  EXPECT_TRUE(cuda::parse_cuda_sync("1"));
  for (const char* bad : {"yes", "true", "2", " 1"}) {
    try {
      cuda::parse_cuda_sync(bad);
      ADD_FAILURE() << "GCNN_CUDA_SYNC='" << bad << "' was accepted";
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find("GCNN_CUDA_SYNC='" + std::string(bad) + "'"), std::string::npos)
          << e.what();
    }
  }
}

}  // namespace
}  // namespace gcnn
