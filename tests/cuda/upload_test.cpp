// The emulated runtime's stream semantics and counters (deferred pinned
// copies, events, host syncs, pageable copies), and BatchUploader on the
// emulated device: every upload arrives in order, and a result stays intact
// until the next-but-one upload.
#define GCNN_CUDA_EMULATION 1
#include "kernels/cuda/common.cuh"

#include <gtest/gtest.h>

#include <numeric>

#include "kernels/cuda/emulation/control.h"
#include "kernels/upload.h"

namespace gcnn {
namespace {

TEST(EmulatedRuntime, PinnedCopiesRunWhenSomethingWaitsForThem) {
  float* device = nullptr;
  float* pinned = nullptr;
  ASSERT_EQ(cudaMalloc(reinterpret_cast<void**>(&device), 4 * sizeof(float)), cudaSuccess);
  ASSERT_EQ(cudaHostAlloc(reinterpret_cast<void**>(&pinned), 4 * sizeof(float), cudaHostAllocDefault), cudaSuccess);
  cudaStream_t copy_stream = nullptr, compute = nullptr;
  ASSERT_EQ(cudaStreamCreateWithFlags(&copy_stream, cudaStreamNonBlocking), cudaSuccess);
  ASSERT_EQ(cudaStreamCreateWithFlags(&compute, cudaStreamNonBlocking), cudaSuccess);
  cudaEvent_t copied = nullptr;
  ASSERT_EQ(cudaEventCreateWithFlags(&copied, cudaEventDisableTiming), cudaSuccess);
  const float zeros[4] = {0, 0, 0, 0};
  ASSERT_EQ(cudaMemcpy(device, zeros, sizeof zeros, cudaMemcpyHostToDevice), cudaSuccess);

  const emu::RuntimeCounters before = emu::runtime_counters();
  for (int i = 0; i < 4; ++i) pinned[i] = static_cast<float>(i + 1);
  ASSERT_EQ(cudaMemcpyAsync(device, pinned, 4 * sizeof(float), cudaMemcpyHostToDevice, copy_stream), cudaSuccess);
  ASSERT_EQ(cudaEventRecord(copied, copy_stream), cudaSuccess);
  EXPECT_EQ(cudaEventQuery(copied), cudaErrorNotReady);
  pinned[3] = 40.0f;  // the DMA has not read the buffer yet: it sees this write
  EXPECT_EQ(device[0], 0.0f) << "a pinned copy ran before anything waited for it";
  // The compute stream waits on the copy: work issued on it afterwards sees the data.
  ASSERT_EQ(cudaStreamWaitEvent(compute, copied, 0), cudaSuccess);
  EXPECT_EQ(cudaEventQuery(copied), cudaSuccess);
  EXPECT_EQ(device[0], 1.0f);
  EXPECT_EQ(device[3], 40.0f);
  const emu::RuntimeCounters after = emu::runtime_counters();
  EXPECT_EQ(after.host_syncs - before.host_syncs, 0u);
  EXPECT_EQ(after.pinned_copies - before.pinned_copies, 1u);
  EXPECT_EQ(after.pageable_copies - before.pageable_copies, 0u);

  // Each kind of host wait counts once, and a pageable copy counts as one.
  float back[4];
  ASSERT_EQ(cudaStreamSynchronize(compute), cudaSuccess);
  ASSERT_EQ(cudaEventSynchronize(copied), cudaSuccess);
  ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
  ASSERT_EQ(cudaMemcpy(back, device, sizeof back, cudaMemcpyDeviceToHost), cudaSuccess);
  ASSERT_EQ(cudaMemcpyAsync(back, device, sizeof back, cudaMemcpyDeviceToHost, compute), cudaSuccess);
  const emu::RuntimeCounters last = emu::runtime_counters();
  EXPECT_EQ(last.host_syncs - after.host_syncs, 4u);
  EXPECT_EQ(last.pageable_copies - after.pageable_copies, 2u);

  EXPECT_EQ(cudaEventDestroy(copied), cudaSuccess);
  EXPECT_EQ(cudaStreamDestroy(copy_stream), cudaSuccess);
  EXPECT_EQ(cudaStreamDestroy(compute), cudaSuccess);
  EXPECT_EQ(cudaFreeHost(pinned), cudaSuccess);
  EXPECT_EQ(cudaFree(device), cudaSuccess);
}

TEST(EmulatedRuntime, ALaunchRunsTheCopiesQueuedBeforeItOnItsStream) {
  float* device = nullptr;
  float* pinned = nullptr;
  ASSERT_EQ(cudaMalloc(reinterpret_cast<void**>(&device), sizeof(float)), cudaSuccess);
  ASSERT_EQ(cudaMallocHost(reinterpret_cast<void**>(&pinned), sizeof(float)), cudaSuccess);
  *pinned = 7.0f;
  cudaStream_t stream = cuda::context(0).stream;
  ASSERT_EQ(cudaMemcpyAsync(device, pinned, sizeof(float), cudaMemcpyHostToDevice, stream), cudaSuccess);
  cuda::fill_float(0, device, 0, 0.0f);  // an empty launch on the same stream
  EXPECT_EQ(*device, 7.0f);
  EXPECT_EQ(cudaFreeHost(pinned), cudaSuccess);
  EXPECT_EQ(cudaFree(device), cudaSuccess);
}

// Batch b's values: b * 1000 + i.
Tensor host_batch(int b, std::int64_t n) {
  std::vector<float> v(static_cast<std::size_t>(n));
  std::iota(v.begin(), v.end(), static_cast<float>(b * 1000));
  return Tensor::from_vector({n}, v);
}

TEST(BatchUploader, UploadsArriveInOrderAndLastUntilTheNextButOne) {
  BatchUploader uploader(Device::cuda(0));
  std::vector<Tensor> previous;
  for (int b = 0; b < 6; ++b) {
    const std::int64_t n = b == 3 ? 40 : 24;  // a larger batch grows a slot's buffers
    const Tensor targets = Tensor::from_vector({2, 2}, {static_cast<float>(b), 1, 2, 3});
    const emu::RuntimeCounters before = emu::runtime_counters();
    std::vector<Tensor> on_device = uploader.upload({host_batch(b, n), targets});
    const emu::RuntimeCounters after = emu::runtime_counters();
    // Batch 3 outgrows its slot's pinned buffer: freeing the old one waits for the device, once.
    EXPECT_EQ(after.host_syncs - before.host_syncs, b == 3 ? 1u : 0u) << "batch " << b;
    EXPECT_EQ(after.pageable_copies - before.pageable_copies, 0u) << "batch " << b;
    EXPECT_EQ(after.pinned_copies - before.pinned_copies, 2u) << "batch " << b;
    ASSERT_EQ(on_device.size(), 2u);
    EXPECT_TRUE(on_device[0].device().is_cuda());
    EXPECT_EQ(on_device[1].shape(), (Shape{2, 2}));
    EXPECT_EQ(on_device[0].to_vector(), host_batch(b, n).to_vector()) << "batch " << b;
    EXPECT_EQ(on_device[1].to_vector(), targets.to_vector()) << "batch " << b;
    if (!previous.empty()) {
      EXPECT_EQ(previous[0].to_vector(), host_batch(b - 1, previous[0].numel()).to_vector())
          << "batch " << b - 1 << " changed by the upload of batch " << b;
    }
    previous = on_device;
  }
}

TEST(BatchUploader, OnTheCpuHandsBackTheHostTensors) {
  BatchUploader uploader(Device::cpu());
  const Tensor t = host_batch(1, 5);
  std::vector<Tensor> out = uploader.upload({t});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].shares_storage_with(t));
}

}  // namespace
}  // namespace gcnn
