// The table of layers a YAML model can name (built-in and custom), and
// list-model construction.
#include "layers/registry.h"

#include <fmt/format.h>

#include <map>
#include <mutex>

#include "layers/sequential.h"

// One line per built-in layer: X(name, example options, example input shape)
// refers to `LayerPtr make_<name>(LayerArgs&)`.
#define GCNN_REGISTERED_LAYERS(X)                                                          \
  X(conv2d, "{out: 4, kernel: 3, stride: 2, padding: 1, bias: true}", (Shape{2, 3, 5, 6})) \
  X(batchnorm, "{}", (Shape{4, 3, 2, 3}))                                                  \
  X(relu, "{}", (Shape{2, 3, 4, 4}))                                                       \
  X(maxpool, "{kernel: 3, stride: 2, padding: 1}", (Shape{2, 2, 5, 5}))                    \
  X(avgpool, "{}", (Shape{2, 3, 3, 4}))                                                    \
  X(concat_pool, "{}", (Shape{2, 3, 3, 4}))                                                \
  X(flatten, "{}", (Shape{2, 3, 2, 2}))                                                    \
  X(dropout, "{p: 0.5}", (Shape{3, 7}))                                                    \
  X(linear, "{out: 3}", (Shape{4, 5}))                                                     \
  X(basic_block, "{planes: 4, stride: 2}", (Shape{2, 3, 5, 5}))                            \
  X(bottleneck, "{planes: 2, stride: 2}", (Shape{2, 4, 4, 4}))

namespace gcnn {

#define GCNN_DECLARE_FACTORY(name, options, input) LayerPtr make_##name(LayerArgs& args);
GCNN_REGISTERED_LAYERS(GCNN_DECLARE_FACTORY)
#undef GCNN_DECLARE_FACTORY

// Generated from the folders of layers/custom/ (build/generated/custom_layers.cpp).
std::vector<std::pair<std::string, LayerRegistration>> custom_layer_registrations();

namespace {

// Built-in layers, then the custom ones; register_layer adds more at run time.
struct Table {
  Table() {
#define GCNN_TABLE_ENTRY(name, options, input) entries[#name] = {&make_##name, options, input};
    GCNN_REGISTERED_LAYERS(GCNN_TABLE_ENTRY)
#undef GCNN_TABLE_ENTRY
    for (auto& [name, registration] : custom_layer_registrations()) {
      GCNN_CHECK(!entries.count(name), "layers/custom/{}: a built-in layer already has this name", name);
      GCNN_CHECK(registration.factory != nullptr, "layers/custom/{}: register_{}() returned no factory", name, name);
      entries[name] = std::move(registration);
    }
  }
  std::mutex mutex;
  std::map<std::string, LayerRegistration> entries;
};

Table& table() {
  static Table t;
  return t;
}

}  // namespace

std::vector<std::string> registered_layers() {
  Table& t = table();
  std::lock_guard lock(t.mutex);
  std::vector<std::string> names;
  for (const auto& [name, entry] : t.entries) names.push_back(name);
  return names;
}

const LayerRegistration& layer_registration(const std::string& type) {
  Table& t = table();
  {
    std::lock_guard lock(t.mutex);
    auto it = t.entries.find(type);
    if (it != t.entries.end()) return it->second;  // std::map nodes never move
  }
  GCNN_INPUT_FAIL("unknown layer type '{}' (registered: {})", type, fmt::join(registered_layers(), ", "));
}

void register_layer(const std::string& type, LayerRegistration registration) {
  GCNN_CHECK(registration.factory != nullptr, "register_layer({}): no factory", type);
  Table& t = table();
  std::lock_guard lock(t.mutex);
  GCNN_CHECK(t.entries.emplace(type, std::move(registration)).second, "register_layer: '{}' is already registered",
             type);
}

LayerPtr make_layer(const std::string& type, LayerArgs& args) {
  LayerFactory factory = nullptr;
  {
    Table& t = table();
    std::lock_guard lock(t.mutex);
    auto it = t.entries.find(type);
    if (it != t.entries.end()) factory = it->second.factory;
  }
  if (!factory)
    args.options.fail("type", fmt::format("names unknown layer '{}' (registered: {})", type,
                                          fmt::join(registered_layers(), ", ")));
  LayerPtr layer = factory(args);
  args.options.finish();
  return layer;
}

Shape append_layer_list(Sequential& net, std::vector<Options>& items, const Shape& in_shape) {
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
    net.add(std::move(layer));
  }
  return shape;
}

std::unique_ptr<Sequential> make_layer_list(std::vector<Options>& items, const Shape& in_shape) {
  auto net = std::make_unique<Sequential>();
  append_layer_list(*net, items, in_shape);
  return net;
}

}  // namespace gcnn
