// BatchUploader (see upload.h).
#include "kernels/upload.h"

#include <algorithm>

#include "kernels/error.h"

namespace gcnn {

BatchUploader::BatchUploader(Device device) : device_(device) {
  if (device.is_cuda()) pinned_ = std::make_unique<cuda::PinnedUploader>(device.index);
}

BatchUploader::~BatchUploader() { pinned_.reset(); }

std::vector<Tensor> BatchUploader::upload(const std::vector<Tensor>& host) {
  for (const Tensor& t : host)
    GCNN_CHECK(t.defined() && t.device().is_cpu(), "BatchUploader: {} is not a host tensor",
               t.defined() ? t.describe() : std::string("an undefined tensor"));
  if (device_.is_cpu()) return host;
  const int slot = next_slot_;
  next_slot_ = (next_slot_ + 1) % cuda::PinnedUploader::kSlots;
  std::vector<Tensor>& buffers = buffers_[slot];
  bool fresh = false;
  if (buffers.size() < host.size()) buffers.resize(host.size());
  std::vector<Tensor> out;
  std::vector<cuda::PinnedUploader::Part> parts;
  for (std::size_t i = 0; i < host.size(); ++i) {
    const Tensor& h = host[i];
    Tensor& buffer = buffers[i];
    if (!buffer.defined() || buffer.dtype() != h.dtype() || buffer.numel() < h.numel()) {
      buffer = Tensor::empty({std::max<std::int64_t>(h.numel(), 1)}, device_, h.dtype());
      fresh = true;
    }
    out.push_back(buffer.slice(0, h.numel()).reshape(h.shape()));
    parts.push_back({out.back().raw_data(), h.raw_data(), h.nbytes()});
  }
  pinned_->upload(slot, parts, fresh);
  return out;
}

}  // namespace gcnn
