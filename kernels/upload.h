// BatchUploader: moves a training step's host tensors (images, targets) to the
// training device without making the host or the device wait: on CUDA through
// pinned, double-buffered staging and a copy stream (cuda::PinnedUploader), so
// the next batch is copied while the current step computes; on the CPU the
// host tensors are used as they are.
#pragma once

#include <memory>
#include <vector>

#include "kernels/cuda/backend.h"
#include "kernels/tensor.h"

namespace gcnn {

class BatchUploader {
 public:
  explicit BatchUploader(Device device);
  ~BatchUploader();
  BatchUploader(const BatchUploader&) = delete;
  BatchUploader& operator=(const BatchUploader&) = delete;

  // The host tensors (CPU, any shape and dtype) on the device, in order. On
  // CUDA they are views of this uploader's buffers, which alternate between
  // two slots: a result stays valid for the work enqueued before the
  // next-but-one call, so use it for one training step.
  std::vector<Tensor> upload(const std::vector<Tensor>& host);

 private:
  Device device_;
  int next_slot_ = 0;
  std::vector<Tensor> buffers_[cuda::PinnedUploader::kSlots];  // per slot, per part: flat device storage
  std::unique_ptr<cuda::PinnedUploader> pinned_;  // last: its copies finish before the buffers go
};

}  // namespace gcnn
