// The CUDA emulation harness itself: device memory through Tensor and the
// caching allocator, the two proving kernels (ReLU, per-channel sum) against
// the reference on sizes that are not multiples of the block size, barrier and
// shuffle semantics, and deliberately broken kernels that must fail: a missing
// barrier, a dependence on block order, a shuffle outside its mask.
#define GCNN_CUDA_EMULATION 1
#include "kernels/cuda/common.cuh"

#include <gtest/gtest.h>

#include <cmath>

#include "kernels/cuda/emulation/control.h"
#include "kernels/ops/activation.h"
#include "kernels/ops/reduction.h"
#include "kernels/reference/activation.h"
#include "kernels/reference/reduction.h"
#include "tests/support/test_support.h"

namespace gcnn {
namespace {

using test::relative_error;
Tensor random_cpu(const Shape& shape, unsigned seed) { return test::random_tensor(shape, seed); }

struct ScheduleGuard {
  explicit ScheduleGuard(emu::Schedule s) : saved(emu::schedule()) { emu::set_schedule(s); }
  ~ScheduleGuard() { emu::set_schedule(saved); }
  emu::Schedule saved;
};

TEST(EmulatedDevice, TensorRoundTripAndFill) {
  const Device dev = Device::cuda(0);
  Tensor host = random_cpu({3, 5, 7}, 1);
  Tensor d = host.to(dev);
  EXPECT_TRUE(d.device().is_cuda());
  EXPECT_TRUE(emu::is_device_pointer(d.data<float>()));
  EXPECT_EQ(d.to_vector(), host.to_vector());
  Tensor part = d.slice(1, 2);
  part.fill(4.5f);
  auto v = d.to_vector();
  EXPECT_EQ(v[34], host.to_vector()[34]);
  EXPECT_EQ(v[35], 4.5f);
  EXPECT_EQ(v[69], 4.5f);
  EXPECT_EQ(v[70], host.to_vector()[70]);
}

TEST(EmulatedDevice, CachingAllocatorReusesBlocksAndTracksPeak) {
  const int dev = 0;
  cuda::empty_cache(dev);
  cuda::reset_peak(dev);
  auto before = cuda::allocator_stats(dev);
  { Tensor a = Tensor::empty({1000}, Device::cuda(0)); }
  auto after_first = cuda::allocator_stats(dev);
  EXPECT_EQ(after_first.device_allocations, before.device_allocations + 1);
  EXPECT_GE(after_first.cached_bytes, 4000u);
  { Tensor b = Tensor::empty({990}, Device::cuda(0)); }  // same rounded size: served from the cache
  auto after_second = cuda::allocator_stats(dev);
  EXPECT_EQ(after_second.device_allocations, after_first.device_allocations);
  EXPECT_GE(after_second.peak_allocated_bytes, 4000u);
  EXPECT_EQ(after_second.allocated_bytes, before.allocated_bytes);
  cuda::empty_cache(dev);
  EXPECT_EQ(cuda::allocator_stats(dev).cached_bytes, 0u);
}

TEST(EmulatedDevice, MixedDeviceOpIsAnErrorNamingBothDevices) {
  Tensor x = Tensor::zeros({4});
  Tensor y = Tensor::zeros({4}, Device::cuda(0));
  try {
    ops::relu_forward(x, y);
    FAIL() << "mixed devices accepted";
  } catch (const Error& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("on cpu"), std::string::npos) << msg;
    EXPECT_NE(msg.find("on cuda:0"), std::string::npos) << msg;
  }
}

class EmulatedRelu : public ::testing::TestWithParam<std::int64_t> {};

TEST_P(EmulatedRelu, MatchesReference) {
  const std::int64_t n = GetParam();
  Tensor x = random_cpu({n}, 7);
  Tensor dy = random_cpu({n}, 8);
  Tensor y_ref = Tensor::empty({n}), dx_ref = Tensor::empty({n});
  reference::relu_forward(x, y_ref);
  reference::relu_backward(y_ref, dy, dx_ref);

  auto launches = emu::launch_count();
  Tensor xd = x.to(Device::cuda(0)), dyd = dy.to(Device::cuda(0));
  Tensor yd = Tensor::full({n}, NAN, Device::cuda(0)), dxd = Tensor::full({n}, NAN, Device::cuda(0));
  ops::relu_forward(xd, yd);
  ops::relu_backward(yd, dyd, dxd);
  EXPECT_GT(emu::launch_count(), launches + 1);
  EXPECT_EQ(relative_error(yd, y_ref), 0.0);
  EXPECT_EQ(relative_error(dxd, dx_ref), 0.0);
}
INSTANTIATE_TEST_SUITE_P(AwkwardSizes, EmulatedRelu, ::testing::Values(1, 31, 255, 257, 1000, 4099));

class EmulatedChannelSum : public ::testing::TestWithParam<Shape> {};

TEST_P(EmulatedChannelSum, MatchesReferenceUnderEverySchedule) {
  const Shape shape = GetParam();
  Tensor x = random_cpu(shape, 11);
  Tensor ref = Tensor::empty({shape[1]});
  reference::channel_sum(x, ref);
  Tensor xd = x.to(Device::cuda(0));
  for (auto s : {emu::Schedule::Forward, emu::Schedule::Reverse, emu::Schedule::Shuffled}) {
    ScheduleGuard guard(s);
    Tensor out = Tensor::full({shape[1]}, NAN, Device::cuda(0));
    ops::channel_sum(xd, out);
    EXPECT_LT(relative_error(out, ref), 1e-5) << "schedule " << static_cast<int>(s);
  }
}
INSTANTIATE_TEST_SUITE_P(AwkwardShapes, EmulatedChannelSum,
                         ::testing::Values(Shape{1, 1, 1, 1}, Shape{2, 3}, Shape{3, 5, 7, 9}, Shape{1, 7, 1, 1},
                                           Shape{4, 17, 13, 11}, Shape{2, 2, 300}));

// A copy of kernels/cuda/reduction.cu's channel_sum_kernel with the barrier
// after the partial-sum store removed: the tree then reads partial sums that
// other threads have not written yet.
constexpr int kThreads = 256;
__global__ void broken_channel_sum_kernel(const float* x, float* out, std::int64_t n, std::int64_t c,
                                          std::int64_t plane) {
  __shared__ float partial[kThreads];
  const std::int64_t ch = blockIdx.x;
  const std::int64_t count = n * plane;
  float sum = 0.0f;
  for (std::int64_t i = threadIdx.x; i < count; i += blockDim.x) {
    std::int64_t b = i / plane, p = i - b * plane;
    sum += x[(b * c + ch) * plane + p];
  }
  partial[threadIdx.x] = sum;
  for (unsigned stride = blockDim.x / 2; stride > 0; stride /= 2) {
    if (threadIdx.x < stride) partial[threadIdx.x] += partial[threadIdx.x + stride];
    __syncthreads();
  }
  if (threadIdx.x == 0) out[ch] = partial[0];
}

TEST(EmulationHarness, CatchesAMissingBarrier) {
  const Shape shape{4, 6, 9, 10};
  Tensor x = random_cpu(shape, 3);
  Tensor ref = Tensor::empty({6});
  reference::channel_sum(x, ref);
  Tensor xd = x.to(Device::cuda(0));
  for (auto s : {emu::Schedule::Forward, emu::Schedule::Shuffled}) {
    ScheduleGuard guard(s);
    Tensor out = Tensor::full({6}, NAN, Device::cuda(0));
    GCNN_LAUNCH(broken_channel_sum_kernel, 6u, kThreads, 0, nullptr, xd.data<float>(), out.data<float>(),
                std::int64_t{4}, std::int64_t{6}, std::int64_t{90});
    EXPECT_GT(relative_error(out, ref), 1e-2) << "missing barrier not caught, schedule " << static_cast<int>(s);
  }
}

__global__ void rotate_through_shared_kernel(const float* in, float* out) {
  GCNN_DYNAMIC_SHARED(float, buffer);
  unsigned t = threadIdx.x;
  buffer[t] = in[blockIdx.x * blockDim.x + t];
  __syncthreads();
  out[blockIdx.x * blockDim.x + t] = buffer[(t + 1) % blockDim.x];
}

TEST(EmulationHarness, BarrierMakesSharedWritesVisibleUnderEverySchedule) {
  const int blocks = 3, threads = 100;
  Tensor in = random_cpu({blocks * threads}, 5);
  Tensor ind = in.to(Device::cuda(0));
  for (auto s : {emu::Schedule::Forward, emu::Schedule::Reverse, emu::Schedule::Shuffled}) {
    ScheduleGuard guard(s);
    Tensor out = Tensor::full({blocks * threads}, NAN, Device::cuda(0));
    GCNN_LAUNCH(rotate_through_shared_kernel, blocks, threads, threads * sizeof(float), nullptr, ind.data<float>(),
                out.data<float>());
    auto o = out.to_vector(), i = in.to_vector();
    for (int b = 0; b < blocks; ++b)
      for (int t = 0; t < threads; ++t) ASSERT_EQ(o[b * threads + t], i[b * threads + (t + 1) % threads]);
  }
}

__global__ void warp_sum_kernel(const float* in, float* out) {
  float v = in[threadIdx.x];
  for (int offset = 16; offset > 0; offset /= 2) v += __shfl_down_sync(0xffffffffu, v, offset);
  float x = in[threadIdx.x];
  for (int mask = 16; mask > 0; mask /= 2) x += __shfl_xor_sync(0xffffffffu, x, mask);
  if (threadIdx.x % 32 == 0) out[threadIdx.x / 32] = v;
  out[2 + threadIdx.x] = x;  // butterfly: every lane holds its warp's sum
}

TEST(EmulationHarness, WarpShufflesReduceWithinEachWarp) {
  Tensor in = random_cpu({64}, 9);
  Tensor out = Tensor::full({66}, NAN, Device::cuda(0));
  GCNN_LAUNCH(warp_sum_kernel, 1u, 64u, 0, nullptr, in.to(Device::cuda(0)).data<float>(), out.data<float>());
  auto o = out.to_vector(), i = in.to_vector();
  for (int w = 0; w < 2; ++w) {
    double s = 0;
    for (int l = 0; l < 32; ++l) s += i[w * 32 + l];
    EXPECT_NEAR(o[w], s, 1e-5);
    for (int l = 0; l < 32; ++l) EXPECT_NEAR(o[2 + w * 32 + l], s, 1e-5);
  }
}

__global__ void divergent_barrier_kernel(float* out) {
  if (threadIdx.x < 16) __syncthreads();
  out[threadIdx.x] = 1.0f;
}

TEST(EmulationHarness, ExitedThreadsCountAsArrivedAtABarrier) {
  Tensor out = Tensor::zeros({64}, Device::cuda(0));
  // 16 threads wait at the barrier while the others run to the end; exited
  // threads count as arrived, so the waiting ones are released.
  GCNN_LAUNCH(divergent_barrier_kernel, 1u, 64u, 0, nullptr, out.data<float>());
  EXPECT_EQ(out.to_vector()[63], 1.0f);
}

__global__ void mixed_barrier_kernel(float* out) {
  if (threadIdx.x == 0) {
    __syncthreads();
  } else {
    __syncwarp();
  }
  out[threadIdx.x] = 1.0f;
}

TEST(EmulationHarness, ReportsThreadsWaitingAtDifferentBarriers) {
  Tensor out = Tensor::zeros({32}, Device::cuda(0));
  try {
    GCNN_LAUNCH(mixed_barrier_kernel, 1u, 32u, 0, nullptr, out.data<float>());
    FAIL() << "deadlock not reported";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("deadlocked"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("mixed_barrier_kernel"), std::string::npos) << e.what();
  }
}

// Deliberately broken: each block continues the count of the block before it,
// which is right only if blocks run in index order (nothing on a GPU says so).
__global__ void block_order_dependent_kernel(float* out) {
  if (threadIdx.x == 0) out[blockIdx.x] = blockIdx.x == 0 ? 1.0f : out[blockIdx.x - 1] + 1.0f;
}

TEST(EmulationHarness, BlocksRunInTheScheduleOrderSoOrderDependenceFails) {
  const unsigned blocks = 40;
  auto run = [&](emu::Schedule s) {
    ScheduleGuard guard(s);
    Tensor out = Tensor::zeros({blocks}, Device::cuda(0));
    GCNN_LAUNCH(block_order_dependent_kernel, blocks, 32u, 0, nullptr, out.data<float>());
    return out.to_vector();
  };
  const auto forward = run(emu::Schedule::Forward);
  for (unsigned b = 0; b < blocks; ++b) ASSERT_EQ(forward[b], static_cast<float>(b + 1));  // in order it "works"
  for (auto s : {emu::Schedule::Reverse, emu::Schedule::Shuffled}) {
    const auto v = run(s);
    int wrong = 0;
    for (unsigned b = 0; b < blocks; ++b) wrong += v[b] != static_cast<float>(b + 1);
    EXPECT_GT(wrong, 0) << "block-order dependence not caught, schedule " << static_cast<int>(s);
  }
}

// Deliberately broken: the lower half-warp shuffles with a mask naming only
// itself but reads from the upper half.
__global__ void shuffle_outside_mask_kernel(const float* in, float* out) {
  const unsigned lane = threadIdx.x;
  if (lane < 16) out[lane] = __shfl_sync(0x0000ffffu, in[lane], static_cast<int>(lane) + 16);
}
// Right: the same exchange with the whole warp in the mask.
__global__ void shuffle_inside_mask_kernel(const float* in, float* out) {
  const unsigned lane = threadIdx.x;
  const float v = __shfl_sync(0xffffffffu, in[lane], static_cast<int>(lane + 16) % 32);
  if (lane < 16) out[lane] = v;
}
// Deliberately broken: lane 3 calls a shuffle whose mask leaves it out.
__global__ void lane_outside_own_mask_kernel(float* out) {
  out[threadIdx.x] = __shfl_xor_sync(0xfffffff7u, 1.0f, 1);
}

TEST(EmulationHarness, ShuffleMasksAreHonoured) {
  Tensor in = random_cpu({32}, 4);
  Tensor ind = in.to(Device::cuda(0));
  const auto i = in.to_vector();
  Tensor good = Tensor::zeros({16}, Device::cuda(0));
  GCNN_LAUNCH(shuffle_inside_mask_kernel, 1u, 32u, 0, nullptr, ind.data<float>(), good.data<float>());
  for (int l = 0; l < 16; ++l) EXPECT_EQ(good.to_vector()[l], i[l + 16]);

  Tensor bad = Tensor::zeros({16}, Device::cuda(0));
  GCNN_LAUNCH(shuffle_outside_mask_kernel, 1u, 32u, 0, nullptr, ind.data<float>(), bad.data<float>());
  for (float v : bad.to_vector()) EXPECT_TRUE(std::isnan(v)) << "a read from outside the mask gave " << v;

  Tensor out = Tensor::zeros({32}, Device::cuda(0));
  try {
    GCNN_LAUNCH(lane_outside_own_mask_kernel, 1u, 32u, 0, nullptr, out.data<float>());
    FAIL() << "a lane outside its own shuffle mask was not reported";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("lane 3"), std::string::npos) << e.what();
  }
}

TEST(EmulationHarness, RejectsInvalidLaunches) {
  Tensor out = Tensor::zeros({32}, Device::cuda(0));
  EXPECT_THROW(GCNN_LAUNCH(mixed_barrier_kernel, 1u, 2048u, 0, nullptr, out.data<float>()), Error);
  EXPECT_THROW(GCNN_LAUNCH(mixed_barrier_kernel, 0u, 32u, 0, nullptr, out.data<float>()), Error);
  EXPECT_THROW(GCNN_LAUNCH(mixed_barrier_kernel, 1u, 32u, 64 * 1024, nullptr, out.data<float>()), Error);
}

}  // namespace
}  // namespace gcnn
