// Linear layer over ops::linear_forward/backward.
#include "layers/linear.h"

#include <cmath>

#include "kernels/ops/linear.h"
#include "layers/init.h"
#include "layers/registry.h"

namespace gcnn {

Linear::Linear(int in_features, int out_features, bool bias, bool kaiming_init)
    : has_bias_(bias), kaiming_init_(kaiming_init) {
  GCNN_CHECK(in_features > 0 && out_features > 0, "linear: features in={} out={} must be > 0", in_features,
             out_features);
  add_parameter("weight", Tensor::zeros({out_features, in_features}), true);
  if (bias) add_parameter("bias", Tensor::zeros({out_features}), false);
}

Shape Linear::output_shape(const Shape& in) const {
  const Shape& w = const_cast<Linear*>(this)->weight().value.shape();
  GCNN_CHECK(in.size() == 2 && in[1] == w[1], "linear: input {} does not fit weight {}", shape_str(in), shape_str(w));
  return {in[0], w[0]};
}

void Linear::reset_parameters(std::uint64_t seed) {
  Tensor& w = weight().value;
  const double fan_in = static_cast<double>(w.dim(1));
  if (zero_init) {
    w.zero();
    if (has_bias_) parameters()[1].value.zero();
  } else if (kaiming_init_) {
    init_kaiming_normal(w, fan_in, seed);
    if (has_bias_) parameters()[1].value.zero();
  } else {
    init_uniform(w, 1.0 / std::sqrt(fan_in), seed);
    if (has_bias_) init_uniform(parameters()[1].value, 1.0 / std::sqrt(fan_in), derive_seed(seed, 1));
  }
}

Tensor Linear::forward(const Tensor& x, bool train) {
  Tensor y = Tensor::empty(output_shape(x.shape()), x.device());
  ops::linear_forward(x, weight().value, has_bias_ ? parameters()[1].value : Tensor(), y, precision);
  x_ = train ? x : Tensor();
  return y;
}

Tensor Linear::backward(const Tensor& dy) {
  GCNN_CHECK(x_.defined(), "linear: backward without a training forward");
  Tensor dx = needs_input_grad ? Tensor::empty(x_.shape(), x_.device()) : Tensor();
  ops::linear_backward(x_, weight().value, dy, needs_input_grad ? &dx : nullptr, weight().grad,
                       has_bias_ ? &parameters()[1].grad : nullptr, precision);
  x_ = Tensor();
  return dx;
}

LayerPtr make_linear(LayerArgs& args) {
  const int out = args.options.require<int>("out");
  const bool bias = args.options.get<bool>("bias", true);
  const bool kaiming = args.options.choice("init", {"uniform", "kaiming"}, "uniform") == "kaiming";
  if (args.in_shape.size() != 2) args.options.fail("out", "linear needs an [N, features] input (add a flatten), got " + shape_str(args.in_shape));
  if (out <= 0) args.options.fail("out", "must be > 0");
  if (args.in_shape[1] > kMaxLayerWeights / out)
    args.options.fail("out", fmt::format("gives {} x {} weights, more than the limit of {}", args.in_shape[1], out,
                                         kMaxLayerWeights));
  return std::make_unique<Linear>(static_cast<int>(args.in_shape[1]), out, bias, kaiming);
}

}  // namespace gcnn
