// Squeeze-and-excitation layer: the squeeze and the two FC layers reuse the
// engine's ops and layers; the gate (sigmoid and channel scale) and its
// gradients are this folder's own kernels, dispatched here by device.
#include "layers/custom/se_block/se_block.h"

#include <algorithm>

#include "kernels/dispatch.h"
#include "kernels/ops/pooling.h"
#include "layers/custom/se_block/se_block_kernels.h"
#include "layers/registry.h"

namespace gcnn {

namespace se_block {
namespace {
// x [N, C, H, W] and z [N, C] of the same N and C.
void check_gate_shapes(const char* op, const Tensor& x, const Tensor& z) {
  GCNN_CHECK(x.ndim() == 4 && z.ndim() == 2 && z.dim(0) == x.dim(0) && z.dim(1) == x.dim(1),
             "{}: gate {} does not fit input {}", op, z.describe(), x.describe());
}
}  // namespace

void scale_forward(const Tensor& x, const Tensor& z, Tensor& y) {
  check_gate_shapes("se_block scale_forward", x, z);
  check_same_shape("se_block scale_forward", x, y);
  if (x.numel() == 0) return;
  dispatch("se_block scale_forward", {&x, &z, &y}, [&] { cpu::scale_forward(x, z, y); },
           [&] { cuda::scale_forward(x, z, y); });
}

void gate_grad(const Tensor& x, const Tensor& z, const Tensor& dy, Tensor& dz) {
  check_gate_shapes("se_block gate_grad", x, z);
  check_same_shape("se_block gate_grad", x, dy);
  check_same_shape("se_block gate_grad", z, dz);
  if (x.numel() == 0) return;
  dispatch("se_block gate_grad", {&x, &z, &dy, &dz}, [&] { cpu::gate_grad(x, z, dy, dz); },
           [&] { cuda::gate_grad(x, z, dy, dz); });
}

void input_grad(const Tensor& dy, const Tensor& z, const Tensor& dpooled, Tensor& dx) {
  check_gate_shapes("se_block input_grad", dy, z);
  check_same_shape("se_block input_grad", z, dpooled);
  check_same_shape("se_block input_grad", dy, dx);
  if (dy.numel() == 0) return;
  dispatch("se_block input_grad", {&dy, &z, &dpooled, &dx}, [&] { cpu::input_grad(dy, z, dpooled, dx); },
           [&] { cuda::input_grad(dy, z, dpooled, dx); });
}
}  // namespace se_block

SqueezeExcitation::SqueezeExcitation(int channels, int ratio)
    : channels_(channels), fc1_(channels, std::max(1, channels / std::max(1, ratio))),
      fc2_(std::max(1, channels / std::max(1, ratio)), channels) {
  GCNN_CHECK(channels > 0 && ratio > 0, "se_block: channels {} and ratio {} must be > 0", channels, ratio);
}

Shape SqueezeExcitation::output_shape(const Shape& in) const {
  GCNN_CHECK(in.size() == 4 && in[1] == channels_, "se_block: input {} must be [N, {}, H, W]", shape_str(in),
             channels_);
  return in;
}

Tensor SqueezeExcitation::forward(const Tensor& x, bool train) {
  output_shape(x.shape());
  Tensor pooled = Tensor::empty({x.dim(0), x.dim(1)}, x.device());
  ops::global_avgpool_forward(x, pooled);
  Tensor z = fc2_.forward(relu_.forward(fc1_.forward(pooled, train), train), train);
  Tensor y = Tensor::empty(x.shape(), x.device());
  se_block::scale_forward(x, z, y);
  x_ = train ? x : Tensor();
  z_ = train ? z : Tensor();
  return y;
}

Tensor SqueezeExcitation::backward(const Tensor& dy) {
  GCNN_CHECK(x_.defined(), "se_block: backward without a training forward");
  Tensor dz = Tensor::empty(z_.shape(), dy.device());
  se_block::gate_grad(x_, z_, dy, dz);
  fc1_.needs_input_grad = needs_input_grad;
  Tensor dpooled = fc1_.backward(relu_.backward(fc2_.backward(dz)));
  Tensor dx;
  if (needs_input_grad) {
    dx = Tensor::empty(dy.shape(), dy.device());
    se_block::input_grad(dy, z_, dpooled, dx);
  }
  x_ = Tensor();
  z_ = Tensor();
  return dx;
}

namespace {
LayerPtr make_se_block(LayerArgs& args) {
  const int ratio = args.options.get<int>("ratio", 16);
  if (ratio <= 0) args.options.fail("ratio", "must be > 0");
  if (args.in_shape.size() != 4) args.options.fail("ratio", "se_block needs an [N, C, H, W] input, got " + shape_str(args.in_shape));
  return std::make_unique<SqueezeExcitation>(static_cast<int>(args.in_shape[1]), ratio);
}
}  // namespace

LayerRegistration register_se_block() { return {&make_se_block, "{ratio: 2}", {2, 4, 5, 3}}; }

}  // namespace gcnn
