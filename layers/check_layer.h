// Layer checker: for any registered layer (built-in or custom), compares its
// backward with float64 central finite differences of its forward (input
// gradient and every parameter gradient), checks the output shape rule, runs
// the layer on the CPU and the CUDA backend and compares them, and times
// forward/backward. Behind `gcnn check-layer` and the engine's tests.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kernels/device.h"
#include "kernels/tensor.h"

namespace gcnn {

struct LayerCheckRequest {
  std::string type;
  std::string options = "";  // a YAML map; "" takes the registration's example options
  Shape input;               // empty takes the registration's example input
  Device device = Device::cpu();  // where the finite differences and timing run
  std::uint64_t seed = 1;         // parameters, input, loss weights and dropout masks
  // Bound on the finite-difference relative error on top of each tensor's
  // float32 rounding estimate (see check_layer.cpp for the step and the bound).
  double gradient_tolerance = 1e-2;
  double device_tolerance = 1e-4;  // CPU vs CUDA relative error
  int timing_repeats = 5;
};

struct TensorCheck {
  std::string check;   // "output shape", "finite differences", "cpu vs cuda"
  std::string tensor;  // "output", "input.grad", "weight.grad", ...
  double error = 0;    // relative error (0 for the shape check)
  double tolerance = 0;
  bool passed = false;
  std::string detail;  // e.g. the two shapes of a failed shape check
};

struct LayerCheckReport {
  std::string type;
  std::string options;
  Shape input, output;
  Device device;
  std::vector<TensorCheck> checks;
  std::string device_comparison_skipped;  // why no CPU vs CUDA comparison ran ("" when it ran)
  double forward_ms = 0, backward_ms = 0;  // mean over timing_repeats, on request.device

  bool passed() const;
  // "check of tensor: error e > tolerance t" for each failed check.
  std::vector<std::string> failures() const;
};

// Runs every check; throws InputError for an unknown type, options the layer
// rejects, an input shape it cannot take or an unusable device.
LayerCheckReport check_layer(const LayerCheckRequest& request);

// The report as a table, ending with PASS or FAIL naming each failed tensor.
std::string format_layer_check(const LayerCheckReport& report);

}  // namespace gcnn
