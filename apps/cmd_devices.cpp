// gcnn devices: lists the CPU and CUDA devices, or says in one line why no CUDA
// device is used.
#include <fmt/core.h>

#include "apps/command.h"
#include "kernels/build_info.h"
#include "kernels/device.h"

namespace {

int run_devices(const std::string& spec) {
  const gcnn::Device selected = gcnn::parse_device(spec);  // a bad spec fails before any output
  for (const auto& info : gcnn::list_devices()) {
    fmt::print("{:8} {} ({})\n", info.device.str(), info.name, info.detail);
  }
  std::string why = gcnn::cuda_unavailable_reason();
  if (!why.empty()) fmt::print("cuda     unavailable: {}; using the CPU\n", why);
  fmt::print("selected --device {}: {}\n", spec, selected.str());
  return 0;
}

GCNN_COMMAND("devices", "List compute devices and the one --device would select", [](CLI::App& cmd) {
  auto spec = std::make_shared<std::string>();
  gcnn::app::add_device_option(cmd, *spec);
  return [spec] { return run_devices(*spec); };
});

}  // namespace
