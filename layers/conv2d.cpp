// Conv2d layer over ops::conv2d_forward/backward (conv2d_input_gradient alone when its weights are frozen).
#include "layers/conv2d.h"

#include "layers/init.h"
#include "layers/registry.h"

namespace gcnn {

Conv2d::Conv2d(int in_channels, int out_channels, int kernel, int stride, int padding, bool bias)
    : params_{stride, stride, padding, padding}, has_bias_(bias) {
  GCNN_CHECK(in_channels > 0 && out_channels > 0 && kernel > 0 && stride > 0 && padding >= 0,
             "conv2d: bad geometry in={} out={} kernel={} stride={} padding={}", in_channels, out_channels, kernel,
             stride, padding);
  add_parameter("weight", Tensor::zeros({out_channels, in_channels, kernel, kernel}), true);
  if (bias) add_parameter("bias", Tensor::zeros({out_channels}), false);
}

Shape Conv2d::output_shape(const Shape& in) const {
  return ops::conv2d_output_shape(in, const_cast<Conv2d*>(this)->weight().value.shape(), params_);
}

void Conv2d::reset_parameters(std::uint64_t seed) {
  Tensor& w = weight().value;
  init_kaiming_normal(w, static_cast<double>(w.dim(0) * w.dim(2) * w.dim(3)), seed);  // fan_out, as torchvision
  if (has_bias_) parameters()[1].value.zero();
}

ops::Conv2dParams Conv2d::op_params() const {
  ops::Conv2dParams p = params_;
  p.precision = precision;
  return p;
}

Tensor Conv2d::forward(const Tensor& x, bool train) {
  Tensor y = Tensor::empty(ops::conv2d_output_shape(x.shape(), weight().value.shape(), params_), x.device());
  ops::conv2d_forward(x, weight().value, has_bias_ ? parameters()[1].value : Tensor(), y, op_params());
  x_ = train ? x : Tensor();
  return y;
}

Tensor Conv2d::backward(const Tensor& dy) {
  GCNN_CHECK(x_.defined(), "conv2d: backward without a training forward");
  Tensor dx = needs_input_grad ? Tensor::empty(x_.shape(), x_.device()) : Tensor();
  const bool frozen = weight().frozen && (!has_bias_ || parameters()[1].frozen);
  if (frozen) {
    if (needs_input_grad) ops::conv2d_input_gradient(weight().value, dy, dx, op_params());
  } else {
    ops::conv2d_backward(x_, weight().value, dy, needs_input_grad ? &dx : nullptr, weight().grad,
                         has_bias_ ? &parameters()[1].grad : nullptr, op_params());
  }
  x_ = Tensor();
  return dx;
}

LayerPtr make_conv2d(LayerArgs& args) {
  Options& o = args.options;
  const int out = o.require<int>("out");
  const int kernel = o.get<int>("kernel", 3);
  const int stride = o.get<int>("stride", 1);
  const int padding = o.get<int>("padding", kernel / 2);
  const bool bias = o.get<bool>("bias", false);
  if (args.in_shape.size() != 4) o.fail("out", "conv2d needs an [N, C, H, W] input, got " + shape_str(args.in_shape));
  if (out <= 0 || kernel <= 0 || stride <= 0 || padding < 0) o.fail("out", "conv2d needs out, kernel, stride > 0 and padding >= 0");
  if (kernel > 64 || padding > kernel) o.fail("kernel", "conv2d takes kernel <= 64 and padding <= kernel");
  if (args.in_shape[1] > kMaxLayerWeights / (std::int64_t{out} * kernel * kernel))
    o.fail("out", fmt::format("gives {} x {} x {} x {} weights, more than the limit of {}", args.in_shape[1], out, kernel,
                              kernel, kMaxLayerWeights));
  return std::make_unique<Conv2d>(static_cast<int>(args.in_shape[1]), out, kernel, stride, padding, bias);
}

}  // namespace gcnn
