// gcnn check-layer: checks a registered layer's backward against finite
// differences, its output shape rule, CPU vs CUDA agreement (on the emulated
// device when built without nvcc) and its timing; exits 1 when a check fails,
// so a researcher can put it in CI. --all checks every registered layer on its
// registered example.
#include <fmt/core.h>
#include <yaml-cpp/yaml.h>

#include "apps/command.h"
#include "kernels/cuda/backend.h"
#include "kernels/error.h"
#include "layers/check_layer.h"
#include "layers/registry.h"

namespace {

struct CheckLayerArgs {
  std::string type;
  std::vector<std::string> options;  // key=value
  std::string input;                 // N,C,H,W
  std::string device = "cpu";
  std::string precision = "fp32";
  double tolerance = 1e-2;
  std::uint64_t seed = 1;
  int repeats = 5;
  bool all = false;
};

// "k=v" pairs as a YAML flow map; each value is read as YAML (3 -> int, true -> bool).
std::string options_yaml(const std::vector<std::string>& pairs) {
  YAML::Node map(YAML::NodeType::Map);
  for (const auto& pair : pairs) {
    const auto eq = pair.find('=');
    GCNN_INPUT_CHECK(eq != std::string::npos && eq > 0, "--options '{}': expected key=value", pair);
    try {
      map[pair.substr(0, eq)] = YAML::Load(pair.substr(eq + 1));
    } catch (const YAML::Exception& e) {
      GCNN_INPUT_FAIL("--options '{}': the value is not YAML: {}", pair, e.what());
    }
  }
  YAML::Emitter out;
  out << YAML::Flow << map;
  return out.c_str();
}

gcnn::Shape parse_input(const std::string& text) {
  gcnn::Shape shape;
  std::size_t start = 0;
  while (start <= text.size()) {
    const auto comma = std::min(text.find(',', start), text.size());
    const std::string part = text.substr(start, comma - start);
    std::size_t used = 0;
    long long value = 0;
    try {
      value = std::stoll(part, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    GCNN_INPUT_CHECK(used == part.size() && !part.empty() && value > 0,
                     "--input '{}': expected positive sizes separated by commas, e.g. 2,3,6,6", text);
    shape.push_back(value);
    start = comma + 1;
  }
  return shape;
}

int run_check_layer(const CheckLayerArgs& args) {
  GCNN_INPUT_CHECK(args.precision == "fp32", "--precision {}: only fp32 is supported (the layers compute in float32)",
                   args.precision);
  GCNN_INPUT_CHECK(args.tolerance > 0 && args.tolerance < 1, "--tolerance {}: must be in (0, 1)", args.tolerance);
  GCNN_INPUT_CHECK(args.repeats >= 1 && args.repeats <= 10000, "--repeats {}: must be in [1, 10000]", args.repeats);
  GCNN_INPUT_CHECK(args.all != !args.type.empty(), "give a layer TYPE or --all (registered: {})",
                   fmt::join(gcnn::registered_layers(), ", "));
  GCNN_INPUT_CHECK(!args.all || (args.options.empty() && args.input.empty()),
                   "--all checks each layer on its registered example: drop --options and --input");
  // Without nvcc the CUDA backend is the emulated one: make its device visible.
  if (!gcnn::cuda::compiled_with_nvcc()) gcnn::cuda::expose_emulated_device();
  gcnn::LayerCheckRequest request;
  request.device = gcnn::parse_device(args.device);
  request.gradient_tolerance = args.tolerance;
  request.seed = args.seed;
  request.timing_repeats = args.repeats;
  if (!args.options.empty()) request.options = options_yaml(args.options);
  if (!args.input.empty()) request.input = parse_input(args.input);
  std::vector<std::string> types = args.all ? gcnn::registered_layers() : std::vector<std::string>{args.type};
  std::vector<std::string> failed;
  for (const auto& type : types) {
    request.type = type;
    const gcnn::LayerCheckReport report = gcnn::check_layer(request);
    fmt::print("{}\n", gcnn::format_layer_check(report));
    if (!report.passed()) failed.push_back(type);
  }
  if (types.size() > 1)
    fmt::print("{} of {} layers passed{}{}\n", types.size() - failed.size(), types.size(), failed.empty() ? "" : "; failed: ",
               fmt::join(failed, ", "));
  return failed.empty() ? 0 : 1;
}

GCNN_COMMAND("check-layer", "Check a layer's gradients, shapes, CPU vs CUDA agreement and timing", [](CLI::App& cmd) {
  auto args = std::make_shared<CheckLayerArgs>();
  cmd.add_option("type", args->type, "Registered layer type (e.g. se_block)");
  cmd.add_option("--options", args->options, "Layer options as key=value (YAML values), e.g. --options ratio=4")
      ->expected(1, -1);
  cmd.add_option("--input", args->input, "Input shape N,C,H,W or N,F (default: the layer's registered example)");
  cmd.add_option("--device", args->device, "Where finite differences and timing run: cpu, cuda or cuda:N")
      ->capture_default_str();
  cmd.add_option("--precision", args->precision, "Compute precision (fp32)")->capture_default_str();
  cmd.add_option("--tolerance", args->tolerance, "Finite-difference relative error bound per tensor")
      ->capture_default_str();
  cmd.add_option("--seed", args->seed, "Seed of the parameters, input and loss weights")->capture_default_str();
  cmd.add_option("--repeats", args->repeats, "Timed forward/backward rounds")->capture_default_str();
  cmd.add_flag("--all", args->all, "Check every registered layer on its example");
  return [args] { return run_check_layer(*args); };
});

}  // namespace
