// Layer registry: maps the names used in YAML model descriptions to factory
// functions, each with an example (options and input shape) that `gcnn
// check-layer` and the engine's tests check the layer on. Built-in layers are
// one line each in registry.cpp; a custom layer is a folder
// layers/custom/<name>/ whose code defines `LayerRegistration register_<name>()`
// and is listed by the build with no edit (see docs/custom-layers.md).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
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

struct LayerRegistration {
  LayerFactory factory = nullptr;
  std::string example_options = "{}";  // a YAML map the factory accepts, e.g. "{out: 4}"
  Shape example_input;                 // an input shape it takes, e.g. {2, 3, 6, 6}
};

// Builds the named layer; throws naming the YAML location for unknown names
// and (after the factory ran) unknown option keys.
LayerPtr make_layer(const std::string& type, LayerArgs& args);
std::vector<std::string> registered_layers();
// The registration of type; throws listing the registered names when unknown.
const LayerRegistration& layer_registration(const std::string& type);
// Adds a layer at run time (tests, programs embedding the engine); throws
// when the name is taken.
void register_layer(const std::string& type, LayerRegistration registration);

// Builds a Sequential from a YAML list of {type: name, ...options} maps,
// inferring each layer's input channels from the previous one.
std::unique_ptr<Sequential> make_layer_list(std::vector<Options>& items, const Shape& in_shape);
// The same, appending to net (a container layer's body); returns the output shape.
Shape append_layer_list(Sequential& net, std::vector<Options>& items, const Shape& in_shape);

}  // namespace gcnn
