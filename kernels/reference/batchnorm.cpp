// Reference batch normalisation: the textbook formulas one channel at a time,
// accumulated in double (CPU tensors only).
#include "kernels/reference/batchnorm.h"

#include <cmath>

#include "kernels/reference/activation.h"

namespace gcnn::reference {
namespace {

// x viewed as [N, C, plane]: element (b, c, p).
struct Layout {
  std::int64_t n, c, plane;
  explicit Layout(const Tensor& x) : n(x.dim(0)), c(x.dim(1)), plane(x.ndim() == 4 ? x.dim(2) * x.dim(3) : 1) {}
  std::int64_t at(std::int64_t b, std::int64_t ch, std::int64_t p) const { return (b * c + ch) * plane + p; }
  std::int64_t count() const { return n * plane; }
};

}  // namespace

void batchnorm_forward_train(const Tensor& x, const Tensor& gamma, const Tensor& beta, Tensor& running_mean,
                             Tensor& running_var, float momentum, float eps, Tensor& y, Tensor& save_mean,
                             Tensor& save_invstd) {
  const Layout l(x);
  const float* in = x.data<float>();
  float* out = y.data<float>();
  for (std::int64_t ch = 0; ch < l.c; ++ch) {
    double sum = 0.0;
    for (std::int64_t b = 0; b < l.n; ++b)
      for (std::int64_t p = 0; p < l.plane; ++p) sum += in[l.at(b, ch, p)];
    const double m = static_cast<double>(l.count());
    const double mean = sum / m;
    double squares = 0.0;
    for (std::int64_t b = 0; b < l.n; ++b)
      for (std::int64_t p = 0; p < l.plane; ++p) squares += (in[l.at(b, ch, p)] - mean) * (in[l.at(b, ch, p)] - mean);
    const double var = squares / m;
    const double invstd = 1.0 / std::sqrt(var + eps);
    for (std::int64_t b = 0; b < l.n; ++b)
      for (std::int64_t p = 0; p < l.plane; ++p)
        out[l.at(b, ch, p)] = static_cast<float>((in[l.at(b, ch, p)] - mean) * invstd * gamma.data<float>()[ch] +
                                                 beta.data<float>()[ch]);
    save_mean.data<float>()[ch] = static_cast<float>(mean);
    save_invstd.data<float>()[ch] = static_cast<float>(invstd);
    float& rm = running_mean.data<float>()[ch];
    float& rv = running_var.data<float>()[ch];
    rm = static_cast<float>((1.0 - momentum) * rm + momentum * mean);
    rv = static_cast<float>((1.0 - momentum) * rv + momentum * (squares / (m - 1.0)));
  }
}

void batchnorm_forward_eval(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& running_mean,
                            const Tensor& running_var, float eps, Tensor& y) {
  const Layout l(x);
  for (std::int64_t ch = 0; ch < l.c; ++ch) {
    const double invstd = 1.0 / std::sqrt(static_cast<double>(running_var.data<float>()[ch]) + eps);
    for (std::int64_t b = 0; b < l.n; ++b)
      for (std::int64_t p = 0; p < l.plane; ++p) {
        const std::int64_t i = l.at(b, ch, p);
        y.data<float>()[i] = static_cast<float>((x.data<float>()[i] - running_mean.data<float>()[ch]) * invstd *
                                                    gamma.data<float>()[ch] +
                                                beta.data<float>()[ch]);
      }
  }
}

void batchnorm_backward(const Tensor& x, const Tensor& gamma, const Tensor& save_mean, const Tensor& save_invstd,
                        const Tensor& dy, Tensor& dx, Tensor& dgamma, Tensor& dbeta) {
  const Layout l(x);
  const float* in = x.data<float>();
  const float* g = dy.data<float>();
  for (std::int64_t ch = 0; ch < l.c; ++ch) {
    const double mean = save_mean.data<float>()[ch], invstd = save_invstd.data<float>()[ch];
    double sum_dy = 0.0, sum_dy_xhat = 0.0;
    for (std::int64_t b = 0; b < l.n; ++b)
      for (std::int64_t p = 0; p < l.plane; ++p) {
        const std::int64_t i = l.at(b, ch, p);
        sum_dy += g[i];
        sum_dy_xhat += g[i] * (in[i] - mean) * invstd;
      }
    const double m = static_cast<double>(l.count());
    for (std::int64_t b = 0; b < l.n; ++b)
      for (std::int64_t p = 0; p < l.plane; ++p) {
        const std::int64_t i = l.at(b, ch, p);
        const double xhat = (in[i] - mean) * invstd;
        dx.data<float>()[i] = static_cast<float>(gamma.data<float>()[ch] * invstd *
                                                 (g[i] - sum_dy / m - xhat * sum_dy_xhat / m));
      }
    dgamma.data<float>()[ch] = static_cast<float>(sum_dy_xhat);
    dbeta.data<float>()[ch] = static_cast<float>(sum_dy);
  }
}

void batchnorm_relu_forward_train(const Tensor& x, const Tensor& gamma, const Tensor& beta, Tensor& running_mean,
                                  Tensor& running_var, float momentum, float eps, Tensor& y, Tensor& save_mean,
                                  Tensor& save_invstd) {
  batchnorm_forward_train(x, gamma, beta, running_mean, running_var, momentum, eps, y, save_mean, save_invstd);
  relu_forward(y, y);
}

void batchnorm_relu_forward_eval(const Tensor& x, const Tensor& gamma, const Tensor& beta,
                                 const Tensor& running_mean, const Tensor& running_var, float eps, Tensor& y) {
  batchnorm_forward_eval(x, gamma, beta, running_mean, running_var, eps, y);
  relu_forward(y, y);
}

void relu_batchnorm_backward(const Tensor& x, const Tensor& gamma, const Tensor& save_mean,
                             const Tensor& save_invstd, const Tensor& y, const Tensor& dy, Tensor& dx, Tensor& dgamma,
                             Tensor& dbeta) {
  Tensor masked = Tensor::empty(dy.shape());
  relu_backward(y, dy, masked);
  batchnorm_backward(x, gamma, save_mean, save_invstd, masked, dx, dgamma, dbeta);
}

}  // namespace gcnn::reference
