// BatchNorm layer over ops::batchnorm_*.
#include "layers/batchnorm.h"

#include <algorithm>
#include <cmath>

#include "kernels/ops/activation.h"
#include "kernels/ops/batchnorm.h"
#include "kernels/ops/elementwise.h"
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
  if (sync_ && sync_->world_size() > 1) return forward_synchronised(x);
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

// Global statistics from each rank's own mean and variance (a stable per-rank
// pass by the training forward, into scratch running statistics): the ranks
// all-reduce sum, sum of squares and count in double, then normalise with the
// global mean and biased variance and update the running statistics with the
// unbiased one, as one process with the whole global batch would.
Tensor BatchNorm::forward_synchronised(const Tensor& x) {
  const std::int64_t C = x.dim(1);
  const Shape c{C};
  const Device device = x.device();
  const double count = static_cast<double>(x.numel() / C);
  Tensor y = Tensor::empty(x.shape(), device), local_mean = Tensor::empty(c, device),
         local_invstd = Tensor::empty(c, device), scratch_mean = Tensor::zeros(c, device),
         scratch_var = Tensor::full(c, 1.0f, device);
  ops::batchnorm_forward_train(x, gamma().value, beta().value, scratch_mean, scratch_var, momentum_, eps_, y,
                               local_mean, local_invstd);
  const std::vector<float> mean_r = local_mean.to_vector(), invstd_r = local_invstd.to_vector();
  const auto n = static_cast<std::size_t>(C);
  std::vector<double> stats(2 * n + 1);  // sum per channel, sum of squares per channel, count
  for (std::size_t ch = 0; ch < n; ++ch) {
    const double var = 1.0 / (static_cast<double>(invstd_r[ch]) * invstd_r[ch]) - eps_;
    stats[ch] = count * mean_r[ch];
    stats[n + ch] = count * (var + static_cast<double>(mean_r[ch]) * mean_r[ch]);
  }
  stats[2 * n] = count;
  sync_->all_reduce_sum(stats.data(), stats.size());
  const double total = stats[2 * n];
  GCNN_CHECK(total > 1, "batchnorm: needs more than one value per channel over all ranks, got {}", total);
  std::vector<float> mean(n), var(n), invstd(n), running_mean = buffers()[0].value.to_vector(),
                                                 running_var = buffers()[1].value.to_vector();
  for (std::size_t ch = 0; ch < n; ++ch) {
    const double m = stats[ch] / total, v = std::max(stats[n + ch] / total - m * m, 0.0);
    mean[ch] = static_cast<float>(m);
    var[ch] = static_cast<float>(v);
    invstd[ch] = static_cast<float>(1.0 / std::sqrt(v + eps_));
    running_mean[ch] = static_cast<float>((1.0 - momentum_) * running_mean[ch] + momentum_ * m);
    running_var[ch] = static_cast<float>((1.0 - momentum_) * running_var[ch] + momentum_ * v * total / (total - 1));
  }
  save_mean_ = Tensor::from_vector(c, mean, device);
  save_var_ = Tensor::from_vector(c, var, device);
  save_invstd_ = Tensor::from_vector(c, invstd, device);
  buffers()[0].value.copy_from(Tensor::from_vector(c, running_mean));
  buffers()[1].value.copy_from(Tensor::from_vector(c, running_var));
  if (fused_relu)
    ops::batchnorm_relu_forward_eval(x, gamma().value, beta().value, save_mean_, save_var_, eps_, y);
  else ops::batchnorm_forward_eval(x, gamma().value, beta().value, save_mean_, save_var_, eps_, y);
  buffers()[2].value.fill(static_cast<float>(++batches_));
  x_ = x;
  y_ = fused_relu ? y : Tensor();
  return y;
}

// The backward with the global sums: the op gives this rank's sums (dbeta_r,
// dgamma_r, left as the parameter gradients, which the trainer averages over
// ranks) and dx with them over the local count m; dx needs instead the sums
// over all ranks (db, dg) and the global count M, which differs by the
// per-channel affine function of xhat
//   gamma * invstd * ((dbeta_r / m - db / M) + xhat * (dgamma_r / m - dg / M)),
// computed by the inference-mode op with the saved mean and variance.
Tensor BatchNorm::backward_synchronised(const Tensor& dy_out) {
  const std::int64_t C = x_.dim(1);
  const Shape c{C};
  const Device device = x_.device();
  const double count = static_cast<double>(x_.numel() / C);
  Tensor dx = Tensor::empty(x_.shape(), device);
  Tensor dy = dy_out;
  if (fused_relu) {  // through the fused ReLU first: dy where the output is positive
    dy = Tensor::empty(dy_out.shape(), device);
    ops::relu_backward(y_, dy_out, dy);
  }
  ops::batchnorm_backward(x_, gamma().value, save_mean_, save_invstd_, dy, dx, gamma().grad, beta().grad);
  const std::vector<float> dgamma_r = gamma().grad.to_vector(), dbeta_r = beta().grad.to_vector(),
                           g = gamma().value.to_vector(), invstd = save_invstd_.to_vector();
  const auto n = static_cast<std::size_t>(C);
  std::vector<double> sums(2 * n + 1);  // dgamma, dbeta per channel, count
  for (std::size_t ch = 0; ch < n; ++ch) {
    sums[ch] = dgamma_r[ch];
    sums[n + ch] = dbeta_r[ch];
  }
  sums[2 * n] = count;
  sync_->all_reduce_sum(sums.data(), sums.size());
  const double total = sums[2 * n];
  std::vector<float> slope(n), offset(n);
  for (std::size_t ch = 0; ch < n; ++ch) {
    const double k = static_cast<double>(g[ch]) * invstd[ch];
    slope[ch] = static_cast<float>(k * (dgamma_r[ch] / count - sums[ch] / total));
    offset[ch] = static_cast<float>(k * (dbeta_r[ch] / count - sums[n + ch] / total));
  }
  Tensor correction = Tensor::empty(x_.shape(), device);
  ops::batchnorm_forward_eval(x_, Tensor::from_vector(c, slope, device), Tensor::from_vector(c, offset, device),
                              save_mean_, save_var_, eps_, correction);
  ops::accumulate(dx, correction);
  x_ = Tensor();
  y_ = Tensor();
  return dx;
}

Tensor BatchNorm::backward(const Tensor& dy) {
  GCNN_CHECK(x_.defined(), "batchnorm: backward without a training forward");
  if (sync_ && sync_->world_size() > 1) return backward_synchronised(dy);
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
