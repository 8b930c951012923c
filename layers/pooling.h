// Pooling layers: MaxPool2d (the ResNet stem's 3x3 stride-2), global average
// pooling ([N, C, H, W] -> [N, C]), fastai's concat pool ([N, 2C]: max then
// average) and Flatten ([N, ...] -> [N, rest]).
#pragma once

#include "kernels/ops/pooling.h"
#include "layers/layer.h"

namespace gcnn {

class MaxPool2d : public Layer {
 public:
  explicit MaxPool2d(const ops::Pool2dParams& p) : params_(p) {}
  std::string type() const override { return "maxpool"; }
  Shape output_shape(const Shape& in) const override { return ops::pool2d_output_shape(in, params_); }
  Tensor forward(const Tensor& x, bool train) override;
  Tensor backward(const Tensor& dy) override;
  const ops::Pool2dParams& params() const { return params_; }

 private:
  ops::Pool2dParams params_;
  Tensor x_;
};

class GlobalAvgPool : public Layer {
 public:
  std::string type() const override { return "avgpool"; }
  Shape output_shape(const Shape& in) const override { return {in.at(0), in.at(1)}; }
  Tensor forward(const Tensor& x, bool train) override;
  Tensor backward(const Tensor& dy) override;

 private:
  Shape in_shape_;
  Device device_;
};

class ConcatPool : public Layer {
 public:
  std::string type() const override { return "concat_pool"; }
  Shape output_shape(const Shape& in) const override { return {in.at(0), 2 * in.at(1)}; }
  Tensor forward(const Tensor& x, bool train) override;
  Tensor backward(const Tensor& dy) override;

 private:
  Tensor x_;
};

class Flatten : public Layer {
 public:
  std::string type() const override { return "flatten"; }
  Shape output_shape(const Shape& in) const override { return {in.at(0), shape_numel(in) / in.at(0)}; }
  Tensor forward(const Tensor& x, bool) override {
    in_shape_ = x.shape();
    return x.reshape({x.dim(0), -1});
  }
  Tensor backward(const Tensor& dy) override { return dy.reshape(in_shape_); }

 private:
  Shape in_shape_;
};

}  // namespace gcnn
