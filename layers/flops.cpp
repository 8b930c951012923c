// FLOP count of a layer tree (see flops.h).
#include "layers/flops.h"

#include "kernels/error.h"

namespace gcnn {
namespace {

double numel(const Shape& s) { return static_cast<double>(shape_numel(s)); }

// Counts layer for input `in` and returns its output shape.
Shape visit(Layer& layer, const Shape& in, bool needs_dx, NetworkFlops& acc) {
  auto children = layer.children();
  if (children.empty()) {
    const Shape out = layer.output_shape(in);
    const std::string type = layer.type();
    double products = 0;  // multiply-adds of the forward
    if (type == "conv2d") {
      // Every output element sums C R S products: the weight's elements per output channel.
      const Shape& w = layer.parameters().at(0).value.shape();
      products = numel(out) * numel(w) / static_cast<double>(w.at(0));
    } else if (type == "linear") {
      const Shape& w = layer.parameters().at(0).value.shape();
      products = numel(out) * static_cast<double>(w.at(1));
    } else if (!layer.parameters().empty() && type != "batchnorm") {
      acc.uncounted.push_back(type);
    }
    acc.forward += 2 * products;
    acc.backward_weights += 2 * products;
    if (needs_dx) acc.backward_data += 2 * products;
    return out;
  }
  Shape h = in;
  bool first = true;
  for (auto& [name, child] : children) {
    if (name == "downsample") {
      visit(*child, in, needs_dx, acc);
      continue;
    }
    h = visit(*child, h, first ? needs_dx : true, acc);
    first = false;
  }
  GCNN_CHECK(h == layer.output_shape(in), "count_flops: {} children give shape {} but the layer outputs {}",
             layer.type(), shape_str(h), shape_str(layer.output_shape(in)));
  return h;
}

}  // namespace

NetworkFlops count_flops(Layer& net, const Shape& input) {
  NetworkFlops acc;
  visit(net, input, net.needs_input_grad, acc);
  return acc;
}

}  // namespace gcnn
