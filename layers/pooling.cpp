// Pooling layers over ops::maxpool2d_*, global_avgpool_*, concat_pool_*.
#include "layers/pooling.h"

#include "layers/registry.h"

namespace gcnn {

Tensor MaxPool2d::forward(const Tensor& x, bool train) {
  Tensor y = Tensor::empty(ops::pool2d_output_shape(x.shape(), params_), x.device());
  ops::maxpool2d_forward(x, y, params_);
  x_ = train ? x : Tensor();
  return y;
}

Tensor MaxPool2d::backward(const Tensor& dy) {
  GCNN_CHECK(x_.defined(), "maxpool: backward without a training forward");
  Tensor dx = Tensor::empty(x_.shape(), x_.device());
  ops::maxpool2d_backward(x_, dy, dx, params_);
  x_ = Tensor();
  return dx;
}

Tensor GlobalAvgPool::forward(const Tensor& x, bool) {
  GCNN_CHECK(x.ndim() == 4, "avgpool: input {} must be [N, C, H, W]", x.describe());
  Tensor y = Tensor::empty({x.dim(0), x.dim(1)}, x.device());
  ops::global_avgpool_forward(x, y);
  in_shape_ = x.shape();
  device_ = x.device();
  return y;
}

Tensor GlobalAvgPool::backward(const Tensor& dy) {
  Tensor dx = Tensor::empty(in_shape_, device_);
  ops::global_avgpool_backward(dy, dx);
  return dx;
}

Tensor ConcatPool::forward(const Tensor& x, bool train) {
  GCNN_CHECK(x.ndim() == 4, "concat_pool: input {} must be [N, C, H, W]", x.describe());
  Tensor y = Tensor::empty({x.dim(0), 2 * x.dim(1)}, x.device());
  ops::concat_pool_forward(x, y);
  x_ = train ? x : Tensor();
  return y;
}

Tensor ConcatPool::backward(const Tensor& dy) {
  GCNN_CHECK(x_.defined(), "concat_pool: backward without a training forward");
  Tensor dx = Tensor::empty(x_.shape(), x_.device());
  ops::concat_pool_backward(x_, dy, dx);
  x_ = Tensor();
  return dx;
}

LayerPtr make_maxpool(LayerArgs& args) {
  ops::Pool2dParams p;
  const int kernel = args.options.get<int>("kernel", 2);
  const int stride = args.options.get<int>("stride", kernel);
  const int padding = args.options.get<int>("padding", 0);
  p.kernel_h = p.kernel_w = kernel;
  p.stride_h = p.stride_w = stride;
  p.pad_h = p.pad_w = padding;
  if (kernel <= 0 || stride <= 0 || padding < 0 || 2 * padding > kernel)
    args.options.fail("kernel", "maxpool needs kernel, stride > 0 and 0 <= padding <= kernel / 2");
  return std::make_unique<MaxPool2d>(p);
}
LayerPtr make_avgpool(LayerArgs&) { return std::make_unique<GlobalAvgPool>(); }
LayerPtr make_concat_pool(LayerArgs&) { return std::make_unique<ConcatPool>(); }
LayerPtr make_flatten(LayerArgs&) { return std::make_unique<Flatten>(); }

}  // namespace gcnn
