// Dropout layer: zeroes each element with probability p in training (scaling
// the rest by 1/(1-p)), identity in evaluation. The mask comes from the seed
// set by set_seed, so a step can be replayed exactly (resume).
#pragma once

#include "layers/layer.h"

namespace gcnn {

class Dropout : public Layer {
 public:
  explicit Dropout(float p);
  std::string type() const override { return "dropout"; }
  Shape output_shape(const Shape& in) const override { return in; }
  Tensor forward(const Tensor& x, bool train) override;
  Tensor backward(const Tensor& dy) override;
  void set_seed(std::uint64_t seed) override { seed_ = seed; }

 private:
  float p_;
  std::uint64_t seed_ = 0;
  Tensor mask_;
};

}  // namespace gcnn
