// Batch normalisation on the CPU: channels in parallel (OpenMP); within a
// channel, each [plane] row of every batch item is swept with lane_sum. The
// variance is computed in a second pass around the mean (no cancellation).
// The fused ReLU variants apply max(0, .) in the normalising pass, and mask dy
// by the ReLU's output inside both backward passes.
#include "kernels/cpu/batchnorm.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "kernels/cpu/lane_sum.h"

namespace gcnn::cpu {
namespace {

// x viewed as [N, C, plane].
struct Layout {
  std::int64_t n, c, plane;
  explicit Layout(const Tensor& x) : n(x.dim(0)), c(x.dim(1)), plane(x.ndim() == 4 ? x.dim(2) * x.dim(3) : 1) {}
  std::int64_t row(std::int64_t b, std::int64_t ch) const { return (b * c + ch) * plane; }
  double count() const { return static_cast<double>(n * plane); }
  bool parallel() const { return n * c * plane > 32768; }
};

// q = p * scale + shift over one row, through a ReLU when relu.
void normalize_row(const float* p, float* q, std::int64_t n, float scale, float shift, bool relu) {
  if (relu) {
#pragma omp simd
    for (std::int64_t i = 0; i < n; ++i) q[i] = std::max(p[i] * scale + shift, 0.0f);
  } else {
#pragma omp simd
    for (std::int64_t i = 0; i < n; ++i) q[i] = p[i] * scale + shift;
  }
}

// The backward over all channels; kRelu: dy counts only where relu_out > 0.
template <bool kRelu>
void backward_channels(const Tensor& x, const Tensor& gamma, const Tensor& save_mean, const Tensor& save_invstd,
                       const Tensor& dy, const float* relu_out, Tensor& dx, Tensor& dgamma, Tensor& dbeta) {
  const Layout l(x);
  const float* in = x.data<float>();
  const float* grad = dy.data<float>();
  float* gx = dx.data<float>();
  const float *g = gamma.data<float>(), *sm = save_mean.data<float>(), *si = save_invstd.data<float>();
  float *dg = dgamma.data<float>(), *db = dbeta.data<float>();
#pragma omp parallel for schedule(static) if (l.parallel())
  for (std::int64_t ch = 0; ch < l.c; ++ch) {
    const float mean = sm[ch];
    double sum_dy = 0.0, sum_dy_centered = 0.0;
    for (std::int64_t b = 0; b < l.n; ++b) {
      const float *p = in + l.row(b, ch), *d = grad + l.row(b, ch);
      const float* r = kRelu ? relu_out + l.row(b, ch) : nullptr;
      const auto dy_at = [d, r](std::int64_t i) {
        const float di = d[i];  // loaded unconditionally: a conditional load keeps the loop scalar
        return kRelu ? (r[i] > 0.0f ? di : 0.0f) : di;
      };
      lane_sum2(
          l.plane, dy_at, [p, dy_at, mean](std::int64_t i) { return dy_at(i) * (p[i] - mean); }, sum_dy,
          sum_dy_centered);
    }
    const double invstd = si[ch];
    const double dgamma_ch = sum_dy_centered * invstd;
    // dx = gamma invstd (dy - dbeta / M - (x - mean) invstd dgamma / M)
    const float k = static_cast<float>(g[ch] * invstd);
    const float mean_dy = static_cast<float>(sum_dy / l.count());
    const float centered_coef = static_cast<float>(invstd * dgamma_ch / l.count());
    for (std::int64_t b = 0; b < l.n; ++b) {
      const float *p = in + l.row(b, ch), *d = grad + l.row(b, ch);
      float* q = gx + l.row(b, ch);
      if constexpr (kRelu) {
        const float* r = relu_out + l.row(b, ch);
#pragma omp simd
        for (std::int64_t i = 0; i < l.plane; ++i) {
          const float di = d[i];
          q[i] = k * ((r[i] > 0.0f ? di : 0.0f) - mean_dy - (p[i] - mean) * centered_coef);
        }
      } else {
#pragma omp simd
        for (std::int64_t i = 0; i < l.plane; ++i) q[i] = k * (d[i] - mean_dy - (p[i] - mean) * centered_coef);
      }
    }
    dg[ch] = static_cast<float>(dgamma_ch);
    db[ch] = static_cast<float>(sum_dy);
  }
}

}  // namespace

void batchnorm_forward_train(const Tensor& x, const Tensor& gamma, const Tensor& beta, Tensor& running_mean,
                             Tensor& running_var, float momentum, float eps, Tensor& y, Tensor& save_mean,
                             Tensor& save_invstd, bool relu) {
  const Layout l(x);
  const float* in = x.data<float>();
  float* out = y.data<float>();
  const float *g = gamma.data<float>(), *bt = beta.data<float>();
  float *rm = running_mean.data<float>(), *rv = running_var.data<float>();
  float *sm = save_mean.data<float>(), *si = save_invstd.data<float>();
#pragma omp parallel for schedule(static) if (l.parallel())
  for (std::int64_t ch = 0; ch < l.c; ++ch) {
    double sum = 0.0;
    for (std::int64_t b = 0; b < l.n; ++b) {
      const float* p = in + l.row(b, ch);
      sum += lane_sum(l.plane, [p](std::int64_t i) { return p[i]; });
    }
    const double mean = sum / l.count();
    const float mean_f = static_cast<float>(mean);
    double squares = 0.0;
    for (std::int64_t b = 0; b < l.n; ++b) {
      const float* p = in + l.row(b, ch);
      squares += lane_sum(l.plane, [p, mean_f](std::int64_t i) { return (p[i] - mean_f) * (p[i] - mean_f); });
    }
    const double var = squares / l.count();
    const double invstd = 1.0 / std::sqrt(var + eps);
    const float scale = static_cast<float>(g[ch] * invstd);
    const float shift = static_cast<float>(bt[ch] - mean * g[ch] * invstd);
    for (std::int64_t b = 0; b < l.n; ++b) normalize_row(in + l.row(b, ch), out + l.row(b, ch), l.plane, scale, shift, relu);
    sm[ch] = mean_f;
    si[ch] = static_cast<float>(invstd);
    rm[ch] = static_cast<float>((1.0 - momentum) * rm[ch] + momentum * mean);
    rv[ch] = static_cast<float>((1.0 - momentum) * rv[ch] + momentum * squares / (l.count() - 1.0));
  }
}

void batchnorm_forward_eval(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& running_mean,
                            const Tensor& running_var, float eps, Tensor& y, bool relu) {
  const Layout l(x);
  const float* in = x.data<float>();
  float* out = y.data<float>();
  const float *g = gamma.data<float>(), *bt = beta.data<float>();
  const float *rm = running_mean.data<float>(), *rv = running_var.data<float>();
#pragma omp parallel for schedule(static) if (l.parallel())
  for (std::int64_t bc = 0; bc < l.n * l.c; ++bc) {
    const std::int64_t ch = bc % l.c;
    const double invstd = 1.0 / std::sqrt(static_cast<double>(rv[ch]) + eps);
    const float scale = static_cast<float>(g[ch] * invstd);
    const float shift = static_cast<float>(bt[ch] - rm[ch] * g[ch] * invstd);
    normalize_row(in + bc * l.plane, out + bc * l.plane, l.plane, scale, shift, relu);
  }
}

void batchnorm_backward(const Tensor& x, const Tensor& gamma, const Tensor& save_mean, const Tensor& save_invstd,
                        const Tensor& dy, Tensor& dx, Tensor& dgamma, Tensor& dbeta, const Tensor* relu_out) {
  if (relu_out) backward_channels<true>(x, gamma, save_mean, save_invstd, dy, relu_out->data<float>(), dx, dgamma, dbeta);
  else backward_channels<false>(x, gamma, save_mean, save_invstd, dy, nullptr, dx, dgamma, dbeta);
}

}  // namespace gcnn::cpu
