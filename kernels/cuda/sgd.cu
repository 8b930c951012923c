// The fused SGD update on CUDA (torch.optim.SGD semantics, dampening 0; see
// kernels/ops/sgd.h): each element reads param, grad and the momentum buffer
// once and writes param and buffer. Per tensor: one grid-stride kernel.
// Multi-tensor (all of a model's parameters in one launch): a table in device
// memory holds every tensor's pointers, size and first chunk; block b updates
// chunk b of the concatenated tensors, finding its tensor by binary search in
// the table. The table only changes when the set of tensors does, so it is
// uploaded once and kept (an upload from pageable memory may wait for the
// stream); the per-step lr and weight decay travel by value in the launch.
#include "kernels/cuda/common.cuh"

#include <algorithm>
#include <memory>
#include <mutex>
#include <vector>

#include "kernels/cuda/sgd.h"

namespace gcnn::cuda {
namespace {

constexpr int kSgdTensorsPerLaunch = 256;  // 2 KB of per-tensor scalars, under the 4 KB argument limit
constexpr std::uint64_t kChunk = 4096;     // elements per block: 16 per thread

// d = grad + wd * w, buf = momentum * buf + d, w -= lr * (d * d_coef + buf * buf_coef) for one element.
__device__ __forceinline__ void sgd_element(float* param, const float* grad, float* buf, std::size_t i, float lr,
                                            float momentum, float weight_decay, float d_coef, float buf_coef) {
  const float w = param[i];
  const float d = grad[i] + weight_decay * w;
  const float b = momentum * buf[i] + d;
  buf[i] = b;
  param[i] = w - lr * (d * d_coef + b * buf_coef);
}

// The update of one tensor, grid-stride.
__global__ void sgd_update_kernel(float* param, const float* grad, float* buf, float lr, float momentum,
                                  float weight_decay, float d_coef, float buf_coef, std::size_t n) {
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x)
    sgd_element(param, grad, buf, i, lr, momentum, weight_decay, d_coef, buf_coef);
}

// One tensor of the device table; first_chunk counts from the launch's first tensor.
struct SgdEntry {
  float* param;
  const float* grad;
  float* buf;
  std::uint64_t n;
  std::uint64_t first_chunk;
};

struct SgdScalars {
  float lr[kSgdTensorsPerLaunch];
  float weight_decay[kSgdTensorsPerLaunch];
  float momentum, d_coef, buf_coef;
  unsigned count;  // tensors of this launch: table[0, count)
};

// Chunk blockIdx.x of the launch's tensors: the last entry whose first chunk is <= blockIdx.x owns it.
__global__ void sgd_multi_tensor_kernel(const SgdEntry* table, SgdScalars s) {
  unsigned lo = 0, hi = s.count - 1;
  while (lo < hi) {
    const unsigned mid = (lo + hi + 1) / 2;
    if (table[mid].first_chunk <= blockIdx.x) lo = mid;
    else hi = mid - 1;
  }
  const SgdEntry e = table[lo];
  const std::uint64_t begin = (blockIdx.x - e.first_chunk) * kChunk;
  const std::uint64_t end = begin + kChunk < e.n ? begin + kChunk : e.n;
  for (std::uint64_t i = begin + threadIdx.x; i < end; i += blockDim.x)
    sgd_element(e.param, e.grad, e.buf, i, s.lr[lo], s.momentum, s.weight_decay[lo], s.d_coef, s.buf_coef);
}

bool same_entry(const SgdEntry& a, const SgdEntry& b) {
  return a.param == b.param && a.grad == b.grad && a.buf == b.buf && a.n == b.n && a.first_chunk == b.first_chunk;
}

// The last table uploaded per device, with its host copy to compare against.
struct TableCache {
  std::mutex mutex;
  std::vector<SgdEntry> host;
  Tensor device;
};
TableCache& table_cache(int device) {
  static std::mutex mutex;
  static std::vector<std::unique_ptr<TableCache>> caches;
  std::lock_guard lock(mutex);
  if (caches.size() <= static_cast<std::size_t>(device)) caches.resize(device + 1);
  if (!caches[device]) caches[device] = std::make_unique<TableCache>();
  return *caches[device];
}

// nesterov: d + momentum * buf; plain: buf.
void coefficients(bool nesterov, float momentum, float& d_coef, float& buf_coef) {
  d_coef = nesterov ? 1.0f : 0.0f;
  buf_coef = nesterov ? momentum : 1.0f;
}

}  // namespace

