// BatchNorm layer over ops::batchnorm_*.
#include "layers/batchnorm.h"

#include "kernels/ops/batchnorm.h"
#include "layers/registry.h"

namespace gcnn {

BatchNorm::BatchNorm(int channels, float momentum, float eps) : momentum_(momentum), eps_(eps) {
  GCNN_CHECK(channels > 0, "batchnorm: channels {} must be > 0", channels);
  add_parameter("weight", Tensor::full({channels}, 1.0f), false).norm = true;
  add_parameter("bias", Tensor::zeros({channels}), false).norm = true;
  add_buffer("running_mean", Tensor::zeros({channels}));
  add_buffer("running_var", Tensor::full({channels}, 1.0f));
  add_buffer("num_batches_tracked", Tensor::zeros({}));
}

void BatchNorm::reset_parameters(std::uint64_t) {
  gamma().value.fill(zero_gamma_init ? 0.0f : 1.0f);
  beta().value.zero();
  buffers()[0].value.zero();
  buffers()[1].value.fill(1.0f);
  buffers()[2].value.zero();
  batches_ = 0;
}

void BatchNorm::state_loaded() {
  batches_ = static_cast<std::int64_t>(buffers()[2].value.to_vector().at(0));
}

Tensor BatchNorm::forward(const Tensor& x, bool train) {
  GCNN_CHECK(x.ndim() == 2 || x.ndim() == 4, "batchnorm: input {} must be [N, C] or [N, C, H, W]", x.describe());
  Tensor y = Tensor::empty(x.shape(), x.device());
  if (!train) {
    if (fused_relu)
      ops::batchnorm_relu_forward_eval(x, gamma().value, beta().value, buffers()[0].value, buffers()[1].value, eps_, y);
    else ops::batchnorm_forward_eval(x, gamma().value, beta().value, buffers()[0].value, buffers()[1].value, eps_, y);
    return y;
  }
  const Shape c{x.dim(1)};
  save_mean_ = Tensor::empty(c, x.device());
  save_invstd_ = Tensor::empty(c, x.device());
  if (fused_relu)
    ops::batchnorm_relu_forward_train(x, gamma().value, beta().value, buffers()[0].value, buffers()[1].value,
                                      momentum_, eps_, y, save_mean_, save_invstd_);
  else ops::batchnorm_forward_train(x, gamma().value, beta().value, buffers()[0].value, buffers()[1].value, momentum_,
                                    eps_, y, save_mean_, save_invstd_);
  buffers()[2].value.fill(static_cast<float>(++batches_));
  x_ = x;
  y_ = fused_relu ? y : Tensor();
  return y;
}

Tensor BatchNorm::backward(const Tensor& dy) {
  GCNN_CHECK(x_.defined(), "batchnorm: backward without a training forward");
  Tensor dx = Tensor::empty(x_.shape(), x_.device());
  if (fused_relu)
    ops::relu_batchnorm_backward(x_, gamma().value, save_mean_, save_invstd_, y_, dy, dx, gamma().grad, beta().grad);
  else ops::batchnorm_backward(x_, gamma().value, save_mean_, save_invstd_, dy, dx, gamma().grad, beta().grad);
  x_ = Tensor();
  y_ = Tensor();
  return dx;
}

LayerPtr make_batchnorm(LayerArgs& args) {
  const float momentum = args.options.get<float>("momentum", 0.1f);
  const float eps = args.options.get<float>("eps", 1e-5f);
  if (args.in_shape.size() != 2 && args.in_shape.size() != 4)
    args.options.fail("type", "batchnorm needs an [N, C] or [N, C, H, W] input, got " + shape_str(args.in_shape));
  return std::make_unique<BatchNorm>(static_cast<int>(args.in_shape[1]), momentum, eps);
}

}  // namespace gcnn
