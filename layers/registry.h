// Layer registry: maps the names used in YAML model descriptions to factory
// functions. Adding a layer = one file defining `LayerPtr make_<name>(LayerArgs&)`
// plus one line in the GCNN_REGISTERED_LAYERS list of registry.cpp.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "layers/layer.h"
#include "layers/options.h"
#include "layers/sequential.h"

namespace gcnn {

// The most weights one layer of a config may have (1 GiB of f32): larger
// sizes are refused when the layer is built, before anything is allocated.
inline constexpr std::int64_t kMaxLayerWeights = std::int64_t{1} << 28;

struct LayerArgs {
  Options options;  // the layer's YAML map (factories must read every key they accept)
  Shape in_shape;   // input shape with a batch dimension, e.g. [1, 3, 64, 64]
};

using LayerFactory = LayerPtr (*)(LayerArgs& args);

// Builds the named layer; throws naming the YAML location for unknown names
// and (after the factory ran) unknown option keys.
LayerPtr make_layer(const std::string& type, LayerArgs& args);
std::vector<std::string> registered_layers();

// Builds a Sequential from a YAML list of {type: name, ...options} maps,
// inferring each layer's input channels from the previous one.
std::unique_ptr<Sequential> make_layer_list(std::vector<Options>& items, const Shape& in_shape);

}  // namespace gcnn
