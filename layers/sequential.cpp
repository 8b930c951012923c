// Sequential container.
#include "layers/sequential.h"

#include "kernels/error.h"

namespace gcnn {

Layer& Sequential::add(LayerPtr layer, std::string name) {
  if (name.empty()) name = std::to_string(layers_.size());
  layers_.emplace_back(std::move(name), std::move(layer));
  return *layers_.back().second;
}

void Sequential::replace_front(std::size_t count, LayerPtr layer, std::string name) {
  erase_front(count);
  layers_.emplace(layers_.begin(), std::move(name), std::move(layer));
}

void Sequential::erase_front(std::size_t count) {
  GCNN_CHECK(count <= layers_.size(), "sequential: cannot remove {} of its {} children", count, layers_.size());
  layers_.erase(layers_.begin(), layers_.begin() + static_cast<std::ptrdiff_t>(count));
}

Shape Sequential::output_shape(const Shape& in) const {
  Shape s = in;
  for (const auto& [name, layer] : layers_) s = layer->output_shape(s);
  return s;
}

Tensor Sequential::forward(const Tensor& x, bool train) {
  Tensor h = x;
  for (auto& [name, layer] : layers_) h = layer->forward(h, train);
  return h;
}

Tensor Sequential::backward(const Tensor& dy) {
  Tensor g = dy;
  for (auto it = layers_.rbegin(); it != layers_.rend(); ++it) {
    if (it + 1 == layers_.rend()) it->second->needs_input_grad = needs_input_grad;
    g = it->second->backward(g);
    if (backward_hook_) backward_hook_(*it->second);
  }
  return g;
}

void Sequential::set_backward_hook(const std::function<void(Layer&)>& hook) {
  backward_hook_ = hook;
  for (auto& [name, layer] : layers_)
    if (auto* nested = dynamic_cast<Sequential*>(layer.get())) nested->set_backward_hook(hook);
}

std::vector<std::pair<std::string, Layer*>> Sequential::children() {
  std::vector<std::pair<std::string, Layer*>> out;
  for (auto& [name, layer] : layers_) out.emplace_back(name, layer.get());
  return out;
}

}  // namespace gcnn
