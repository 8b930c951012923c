// Batch normalisation on CUDA at memory speed. Every kernel runs on a grid of
// (channel, part): the blocks_per_channel parts of a channel share its N * plane
// values, so a 64-channel layer still fills every SM. Training forward: a sums
// kernel writes per-block partial sums of (x - shift) and (x - shift)^2 to a
// small workspace (shift = the channel's first value, which keeps the one-pass
// variance accurate when |mean| >> std); the normalise kernel folds the
// partials in double, in a fixed order (every block of a channel gets the same
// statistics), and writes y, optionally through a ReLU. Backward: the same
// split for sum dy and sum dy * (x - mean), dy optionally masked by the fused
// ReLU's output. Loads are float4 when the plane is a multiple of 4 floats and
// every operand is 16-byte aligned, scalar otherwise; threads walk their
// (sample, position) pairs with a precomputed quotient and remainder of the
// stride, so no loop divides.
#include "kernels/cuda/common.cuh"

#include <algorithm>
#include <cstdint>
#include <initializer_list>

#include "kernels/cuda/batchnorm.h"
#include "kernels/cuda/block_reduce.cuh"

namespace gcnn::cuda {
namespace {

constexpr int kThreads = 256;
constexpr unsigned kResidentBlocksPerSm = 2048 / kThreads;
// A part below this many vectors per thread costs more in launch and partials than it moves.
constexpr std::int64_t kMinVectorsPerThread = 4;

// x viewed as [N, C, plane], split into vectors of kVec floats.
struct Geometry {
  std::int64_t plane;          // floats per (sample, channel) plane
  std::int64_t sample_stride;  // C * plane: from one sample's plane of a channel to the next sample's
  unsigned samples;            // N
  unsigned vectors;            // vectors per plane: plane / kVec
  unsigned parts;              // blocks per channel (gridDim.y)
};

template <int kVec>
struct Pack {
  float v[kVec];
};

template <int kVec>
__device__ __forceinline__ Pack<kVec> load(const float* p) {
  Pack<kVec> out;
  if constexpr (kVec == 4) {
    const float4 q = *reinterpret_cast<const float4*>(p);
    out.v[0] = q.x, out.v[1] = q.y, out.v[2] = q.z, out.v[3] = q.w;
  } else {
    out.v[0] = *p;
  }
  return out;
}

template <int kVec>
__device__ __forceinline__ void store(float* p, const Pack<kVec>& in) {
  if constexpr (kVec == 4) *reinterpret_cast<float4*>(p) = float4{in.v[0], in.v[1], in.v[2], in.v[3]};
  else *p = in.v[0];
}

// Calls body(offset of the vector's first float) for this thread's vectors of
// channel ch: thread t of the channel's parts * blockDim threads takes vectors
// t, t + S, t + 2S, ... of the channel's N * vectors, tracked as (sample,
// vector) and advanced by S's quotient and remainder.
template <int kVec, class Body>
__device__ __forceinline__ void for_each_vector(const Geometry& g, std::int64_t ch, Body body) {
  const unsigned first = blockIdx.y * blockDim.x + threadIdx.x, stride = g.parts * blockDim.x;
  const unsigned step_n = stride / g.vectors, step_j = stride % g.vectors;
  unsigned n = first / g.vectors, j = first % g.vectors;
  const std::int64_t channel_offset = ch * g.plane;
  while (n < g.samples) {
    body(n * g.sample_stride + channel_offset + static_cast<std::int64_t>(j) * kVec);
    n += step_n;
    j += step_j;
    if (j >= g.vectors) {
      j -= g.vectors;
      ++n;
    }
  }
}

// Writes the two block totals of one (channel, part) to partials[channel][part][0..1].
__device__ __forceinline__ void write_partials(float a, float b, const Geometry& g, float* partials) {
  a = block_sum(a);
  b = block_sum(b);
  if (threadIdx.x == 0) {
    float* out = partials + (static_cast<std::int64_t>(blockIdx.x) * g.parts + blockIdx.y) * 2;
    out[0] = a;
    out[1] = b;
  }
}

// The totals of a channel's partials, folded in double in part order.
struct Totals {
  double a = 0, b = 0;
};
__device__ __forceinline__ Totals fold_partials(const float* partials, const Geometry& g) {
  Totals t;
  const float* p = partials + static_cast<std::int64_t>(blockIdx.x) * g.parts * 2;
  for (unsigned i = 0; i < g.parts; ++i) {
    t.a += p[2 * i];
    t.b += p[2 * i + 1];
  }
  return t;
}

// y = x * scale + shift over this thread's share of channel ch, through a ReLU when kRelu.
template <int kVec, bool kRelu>
__device__ __forceinline__ void normalize_channel(const float* x, float* y, float scale, float shift,
                                                  const Geometry& g, std::int64_t ch) {
  for_each_vector<kVec>(g, ch, [&](std::int64_t o) {
    Pack<kVec> v = load<kVec>(x + o);
    for (int k = 0; k < kVec; ++k) {
      const float out = v.v[k] * scale + shift;
      v.v[k] = kRelu ? fmaxf(out, 0.0f) : out;
    }
    store<kVec>(y + o, v);
  });
}

// Partial sums of (x - shift) and (x - shift)^2 of one (channel, part), shift = x[channel's first value].
template <int kVec>
__global__ void batchnorm_stats_kernel(const float* x, float* partials, Geometry g) {
  const std::int64_t ch = blockIdx.x;
  const float shift = x[ch * g.plane];
  float sum = 0.0f, squares = 0.0f;
  for_each_vector<kVec>(g, ch, [&](std::int64_t o) {
    const Pack<kVec> v = load<kVec>(x + o);
    for (int k = 0; k < kVec; ++k) {
      const float d = v.v[k] - shift;
      sum += d;
      squares += d * d;
    }
  });
  write_partials(sum, squares, g, partials);
}

// Channel statistics from the partials, then y; part 0's thread 0 writes the saved and running statistics.
template <int kVec, bool kRelu>
__global__ void batchnorm_normalize_train_kernel(const float* x, const float* partials, const float* gamma,
                                                 const float* beta, float* running_mean, float* running_var,
                                                 float momentum, float eps, float* y, float* save_mean,
                                                 float* save_invstd, Geometry g) {
  const std::int64_t ch = blockIdx.x;
  const Totals t = fold_partials(partials, g);
  const double count = static_cast<double>(g.samples) * static_cast<double>(g.plane);
  const double shifted_mean = t.a / count;
  const double squares = fmax(t.b - t.a * shifted_mean, 0.0);  // sum of (x - mean)^2
  const float mean = static_cast<float>(static_cast<double>(x[ch * g.plane]) + shifted_mean);
  const float invstd = rsqrtf(static_cast<float>(squares / count) + eps);
  const float scale = gamma[ch] * invstd, shift = beta[ch] - mean * scale;
  normalize_channel<kVec, kRelu>(x, y, scale, shift, g, ch);
  if (blockIdx.y == 0 && threadIdx.x == 0) {
    save_mean[ch] = mean;
    save_invstd[ch] = invstd;
    running_mean[ch] = (1.0f - momentum) * running_mean[ch] + momentum * mean;
    running_var[ch] = (1.0f - momentum) * running_var[ch] + momentum * static_cast<float>(squares / (count - 1.0));
  }
}

// y = (x - running_mean) / sqrt(running_var + eps) * gamma + beta, through a ReLU when kRelu.
template <int kVec, bool kRelu>
__global__ void batchnorm_normalize_eval_kernel(const float* x, const float* gamma, const float* beta,
                                                const float* running_mean, const float* running_var, float eps,
                                                float* y, Geometry g) {
  const std::int64_t ch = blockIdx.x;
  const float scale = gamma[ch] * rsqrtf(running_var[ch] + eps), shift = beta[ch] - running_mean[ch] * scale;
  normalize_channel<kVec, kRelu>(x, y, scale, shift, g, ch);
}

// dy of one vector, zeroed where the fused ReLU's output is not positive.
template <int kVec, bool kRelu>
__device__ __forceinline__ Pack<kVec> masked_dy(const float* dy, const float* relu_out, std::int64_t o) {
  Pack<kVec> d = load<kVec>(dy + o);
  if constexpr (kRelu) {
    const Pack<kVec> r = load<kVec>(relu_out + o);
    for (int k = 0; k < kVec; ++k) d.v[k] = r.v[k] > 0.0f ? d.v[k] : 0.0f;
  }
  return d;
}

// Partial sums of dy and dy * (x - mean) of one (channel, part).
template <int kVec, bool kRelu>
__global__ void batchnorm_backward_sums_kernel(const float* x, const float* dy, const float* relu_out,
                                               const float* save_mean, float* partials, Geometry g) {
  const std::int64_t ch = blockIdx.x;
  const float mean = save_mean[ch];
  float sum_dy = 0.0f, sum_dy_centered = 0.0f;
  for_each_vector<kVec>(g, ch, [&](std::int64_t o) {
    const Pack<kVec> v = load<kVec>(x + o), d = masked_dy<kVec, kRelu>(dy, relu_out, o);
    for (int k = 0; k < kVec; ++k) {
      sum_dy += d.v[k];
      sum_dy_centered += d.v[k] * (v.v[k] - mean);
    }
  });
  write_partials(sum_dy, sum_dy_centered, g, partials);
}

// dx = gamma invstd (dy - dbeta / M - (x - mean) invstd dgamma / M); part 0's thread 0 writes dgamma and dbeta.
template <int kVec, bool kRelu>
__global__ void batchnorm_backward_dx_kernel(const float* x, const float* dy, const float* relu_out,
                                             const float* gamma, const float* save_mean, const float* save_invstd,
                                             const float* partials, float* dx, float* dgamma, float* dbeta,
                                             Geometry g) {
  const std::int64_t ch = blockIdx.x;
  const Totals t = fold_partials(partials, g);
  const float count = static_cast<float>(static_cast<double>(g.samples) * static_cast<double>(g.plane));
  const float mean = save_mean[ch], invstd = save_invstd[ch];
  const float sum_dy = static_cast<float>(t.a), dgamma_ch = static_cast<float>(t.b) * invstd;
  const float k = gamma[ch] * invstd, mean_dy = sum_dy / count, centered_coef = invstd * dgamma_ch / count;
  for_each_vector<kVec>(g, ch, [&](std::int64_t o) {
    const Pack<kVec> v = load<kVec>(x + o), d = masked_dy<kVec, kRelu>(dy, relu_out, o);
    Pack<kVec> out;
    for (int i = 0; i < kVec; ++i) out.v[i] = k * (d.v[i] - mean_dy - (v.v[i] - mean) * centered_coef);
    store<kVec>(dx + o, out);
  });
  if (blockIdx.y == 0 && threadIdx.x == 0) {
    dgamma[ch] = dgamma_ch;
    dbeta[ch] = sum_dy;
  }
}

// The launch shape for x: float4 when every plane and operand allows it, and
// enough parts per channel to give each SM kResidentBlocksPerSm blocks, but
// no part with less than kMinVectorsPerThread vectors per thread.
struct Plan {
  Geometry g;
  bool vec4;
  dim3 grid;
};
Plan plan_for(const Tensor& x, std::initializer_list<const Tensor*> operands, BatchNormLaunch launch,
              const DeviceContext& ctx) {
  const std::int64_t n = x.dim(0), c = x.dim(1), plane = x.ndim() == 4 ? x.dim(2) * x.dim(3) : 1;
  bool vec4 = plane % 4 == 0;
  for (const Tensor* t : operands)
    if (t && reinterpret_cast<std::uintptr_t>(t->raw_data()) % 16 != 0) vec4 = false;
  const std::int64_t vectors = vec4 ? plane / 4 : plane;
  GCNN_CHECK(n * vectors < (std::int64_t{1} << 31) && c < (std::int64_t{1} << 31),
             "batchnorm (CUDA): x {} has more than 2^31 values per channel or 2^31 channels", x.describe());
  unsigned parts = static_cast<unsigned>(launch.blocks_per_channel);
  if (parts == 0) {
    const std::int64_t sms = std::max(ctx.multiprocessors, 1);
    const std::int64_t wanted = (sms * kResidentBlocksPerSm + c - 1) / c;
    const std::int64_t worth = n * vectors / (kThreads * kMinVectorsPerThread);
    parts = static_cast<unsigned>(std::clamp<std::int64_t>(std::min(wanted, worth), 1, 65535));
  }
  GCNN_CHECK(parts >= 1 && parts <= 65535, "batchnorm (CUDA): {} blocks per channel; must be in [1, 65535]", parts);
  return {{plane, c * plane, static_cast<unsigned>(n), static_cast<unsigned>(vectors), parts}, vec4,
          dim3(static_cast<unsigned>(c), parts)};
}

// Per-(channel, part) pairs of partial sums, from the caching allocator. Released when the op
// returns: safe because every op runs on the device's one stream.
Tensor partials_for(const Plan& p, const Tensor& x) {
  return Tensor::empty({static_cast<std::int64_t>(p.grid.x) * p.grid.y * 2}, x.device());
}

}  // namespace

void batchnorm_forward_train(const Tensor& x, const Tensor& gamma, const Tensor& beta, Tensor& running_mean,
                             Tensor& running_var, float momentum, float eps, Tensor& y, Tensor& save_mean,
                             Tensor& save_invstd, bool relu, BatchNormLaunch launch) {
  if (x.dim(1) == 0) return;
  auto& ctx = context(x.device().index);
  const Plan p = plan_for(x, {&x, &y}, launch, ctx);
  Tensor partials = partials_for(p, x);
  const auto normalize = [&](auto normalize_kernel) {
    GCNN_LAUNCH(normalize_kernel, p.grid, kThreads, 0, ctx.stream, x.data<float>(), partials.data<float>(), gamma.data<float>(),
                beta.data<float>(), running_mean.data<float>(), running_var.data<float>(), momentum, eps,
                y.data<float>(), save_mean.data<float>(), save_invstd.data<float>(), p.g);
  };
  if (p.vec4) {
    GCNN_LAUNCH(batchnorm_stats_kernel<4>, p.grid, kThreads, 0, ctx.stream, x.data<float>(), partials.data<float>(), p.g);
    relu ? normalize(batchnorm_normalize_train_kernel<4, true>) : normalize(batchnorm_normalize_train_kernel<4, false>);
  } else {
    GCNN_LAUNCH(batchnorm_stats_kernel<1>, p.grid, kThreads, 0, ctx.stream, x.data<float>(), partials.data<float>(), p.g);
    relu ? normalize(batchnorm_normalize_train_kernel<1, true>) : normalize(batchnorm_normalize_train_kernel<1, false>);
  }
}

void batchnorm_forward_eval(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& running_mean,
                            const Tensor& running_var, float eps, Tensor& y, bool relu, BatchNormLaunch launch) {
  if (x.numel() == 0) return;
  auto& ctx = context(x.device().index);
  const Plan p = plan_for(x, {&x, &y}, launch, ctx);
  const auto normalize = [&](auto normalize_kernel) {
    GCNN_LAUNCH(normalize_kernel, p.grid, kThreads, 0, ctx.stream, x.data<float>(), gamma.data<float>(), beta.data<float>(),
                running_mean.data<float>(), running_var.data<float>(), eps, y.data<float>(), p.g);
  };
  if (p.vec4) relu ? normalize(batchnorm_normalize_eval_kernel<4, true>) : normalize(batchnorm_normalize_eval_kernel<4, false>);
  else relu ? normalize(batchnorm_normalize_eval_kernel<1, true>) : normalize(batchnorm_normalize_eval_kernel<1, false>);
}

void batchnorm_backward(const Tensor& x, const Tensor& gamma, const Tensor& save_mean, const Tensor& save_invstd,
                        const Tensor& dy, Tensor& dx, Tensor& dgamma, Tensor& dbeta, const Tensor* relu_out,
                        BatchNormLaunch launch) {
  if (x.dim(1) == 0) return;
  auto& ctx = context(x.device().index);
  const Plan p = plan_for(x, {&x, &dy, &dx, relu_out}, launch, ctx);
  Tensor partials = partials_for(p, x);
  const float* mask = relu_out ? relu_out->data<float>() : nullptr;
  const auto run = [&](auto sums_kernel, auto dx_kernel) {
    GCNN_LAUNCH(sums_kernel, p.grid, kThreads, 0, ctx.stream, x.data<float>(), dy.data<float>(), mask,
                save_mean.data<float>(), partials.data<float>(), p.g);
    GCNN_LAUNCH(dx_kernel, p.grid, kThreads, 0, ctx.stream, x.data<float>(), dy.data<float>(), mask, gamma.data<float>(),
                save_mean.data<float>(), save_invstd.data<float>(), partials.data<float>(), dx.data<float>(),
                dgamma.data<float>(), dbeta.data<float>(), p.g);
  };
  if (p.vec4) {
    if (mask) run(batchnorm_backward_sums_kernel<4, true>, batchnorm_backward_dx_kernel<4, true>);
    else run(batchnorm_backward_sums_kernel<4, false>, batchnorm_backward_dx_kernel<4, false>);
  } else {
    if (mask) run(batchnorm_backward_sums_kernel<1, true>, batchnorm_backward_dx_kernel<1, true>);
    else run(batchnorm_backward_sums_kernel<1, false>, batchnorm_backward_dx_kernel<1, false>);
  }
}

}  // namespace gcnn::cuda
