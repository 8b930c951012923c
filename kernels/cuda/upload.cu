// Pinned, double-buffered host->device uploads on a copy stream, ordered
// against the compute stream with events (see PinnedUploader in backend.h).
#include "kernels/cuda/common.cuh"

#include <cstring>

namespace gcnn::cuda {

// A pinned host buffer (cudaHostAlloc), grown on demand.
class PinnedBuffer {
 public:
  PinnedBuffer() = default;
  ~PinnedBuffer() {
    if (data_) (void)cudaFreeHost(data_);
  }
  PinnedBuffer(const PinnedBuffer&) = delete;
  PinnedBuffer& operator=(const PinnedBuffer&) = delete;
  // At least bytes of pinned memory; the old contents are not kept.
  char* reserve(std::size_t bytes) {
    if (bytes > bytes_) {
      if (data_) GCNN_CUDA_CHECK(cudaFreeHost(data_));
      data_ = nullptr;
      bytes_ = 0;
      void* p = nullptr;
      GCNN_CUDA_CHECK(cudaHostAlloc(&p, bytes, cudaHostAllocDefault));
      data_ = static_cast<char*>(p);
      bytes_ = bytes;
    }
    return data_;
  }

 private:
  char* data_ = nullptr;
  std::size_t bytes_ = 0;
};

// An event without timing (the cheapest kind for stream ordering).
class Event {
 public:
  Event() { GCNN_CUDA_CHECK(cudaEventCreateWithFlags(&event_, cudaEventDisableTiming)); }
  ~Event() { (void)cudaEventDestroy(event_); }
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;
  cudaEvent_t get() const { return event_; }

 private:
  cudaEvent_t event_ = nullptr;
};

struct PinnedUploader::State {
  explicit State(int device) : device(device), compute(context(device).stream) {
    GCNN_CUDA_CHECK(cudaStreamCreateWithFlags(&copy_stream, cudaStreamNonBlocking));
  }
  ~State() {
    // The copies must be done before the pinned buffers go (cudaFreeHost also waits).
    (void)cudaStreamSynchronize(copy_stream);
    (void)cudaStreamDestroy(copy_stream);
  }
  int device;
  cudaStream_t compute;
  cudaStream_t copy_stream = nullptr;
  PinnedBuffer staging[kSlots];
  Event copied[kSlots];    // recorded on the copy stream after a slot's copies
  Event consumed[kSlots];  // recorded on the compute stream after the work that reads a slot
  bool consumed_recorded[kSlots] = {};
  int last_slot = -1;
};

PinnedUploader::PinnedUploader(int device) : state_(std::make_unique<State>(device)) {}
PinnedUploader::~PinnedUploader() = default;

void PinnedUploader::upload(int slot, const std::vector<Part>& parts, bool fresh_destinations) {
  GCNN_CHECK(slot >= 0 && slot < kSlots, "PinnedUploader: slot {} is not 0 or 1", slot);
  State& s = *state_;
  (void)context(s.device);  // makes the device current
  // Everything enqueued so far is the last work reading the previous slot.
  for (int recorded : {s.last_slot, fresh_destinations ? slot : -1}) {
    if (recorded < 0) continue;
    GCNN_CUDA_CHECK(cudaEventRecord(s.consumed[recorded].get(), s.compute));
    s.consumed_recorded[recorded] = true;
  }
  // The host may refill the staging buffer once its previous copy is done:
  // usually long ago; a wait only when the host runs two uploads ahead.
  const cudaError_t ready = cudaEventQuery(s.copied[slot].get());
  if (ready == cudaErrorNotReady) {
    (void)cudaGetLastError();
    GCNN_CUDA_CHECK(cudaEventSynchronize(s.copied[slot].get()));
  } else {
    GCNN_CUDA_CHECK(ready);
  }
  std::size_t total = 0;
  for (const Part& p : parts) total += p.bytes;
  char* staging = s.staging[slot].reserve(total);
  std::size_t offset = 0;
  for (const Part& p : parts) {
    if (p.bytes > 0) std::memcpy(staging + offset, p.host_src, p.bytes);
    offset += p.bytes;
  }
  if (s.consumed_recorded[slot]) GCNN_CUDA_CHECK(cudaStreamWaitEvent(s.copy_stream, s.consumed[slot].get(), 0));
  offset = 0;
  for (const Part& p : parts) {
    GCNN_CUDA_CHECK(cudaMemcpyAsync(p.device_dst, staging + offset, p.bytes, cudaMemcpyHostToDevice, s.copy_stream));
    offset += p.bytes;
  }
  GCNN_CUDA_CHECK(cudaEventRecord(s.copied[slot].get(), s.copy_stream));
  GCNN_CUDA_CHECK(cudaStreamWaitEvent(s.compute, s.copied[slot].get(), 0));
  s.last_slot = slot;
}

}  // namespace gcnn::cuda
