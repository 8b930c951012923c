// Layer base: parameter registration, dotted names, state dicts, device moves.
#include "layers/layer.h"

#include "kernels/error.h"
#include "layers/safetensors.h"

namespace gcnn {

void Layer::set_seed(std::uint64_t seed) {
  std::uint64_t index = 0;
  for (auto& [name, child] : children()) child->set_seed(derive_seed(seed, index++));
}

void Layer::state_loaded() {
  for (auto& [name, child] : children()) child->state_loaded();
}

void Layer::reset_parameters(std::uint64_t seed) {
  std::uint64_t index = 0;
  for (auto& [name, child] : children()) child->reset_parameters(derive_seed(seed, index++));
}

Parameter& Layer::add_parameter(const std::string& name, Tensor value, bool decay) {
  Tensor grad = Tensor::zeros(value.shape(), value.device());
  params_.push_back({name, std::move(value), std::move(grad), decay});
  return params_.back();
}

Buffer& Layer::add_buffer(const std::string& name, Tensor value) {
  buffers_.push_back({name, std::move(value)});
  return buffers_.back();
}

std::vector<NamedParameter> named_parameters(Layer& root, const std::string& prefix) {
  std::vector<NamedParameter> out;
  for (auto& p : root.parameters()) out.push_back({prefix + p.name, &p});
  for (auto& [name, child] : root.children()) {
    auto sub = named_parameters(*child, prefix + name + ".");
    out.insert(out.end(), sub.begin(), sub.end());
  }
  return out;
}

std::vector<NamedBuffer> named_buffers(Layer& root, const std::string& prefix) {
  std::vector<NamedBuffer> out;
  for (auto& b : root.buffers()) out.push_back({prefix + b.name, &b.value});
  for (auto& [name, child] : root.children()) {
    auto sub = named_buffers(*child, prefix + name + ".");
    out.insert(out.end(), sub.begin(), sub.end());
  }
  return out;
}

std::map<std::string, Tensor> state_dict(Layer& root) {
  std::map<std::string, Tensor> out;
  for (auto& p : named_parameters(root)) out[p.name] = p.param->value;
  for (auto& b : named_buffers(root)) out[b.name] = *b.value;
  return out;
}

LoadReport load_state_dict(Layer& root, const std::map<std::string, Tensor>& state, const std::string& source) {
  LoadReport report;
  std::map<std::string, Tensor*> targets;
  for (auto& p : named_parameters(root)) targets[p.name] = &p.param->value;
  for (auto& b : named_buffers(root)) targets[b.name] = b.value;
  // Check every shape and value before copying anything, so a bad file leaves the model untouched.
  require_finite(state, source);
  for (const auto& [name, tensor] : state) {
    auto it = targets.find(name);
    if (it == targets.end()) continue;
    GCNN_INPUT_CHECK(it->second->shape() == tensor.shape(), "{}: tensor '{}' has shape {} but the model expects {}", source,
               name, shape_str(tensor.shape()), shape_str(it->second->shape()));
  }
  for (const auto& [name, tensor] : state) {
    auto it = targets.find(name);
    if (it == targets.end()) {
      report.unexpected.push_back(name);
      continue;
    }
    it->second->copy_from(tensor);
    ++report.loaded;
  }
  for (const auto& [name, target] : targets)
    if (!state.count(name)) report.missing.push_back(name);
  root.state_loaded();
  return report;
}

void move_to(Layer& root, Device device) {
  // Tensors already on the device stay as they are (to() would copy them).
  const auto move = [device](Tensor& t) {
    if (t.device() != device) t = t.to(device);
  };
  for (auto& p : root.parameters()) {
    move(p.value);
    move(p.grad);
  }
  for (auto& b : root.buffers()) move(b.value);
  for (auto& [name, child] : root.children()) move_to(*child, device);
}

void set_precision(Layer& root, Precision precision) {
  root.precision = precision;
  for (auto& [name, child] : root.children()) set_precision(*child, precision);
}

Device layer_device(Layer& root) {
  auto params = named_parameters(root);
  return params.empty() ? Device::cpu() : params.front().param->value.device();
}

std::uint64_t derive_seed(std::uint64_t seed, std::uint64_t index) {
  std::uint64_t z = seed + 0x9E3779B97F4A7C15ULL * (index + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

}  // namespace gcnn
