// Dihedral-invariant pooling: runs a body (layers ending in a pooled [N, F]
// output) on the 8 dihedral transforms of each square input image (rotations
// by 90 degrees and reflections) as one batch of 8N, averages the 8 pooled
// feature vectors of each image, and applies the remaining layers (the head)
// to the average. Galaxies have no preferred orientation: the model is
// invariant by construction, at 8x the body's compute.
// It is a Sequential whose first body_size() children form the body, so a
// ResNet keeps torchvision's parameter names (conv1.weight, layer1.0..., fc.*).
//   YAML: - {type: dihedral_pool, body: [{type: conv2d, out: 16}, {type: relu}, {type: avgpool}]}
//   ResNet / plain CNN: model.dihedral_pool: true
// Batch norm in training mode takes its statistics over all 8N images, a set
// closed under the group, so training outputs are invariant too.
#pragma once

#include "layers/sequential.h"

namespace gcnn {

class DihedralPool : public Sequential {
 public:
  std::string type() const override { return "dihedral_pool"; }
  // The first `layers` children are the body; the rest run on the average.
  void set_body_size(std::size_t layers) { body_size_ = layers; }
  std::size_t body_size() const { return body_size_; }
  Shape output_shape(const Shape& in) const override;
  Tensor forward(const Tensor& x, bool train) override;
  Tensor backward(const Tensor& dy) override;

 private:
  std::size_t body_size_ = 0;
  Shape in_shape_;
};

}  // namespace gcnn
