// Layer: the unit of a model. Each layer owns its parameters (with their
// gradients), its buffers (BN running statistics) and whatever its backward
// needs from the forward; backward(dy) overwrites the parameter gradients and
// returns dx. Containers expose named children, which gives every tensor a
// dotted name following torchvision's state_dict ("layer1.0.conv1.weight").
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "kernels/precision.h"
#include "kernels/tensor.h"

namespace gcnn {

struct Parameter {
  std::string name;  // local name: "weight", "bias"
  Tensor value;
  Tensor grad;       // same shape, written by backward
  bool decay = true; // weight decay applies (false for BN parameters and biases)
  bool norm = false; // belongs to a normalisation layer (kept trainable in a frozen body)
  // In a frozen group: layers that can skip its gradient do (convolutions: no
  // backward-filter), leaving grad as it was; the optimizer does not read it.
  bool frozen = false;
};

struct Buffer {
  std::string name;  // local name: "running_mean", ...
  Tensor value;
};

class Layer {
 public:
  virtual ~Layer() = default;
  Layer() = default;
  Layer(const Layer&) = delete;
  Layer& operator=(const Layer&) = delete;

  // Registered type name ("conv2d", "basic_block", ...).
  virtual std::string type() const = 0;
  // Output shape (with the batch dimension) for an input of shape in.
  virtual Shape output_shape(const Shape& in) const = 0;
  // train selects batch statistics (BN) and active dropout.
  virtual Tensor forward(const Tensor& x, bool train) = 0;
  // Gradient of the loss w.r.t. the last forward's input, given dy w.r.t. its
  // output; overwrites the parameter gradients. Follows a forward(x, true).
  // Returns an undefined tensor when needs_input_grad is false.
  virtual Tensor backward(const Tensor& dy) = 0;
  // Named sub-layers, in order.
  virtual std::vector<std::pair<std::string, Layer*>> children() { return {}; }
  // Seeds random layers (dropout) for the next forward; containers pass a
  // seed derived from it and the child's index to each child.
  virtual void set_seed(std::uint64_t seed);

  // Called by load_state_dict after it copied tensors in, for layers that
  // mirror a buffer on the host (BN's num_batches_tracked); containers recurse.
  virtual void state_loaded();

  // Re-draws the parameters (e.g. Kaiming-normal convolutions) and resets the
  // buffers from seed; containers pass derived seeds to their children.
  virtual void reset_parameters(std::uint64_t seed);

  // deques, so references stay valid as parameters are added.
  std::deque<Parameter>& parameters() { return params_; }
  std::deque<Buffer>& buffers() { return buffers_; }

  // False for the first layer of a network: its backward may skip dx.
  bool needs_input_grad = true;
  // Arithmetic of this layer's convolutions and GEMMs (kernels/precision.h),
  // set for a whole model by set_precision; other layers compute in FP32.
  Precision precision = Precision::fp32;

 protected:
  Parameter& add_parameter(const std::string& name, Tensor value, bool decay);
  Buffer& add_buffer(const std::string& name, Tensor value);

 private:
  std::deque<Parameter> params_;
  std::deque<Buffer> buffers_;
};

using LayerPtr = std::unique_ptr<Layer>;

struct NamedParameter {
  std::string name;  // dotted, e.g. "layer1.0.bn1.weight"
  Parameter* param;
};
struct NamedBuffer {
  std::string name;
  Tensor* value;
};

// All parameters / buffers of root and its descendants, with dotted names.
std::vector<NamedParameter> named_parameters(Layer& root, const std::string& prefix = "");
std::vector<NamedBuffer> named_buffers(Layer& root, const std::string& prefix = "");
// Parameters and buffers together, as in a torchvision state_dict.
std::map<std::string, Tensor> state_dict(Layer& root);

struct LoadReport {
  std::vector<std::string> missing;     // in the model, not in the file
  std::vector<std::string> unexpected;  // in the file, not in the model
  std::size_t loaded = 0;
};
// Copies every tensor of state whose name the model has; a shape mismatch
// throws naming the tensor and both shapes. source names the file.
LoadReport load_state_dict(Layer& root, const std::map<std::string, Tensor>& state, const std::string& source);

// Moves parameters, gradients and buffers to device.
void move_to(Layer& root, Device device);
// Sets the precision of root and all its descendants.
void set_precision(Layer& root, Precision precision);
// The device of the first parameter (CPU when there is none).
Device layer_device(Layer& root);
// Mixes a seed and an index into a new seed (splitmix64).
std::uint64_t derive_seed(std::uint64_t seed, std::uint64_t index);

}  // namespace gcnn
