// The table of layers a YAML model can name, and list-model construction.
#include "layers/registry.h"

#include <fmt/format.h>

#include <map>

#include "layers/sequential.h"

// One line per layer: X(name) refers to `LayerPtr make_<name>(LayerArgs&)`.
#define GCNN_REGISTERED_LAYERS(X) \
  X(conv2d)                       \
  X(batchnorm)                    \
  X(relu)                         \
  X(maxpool)                      \
  X(avgpool)                      \
  X(concat_pool)                  \
  X(flatten)                      \
  X(dropout)                      \
  X(linear)                       \
  X(basic_block)                  \
  X(bottleneck)                   \
  X(scaled_tanh)

namespace gcnn {

#define GCNN_DECLARE_FACTORY(name) LayerPtr make_##name(LayerArgs& args);
GCNN_REGISTERED_LAYERS(GCNN_DECLARE_FACTORY)
#undef GCNN_DECLARE_FACTORY

namespace {
const std::map<std::string, LayerFactory>& factories() {
#define GCNN_TABLE_ENTRY(name) {#name, &make_##name},
  static const std::map<std::string, LayerFactory> table{GCNN_REGISTERED_LAYERS(GCNN_TABLE_ENTRY)};
#undef GCNN_TABLE_ENTRY
  return table;
}
}  // namespace

std::vector<std::string> registered_layers() {
  std::vector<std::string> names;
  for (const auto& [name, factory] : factories()) names.push_back(name);
  return names;
}

LayerPtr make_layer(const std::string& type, LayerArgs& args) {
  auto it = factories().find(type);
  if (it == factories().end())
    args.options.fail("type", fmt::format("names unknown layer '{}' (registered: {})", type,
                                          fmt::join(registered_layers(), ", ")));
  LayerPtr layer = it->second(args);
  args.options.finish();
  return layer;
}

std::unique_ptr<Sequential> make_layer_list(std::vector<Options>& items, const Shape& in_shape) {
  auto net = std::make_unique<Sequential>();
  Shape shape = in_shape;
  for (Options& item : items) {
    const std::string type = item.require<std::string>("type");
    LayerArgs args{item, shape};
    LayerPtr layer = make_layer(type, args);
    try {
      shape = layer->output_shape(shape);
    } catch (const Error& e) {
      item.fail("type", fmt::format("layer '{}' cannot take input {}: {}", type, shape_str(shape), e.what()));
    }
    net->add(std::move(layer));
  }
  return net;
}

}  // namespace gcnn
