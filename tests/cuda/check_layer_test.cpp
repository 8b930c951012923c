// The layer checker with the emulated CUDA device: every registered layer
// (built-in and custom, with its own kernels) agrees between the CPU and the
// CUDA backend on outputs, gradients and buffers, and the custom layers with
// their own kernels also pass finite differences run on the CUDA backend
// (for the others that would repeat the agreement at many times the cost).
#include <gtest/gtest.h>

#include <algorithm>

#include "kernels/cuda/emulation/control.h"
#include "layers/check_layer.h"
#include "layers/registry.h"

namespace gcnn {
namespace {

TEST(CheckLayerOnCuda, EveryRegisteredLayerMatchesTheCpu) {
  for (const auto& type : registered_layers()) {
    LayerCheckRequest request;
    request.type = type;
    request.timing_repeats = 1;
    const auto launches = emu::launch_count();
    const LayerCheckReport report = check_layer(request);
    EXPECT_TRUE(report.passed()) << format_layer_check(report);
    EXPECT_EQ(report.device_comparison_skipped, "") << type;
    const auto compared = std::count_if(report.checks.begin(), report.checks.end(),
                                        [](const TensorCheck& c) { return c.check == "cpu vs cuda"; });
    EXPECT_GE(compared, 3) << type << ": output, input.grad and the eval output at least";
    if (type == "relu" || type == "se_block" || type == "dihedral_pool") {
      EXPECT_GT(emu::launch_count(), launches) << type << ": no emulated kernel ran";
    }
  }
}

TEST(CheckLayerOnCuda, CustomLayersPassFiniteDifferencesOnTheCudaBackend) {
  for (const char* type : {"se_block", "dihedral_pool"}) {
    LayerCheckRequest request;
    request.type = type;
    request.device = Device::cuda(0);
    request.timing_repeats = 1;
    const LayerCheckReport report = check_layer(request);
    EXPECT_TRUE(report.passed()) << format_layer_check(report);
  }
}

}  // namespace
}  // namespace gcnn
