// cuDNN convolution algorithm search and the shared workspace (see
// conv_algorithm.h). cudnnFind*AlgorithmEx runs every algorithm on the
// caller's buffers and a workspace we provide, and returns the results
// ordered by measured time; an algorithm needing more workspace than provided
// comes back with CUDNN_STATUS_ALLOC_FAILED. We provide the largest workspace
// any algorithm asks for (cudnnGet*WorkspaceSize) up to the policy's limit,
// then take the first result that succeeded, fits the limit, is deterministic
// when the policy says so, and has an allowed math type.
#include "kernels/cuda/conv_algorithm.h"

#include <map>
#include <mutex>
#include <vector>

#include "kernels/tensor.h"

namespace gcnn::cuda {
namespace {

std::mutex g_mutex;  // guards everything below
ConvSearchPolicy g_policy;

enum class Direction { Forward, BackwardData, BackwardFilter };
using CacheKey = std::tuple<Direction, std::tuple<int, int, int, int, int, int, int, int, int, int, int, int, int, int,
                                                  int, int>,
                            std::size_t, bool, bool>;
std::map<CacheKey, ChosenAlgorithm> g_chosen;

CacheKey cache_key(Direction direction, const ConvShape& shape, bool allow_tensor_ops) {
  return {direction, shape.tie(), g_policy.workspace_limit, g_policy.deterministic, allow_tensor_ops};
}

bool is_tensor_op(cudnnMathType_t m) { return m == CUDNN_TENSOR_OP_MATH || m == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION; }

std::string describe(const ConvShape& s) {
  return format_message("input [{}, {}, {}, {}], filter [{}, {}, {}, {}], stride ({}, {}), padding ({}, {})", s.n,
                        s.c, s.h, s.w, s.k, s.c, s.r, s.s, s.stride_h, s.stride_w, s.pad_h, s.pad_w);
}

// The first qualifying result of a search (results are fastest first).
template <class Perf>
ChosenAlgorithm pick(const Perf* results, int count, bool allow_tensor_ops, const char* direction,
                     const ConvShape& shape) {
  for (int i = 0; i < count; ++i) {
    const Perf& p = results[i];
    if (p.status != CUDNN_STATUS_SUCCESS || p.memory > g_policy.workspace_limit) continue;
    if (g_policy.deterministic && p.determinism != CUDNN_DETERMINISTIC) continue;
    if (!allow_tensor_ops && is_tensor_op(p.mathType)) continue;
    return {static_cast<int>(p.algo), p.mathType, p.memory, p.time};
  }
  GCNN_FAIL("conv2d (cuda): cuDNN offers no {} algorithm for {} within a {} MB workspace{}{}", direction,
            describe(shape), g_policy.workspace_limit >> 20, g_policy.deterministic ? ", deterministic" : "",
            allow_tensor_ops ? "" : ", without tensor-op math");
}

// The largest workspace any of the direction's algorithms asks for, at most the limit.
template <class Algo, class SizeOf>
std::size_t search_workspace(int algo_count, SizeOf&& size_of) {
  std::size_t most = 0;
  for (int a = 0; a < algo_count; ++a) {
    std::size_t bytes = 0;
    if (size_of(static_cast<Algo>(a), &bytes) == CUDNN_STATUS_SUCCESS && bytes <= g_policy.workspace_limit &&
        bytes > most)
      most = bytes;
  }
  return most;
}

// The shared workspace of each device: a caching-allocator block, replaced by
// a larger one when a request exceeds it (the old one returns to the cache,
// where only later work on the same stream can reuse it). Never destroyed: the
// device allocator may be a static built after this map, and so destroyed
// before it at exit.
std::map<int, Tensor>& workspaces() {
  static auto* all = new std::map<int, Tensor>;
  return *all;
}
void* workspace_locked(int device, std::size_t bytes) {
  if (bytes == 0) return nullptr;
  Tensor& t = workspaces()[device];
  if (!t.defined() || t.nbytes() < bytes)
    t = Tensor::empty({static_cast<std::int64_t>((bytes + sizeof(float) - 1) / sizeof(float))}, Device::cuda(device));
  return t.raw_data();
}

}  // namespace

void set_conv_search_policy(const ConvSearchPolicy& policy) {
  std::lock_guard lock(g_mutex);
  g_policy = policy;
}
ConvSearchPolicy conv_search_policy() {
  std::lock_guard lock(g_mutex);
  return g_policy;
}

void* conv_workspace(int device, std::size_t bytes) {
  std::lock_guard lock(g_mutex);
  return workspace_locked(device, bytes);
}

void use_math_type(cudnnConvolutionDescriptor_t conv, const ChosenAlgorithm& chosen) {
  GCNN_CUDNN_CHECK(cudnnSetConvolutionMathType(conv, chosen.math));
}

const ChosenAlgorithm& forward_algorithm(const ConvDescriptors& d, const void* x, const void* w, void* y,
                                         bool allow_tensor_ops) {
  std::lock_guard lock(g_mutex);
  const CacheKey key = cache_key(Direction::Forward, d.shape, allow_tensor_ops);
  if (auto it = g_chosen.find(key); it != g_chosen.end()) return it->second;
  const cudnnHandle_t handle = context(d.shape.device).cudnn;
  const std::size_t bytes = search_workspace<cudnnConvolutionFwdAlgo_t>(
      CUDNN_CONVOLUTION_FWD_ALGO_COUNT, [&](cudnnConvolutionFwdAlgo_t a, std::size_t* size) {
        return cudnnGetConvolutionForwardWorkspaceSize(handle, d.x, d.w, d.conv, d.y, a, size);
      });
  cudnnConvolutionFwdAlgoPerf_t results[2 * CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
  int count = 0;
  GCNN_CUDNN_CHECK(cudnnFindConvolutionForwardAlgorithmEx(handle, d.x, x, d.w, w, d.conv, d.y, y,
                                                          2 * CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &count, results,
                                                          workspace_locked(d.shape.device, bytes), bytes));
  return g_chosen[key] = pick(results, count, allow_tensor_ops, "forward", d.shape);
}

const ChosenAlgorithm& backward_data_algorithm(const ConvDescriptors& d, const void* w, const void* dy, void* dx,
                                               bool allow_tensor_ops) {
  std::lock_guard lock(g_mutex);
  const CacheKey key = cache_key(Direction::BackwardData, d.shape, allow_tensor_ops);
  if (auto it = g_chosen.find(key); it != g_chosen.end()) return it->second;
  const cudnnHandle_t handle = context(d.shape.device).cudnn;
  const std::size_t bytes = search_workspace<cudnnConvolutionBwdDataAlgo_t>(
      CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, [&](cudnnConvolutionBwdDataAlgo_t a, std::size_t* size) {
        return cudnnGetConvolutionBackwardDataWorkspaceSize(handle, d.w, d.y, d.conv, d.x, a, size);
      });
  cudnnConvolutionBwdDataAlgoPerf_t results[2 * CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT];
  int count = 0;
  GCNN_CUDNN_CHECK(cudnnFindConvolutionBackwardDataAlgorithmEx(handle, d.w, w, d.y, dy, d.conv, d.x, dx,
                                                               2 * CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, &count,
                                                               results, workspace_locked(d.shape.device, bytes),
                                                               bytes));
  return g_chosen[key] = pick(results, count, allow_tensor_ops, "backward-data", d.shape);
}

const ChosenAlgorithm& backward_filter_algorithm(const ConvDescriptors& d, const void* x, const void* dy, void* dw,
                                                 bool allow_tensor_ops) {
  std::lock_guard lock(g_mutex);
  const CacheKey key = cache_key(Direction::BackwardFilter, d.shape, allow_tensor_ops);
  if (auto it = g_chosen.find(key); it != g_chosen.end()) return it->second;
  const cudnnHandle_t handle = context(d.shape.device).cudnn;
  const std::size_t bytes = search_workspace<cudnnConvolutionBwdFilterAlgo_t>(
      CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT, [&](cudnnConvolutionBwdFilterAlgo_t a, std::size_t* size) {
        return cudnnGetConvolutionBackwardFilterWorkspaceSize(handle, d.x, d.y, d.conv, d.w, a, size);
      });
  cudnnConvolutionBwdFilterAlgoPerf_t results[2 * CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT];
  int count = 0;
  GCNN_CUDNN_CHECK(cudnnFindConvolutionBackwardFilterAlgorithmEx(handle, d.x, x, d.y, dy, d.conv, d.w, dw,
                                                                 2 * CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT, &count,
                                                                 results, workspace_locked(d.shape.device, bytes),
                                                                 bytes));
  return g_chosen[key] = pick(results, count, allow_tensor_ops, "backward-filter", d.shape);
}

}  // namespace gcnn::cuda
