// The optimizer interface's shared parts: groups and state buffers.
#include "optim/optimizer.h"

#include <algorithm>

#include "kernels/error.h"

namespace gcnn::optim {

Optimizer::Optimizer(std::vector<ParamGroup> groups) : groups_(std::move(groups)) {}

ParamGroup& Optimizer::group(const std::string& name) {
  for (auto& g : groups_)
    if (g.name == name) return g;
  GCNN_FAIL("{}: no parameter group named '{}'", kind(), name);
}

std::map<std::string, Tensor> Optimizer::zero_buffers() const {
  std::map<std::string, Tensor> buffers;
  for (const auto& g : groups_) {
    for (const auto& p : g.params) {
      GCNN_CHECK(!buffers.count(p.name), "{}: parameter '{}' appears in two groups", kind(), p.name);
      buffers[p.name] = Tensor::zeros(p.param->value.shape(), p.param->value.device());
    }
  }
  return buffers;
}

void Optimizer::load_buffers(std::map<std::string, Tensor>& buffers, const std::string& prefix,
                             const std::map<std::string, Tensor>& state, const std::string& source) {
  for (auto& [name, buf] : buffers) {
    auto it = state.find(prefix + "." + name);
    GCNN_INPUT_CHECK(it != state.end(), "{}: no {} buffer for parameter '{}'", source, prefix, name);
    GCNN_INPUT_CHECK(it->second.shape() == buf.shape(), "{}: {} buffer '{}' has shape {}, expected {}", source, prefix,
                     name, shape_str(it->second.shape()), shape_str(buf.shape()));
    buf.copy_from(it->second);
  }
}

void Optimizer::reject_unexpected(const std::map<std::string, Tensor>& state, const std::vector<std::string>& prefixes,
                                  const std::string& source) const {
  for (const auto& entry : state) {
    const std::string& name = entry.first;
    const bool known = std::any_of(prefixes.begin(), prefixes.end(),
                                   [&](const std::string& p) { return name.starts_with(p + "."); });
    GCNN_INPUT_CHECK(known, "{}: unexpected tensor '{}' ({} state holds {} buffers)", source, name, kind(),
                     fmt::format("{}", fmt::join(prefixes, ", ")));
  }
}

}  // namespace gcnn::optim
