// The smallest custom layer, kept host-only on purpose: this folder and its one
// file are all it takes (the build registers the folder by its name).
// y = scale * tanh(x / scale) (a soft clamp to (-scale, scale)); no parameters.
// It copies tensors to the host and back, so it runs on any device but is
// simple rather than fast; layers/custom/se_block/ shows a layer with its own
// CPU code and CUDA kernels (docs/custom-layers.md walks through both).
//   YAML: - {type: scaled_tanh, scale: 3.0}
#include <cmath>

#include "layers/registry.h"

namespace gcnn {
namespace {

class ScaledTanh : public Layer {
 public:
  explicit ScaledTanh(float scale) : scale_(scale) {}
  std::string type() const override { return "scaled_tanh"; }
  Shape output_shape(const Shape& in) const override { return in; }

  Tensor forward(const Tensor& x, bool train) override {
    std::vector<float> v = x.to_vector();
    for (float& e : v) e = scale_ * std::tanh(e / scale_);
    Tensor y = Tensor::from_vector(x.shape(), v, x.device());
    y_ = train ? y : Tensor();
    return y;
  }

  // dy/dx = 1 - tanh^2 = 1 - (y / scale)^2
  Tensor backward(const Tensor& dy) override {
    GCNN_CHECK(y_.defined(), "scaled_tanh: backward without a training forward");
    std::vector<float> g = dy.to_vector();
    const std::vector<float> y = y_.to_vector();
    for (std::size_t i = 0; i < g.size(); ++i) {
      const float t = y[i] / scale_;
      g[i] *= 1.0f - t * t;
    }
    y_ = Tensor();
    return Tensor::from_vector(dy.shape(), g, dy.device());
  }

 private:
  float scale_;
  Tensor y_;
};

LayerPtr make_scaled_tanh(LayerArgs& args) {
  const float scale = args.options.get<float>("scale", 1.0f);
  if (!(scale > 0.0f)) args.options.fail("scale", "must be > 0");
  return std::make_unique<ScaledTanh>(scale);
}

}  // namespace

LayerRegistration register_scaled_tanh() { return {&make_scaled_tanh, "{scale: 2.0}", {2, 3, 4, 4}}; }

}  // namespace gcnn
