// Sequential: layers applied in order, named "0", "1", ... (or given names,
// as torchvision's "downsample.0"/"downsample.1" and ResNet's conv1, bn1, ...).
// A backward hook sees each child as soon as its backward has returned (its
// parameter gradients are final then): data parallelism starts all-reducing
// them while the earlier layers' backward runs.
#pragma once

#include <functional>

#include "layers/layer.h"

namespace gcnn {

class Sequential : public Layer {
 public:
  std::string type() const override { return "sequential"; }
  // Appends a layer named by its index (or name when given); returns it.
  Layer& add(LayerPtr layer, std::string name = "");
  Shape output_shape(const Shape& in) const override;
  Tensor forward(const Tensor& x, bool train) override;
  Tensor backward(const Tensor& dy) override;
  std::vector<std::pair<std::string, Layer*>> children() override;
  std::size_t size() const { return layers_.size(); }
  Layer& at(std::size_t i) { return *layers_.at(i).second; }
  const Layer& at(std::size_t i) const { return *layers_.at(i).second; }
  // Replaces (and destroys) the first count children by layer, named name.
  void replace_front(std::size_t count, LayerPtr layer, std::string name);
  // Destroys the first count children.
  void erase_front(std::size_t count);
  // Calls hook(child) after each child's backward, here and in every nested
  // Sequential child (added before this call); an empty hook removes it.
  void set_backward_hook(const std::function<void(Layer&)>& hook);

 private:
  std::vector<std::pair<std::string, LayerPtr>> layers_;
  std::function<void(Layer&)> backward_hook_;
};

}  // namespace gcnn