void sgd_update(Tensor& param, const Tensor& grad, Tensor& momentum_buf, float lr, float momentum,
                float weight_decay, bool nesterov) {
  const std::size_t n = static_cast<std::size_t>(param.numel());
  if (n == 0) return;
  float d_coef, buf_coef;
  coefficients(nesterov, momentum, d_coef, buf_coef);
  auto& ctx = context(param.device().index);
  GCNN_LAUNCH(sgd_update_kernel, blocks_for(n), kThreadsPerBlock, 0, ctx.stream, param.data<float>(),
              grad.data<float>(), momentum_buf.data<float>(), lr, momentum, weight_decay, d_coef, buf_coef, n);
}

void sgd_update(std::span<const ops::SgdTensor> tensors, float momentum, bool nesterov) {
  // Non-empty tensors, cut into launches of at most kSgdTensorsPerLaunch; chunks count per launch.
  std::vector<SgdEntry> entries;
  std::vector<const ops::SgdTensor*> sources;
  std::vector<std::size_t> launch_starts;
  std::uint64_t chunks = 0;
  for (const ops::SgdTensor& t : tensors) {
    const auto n = static_cast<std::uint64_t>(t.param->numel());
    if (n == 0) continue;
    if (entries.size() % kSgdTensorsPerLaunch == 0) {
      launch_starts.push_back(entries.size());
      chunks = 0;
    }
    entries.push_back({t.param->data<float>(), t.grad->data<float>(), t.momentum_buf->data<float>(), n, chunks});
    sources.push_back(&t);
    chunks += (n + kChunk - 1) / kChunk;
    GCNN_CHECK(chunks < (std::uint64_t{1} << 31), "sgd_update (CUDA): more than 2^31 chunks of {} values in one launch",
               kChunk);
  }
  if (entries.empty()) return;
  const int device = tensors.front().param->device().index;
  auto& ctx = context(device);
  TableCache& cache = table_cache(device);
  std::lock_guard lock(cache.mutex);
  if (!std::equal(entries.begin(), entries.end(), cache.host.begin(), cache.host.end(), same_entry)) {
    cache.host = entries;
    const std::size_t bytes = entries.size() * sizeof(SgdEntry);
    cache.device = Tensor::empty({static_cast<std::int64_t>((bytes + sizeof(float) - 1) / sizeof(float))},
                                 Device::cuda(device));
    GCNN_CUDA_CHECK(cudaMemcpyAsync(cache.device.raw_data(), cache.host.data(), bytes, cudaMemcpyHostToDevice,
                                    ctx.stream));
  }
  const auto* table = static_cast<const SgdEntry*>(cache.device.raw_data());
  for (std::size_t l = 0; l < launch_starts.size(); ++l) {
    const std::size_t first = launch_starts[l];
    const std::size_t last = l + 1 < launch_starts.size() ? launch_starts[l + 1] : entries.size();
    SgdScalars s{};
    s.momentum = momentum;
    coefficients(nesterov, momentum, s.d_coef, s.buf_coef);
    s.count = static_cast<unsigned>(last - first);
    for (std::size_t i = first; i < last; ++i) {
      s.lr[i - first] = sources[i]->lr;
      s.weight_decay[i - first] = sources[i]->weight_decay;
    }
    const SgdEntry& tail = entries[last - 1];
    const std::uint64_t launch_chunks = tail.first_chunk + (tail.n + kChunk - 1) / kChunk;
    GCNN_LAUNCH(sgd_multi_tensor_kernel, static_cast<unsigned>(launch_chunks), kThreadsPerBlock, 0, ctx.stream,
                table + first, s);
  }
}

}  // namespace gcnn::cuda
