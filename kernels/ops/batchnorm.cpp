// Shape checks and device dispatch for batch normalisation and its fused ReLU variants.
#include "kernels/ops/batchnorm.h"

#include "kernels/cpu/batchnorm.h"
#include "kernels/cuda/batchnorm.h"
#include "kernels/dispatch.h"

namespace gcnn::ops {
namespace {

// x must be [N, C] or [N, C, H, W]; returns C.
std::int64_t channels_of(const char* op, const Tensor& x) {
  GCNN_CHECK(x.ndim() == 2 || x.ndim() == 4, "{}: input {} must be [N, C] or [N, C, H, W]", op, x.describe());
  return x.dim(1);
}

void check_params(const char* op, std::int64_t c, std::initializer_list<std::pair<const char*, const Tensor*>> ts) {
  for (const auto& [name, t] : ts) check_shape(op, name, *t, {c});
}

void forward_train(const char* op, bool relu, const Tensor& x, const Tensor& gamma, const Tensor& beta,
                   Tensor& running_mean, Tensor& running_var, float momentum, float eps, Tensor& y, Tensor& save_mean,
                   Tensor& save_invstd) {
  const std::int64_t c = channels_of(op, x);
  check_params(op, c,
               {{"gamma", &gamma}, {"beta", &beta}, {"running_mean", &running_mean}, {"running_var", &running_var},
                {"save_mean", &save_mean}, {"save_invstd", &save_invstd}});
  check_same_shape(op, x, y);
  GCNN_CHECK(c == 0 || x.numel() / c > 1,
             "{}: input {} has {} value per channel; training-mode batch norm needs more than one", op,
             x.describe(), c == 0 ? 0 : x.numel() / c);
  GCNN_CHECK(eps > 0.0f && momentum >= 0.0f && momentum <= 1.0f,
             "{}: eps {} must be > 0 and momentum {} in [0, 1]", op, eps, momentum);
  dispatch(
      op, {&x, &gamma, &beta, &running_mean, &running_var, &y, &save_mean, &save_invstd},
      [&] {
        cpu::batchnorm_forward_train(x, gamma, beta, running_mean, running_var, momentum, eps, y, save_mean,
                                     save_invstd, relu);
      },
      [&] {
        cuda::batchnorm_forward_train(x, gamma, beta, running_mean, running_var, momentum, eps, y, save_mean,
                                      save_invstd, relu);
      });
}

void forward_eval(const char* op, bool relu, const Tensor& x, const Tensor& gamma, const Tensor& beta,
                  const Tensor& running_mean, const Tensor& running_var, float eps, Tensor& y) {
  const std::int64_t c = channels_of(op, x);
  check_params(op, c,
               {{"gamma", &gamma}, {"beta", &beta}, {"running_mean", &running_mean}, {"running_var", &running_var}});
  check_same_shape(op, x, y);
  GCNN_CHECK(eps > 0.0f, "{}: eps {} must be > 0", op, eps);
  dispatch(
      op, {&x, &gamma, &beta, &running_mean, &running_var, &y},
      [&] { cpu::batchnorm_forward_eval(x, gamma, beta, running_mean, running_var, eps, y, relu); },
      [&] { cuda::batchnorm_forward_eval(x, gamma, beta, running_mean, running_var, eps, y, relu); });
}

// relu_out non-null: the backward of relu(batchnorm(x)).
void backward(const char* op, const Tensor* relu_out, const Tensor& x, const Tensor& gamma, const Tensor& save_mean,
              const Tensor& save_invstd, const Tensor& dy, Tensor& dx, Tensor& dgamma, Tensor& dbeta) {
  const std::int64_t c = channels_of(op, x);
  check_params(op, c,
               {{"gamma", &gamma}, {"save_mean", &save_mean}, {"save_invstd", &save_invstd}, {"dgamma", &dgamma},
                {"dbeta", &dbeta}});
  check_same_shape(op, x, dy);
  check_same_shape(op, x, dx);
  if (relu_out) check_same_shape(op, x, *relu_out);
  dispatch(
      op, {&x, &gamma, &save_mean, &save_invstd, &dy, &dx, &dgamma, &dbeta, relu_out},
      [&] { cpu::batchnorm_backward(x, gamma, save_mean, save_invstd, dy, dx, dgamma, dbeta, relu_out); },
      [&] { cuda::batchnorm_backward(x, gamma, save_mean, save_invstd, dy, dx, dgamma, dbeta, relu_out); });
}

}  // namespace

void batchnorm_forward_train(const Tensor& x, const Tensor& gamma, const Tensor& beta, Tensor& running_mean,
                             Tensor& running_var, float momentum, float eps, Tensor& y, Tensor& save_mean,
                             Tensor& save_invstd) {
  forward_train("batchnorm_forward_train", false, x, gamma, beta, running_mean, running_var, momentum, eps, y,
                save_mean, save_invstd);
}

void batchnorm_relu_forward_train(const Tensor& x, const Tensor& gamma, const Tensor& beta, Tensor& running_mean,
                                  Tensor& running_var, float momentum, float eps, Tensor& y, Tensor& save_mean,
                                  Tensor& save_invstd) {
  forward_train("batchnorm_relu_forward_train", true, x, gamma, beta, running_mean, running_var, momentum, eps, y,
                save_mean, save_invstd);
}

void batchnorm_forward_eval(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& running_mean,
                            const Tensor& running_var, float eps, Tensor& y) {
  forward_eval("batchnorm_forward_eval", false, x, gamma, beta, running_mean, running_var, eps, y);
}

void batchnorm_relu_forward_eval(const Tensor& x, const Tensor& gamma, const Tensor& beta,
                                 const Tensor& running_mean, const Tensor& running_var, float eps, Tensor& y) {
  forward_eval("batchnorm_relu_forward_eval", true, x, gamma, beta, running_mean, running_var, eps, y);
}

void batchnorm_backward(const Tensor& x, const Tensor& gamma, const Tensor& save_mean, const Tensor& save_invstd,
                        const Tensor& dy, Tensor& dx, Tensor& dgamma, Tensor& dbeta) {
  backward("batchnorm_backward", nullptr, x, gamma, save_mean, save_invstd, dy, dx, dgamma, dbeta);
}

void relu_batchnorm_backward(const Tensor& x, const Tensor& gamma, const Tensor& save_mean,
                             const Tensor& save_invstd, const Tensor& y, const Tensor& dy, Tensor& dx, Tensor& dgamma,
                             Tensor& dbeta) {
  backward("relu_batchnorm_backward", &y, x, gamma, save_mean, save_invstd, dy, dx, dgamma, dbeta);
}

}  // namespace gcnn::ops
