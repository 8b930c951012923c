// Layer checker: float64 central finite differences of a float32 layer, the
// output shape rule, CPU vs CUDA agreement and forward/backward timing.
#include "layers/check_layer.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <limits>
#include <numeric>
#include <random>

#include "kernels/cuda/backend.h"
#include "kernels/error.h"
#include "layers/registry.h"

namespace gcnn {
namespace {

// Finite-difference steps. The input's values are spread out (see
// separated_input) so that a step of at most a quarter of their spacing moves
// no value across a ReLU kink or past a max-pool rival; parameters take 1e-3 of
// their RMS (at least 1e-3). Smaller steps drown the difference in float32
// rounding, larger ones add O(step^2) truncation and cross kinks inside
// composite layers.
constexpr double kRelativeStep = 1e-3;
// float32 rounding of the forward: each loss evaluation sum_i y_i r_i is taken
// to carry kRoundingUlps units of 2^-24 times sqrt(sum_i (y_i r_i)^2) (errors
// of independent outputs add in quadrature; 16 ulps leaves room for the
// accumulation inside convolutions and normalisations). A central difference
// subtracts two evaluations and divides by twice the step, which gives each
// tensor's noise floor; its tolerance is the requested bound plus that floor
// relative to the tensor's gradient norm, so a tensor with a tiny gradient is
// not failed for rounding while a wrong backward (a missing term, a factor or
// sign error) stays far above the bound.
constexpr double kRoundingUlps = 16.0;
constexpr double kFloat32Epsilon = 5.960464477539063e-08;  // 2^-24

LayerPtr build_layer(const std::string& type, const std::string& options, const Shape& input, std::uint64_t seed,
                     Device device) {
  YAML::Node node;
  try {
    node = YAML::Load(options);
  } catch (const YAML::Exception& e) {
    GCNN_INPUT_FAIL("check-layer {}: options '{}' are not a YAML map: {}", type, options, e.what());
  }
  LayerArgs args{Options(node, "check-layer " + type + " options"), input};
  LayerPtr layer = make_layer(type, args);
  layer->reset_parameters(seed);
  layer->needs_input_grad = true;
  if (!device.is_cpu()) move_to(*layer, device);
  return layer;
}

// A random permutation of (k + 1/2) * 2/n - 1, k < n: distinct values in
// (-1, 1), 2/n apart and at least 1/n away from 0.
Tensor separated_input(const Shape& shape, std::uint64_t seed) {
  const auto n = static_cast<std::size_t>(shape_numel(shape));
  std::vector<float> v(n);
  for (std::size_t k = 0; k < n; ++k) v[k] = static_cast<float>((static_cast<double>(k) + 0.5) * 2.0 / n - 1.0);
  std::mt19937_64 rng(seed);
  std::shuffle(v.begin(), v.end(), rng);
  return Tensor::from_vector(shape, v);
}

Tensor uniform_tensor(const Shape& shape, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> v(static_cast<std::size_t>(shape_numel(shape)));
  for (float& e : v) e = u(rng);
  return Tensor::from_vector(shape, v);
}

double norm(const std::vector<double>& v) {
  double s = 0;
  for (double e : v) s += e * e;
  return std::sqrt(s);
}

// ||a - b|| / max(||b||, floor) (||a|| when both are zero); infinity for a
// non-finite or missized a.
double relative_error(const std::vector<double>& a, const std::vector<double>& b, double floor = 0.0) {
  if (a.size() != b.size()) return std::numeric_limits<double>::infinity();
  double diff = 0, ref = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (!std::isfinite(a[i])) return std::numeric_limits<double>::infinity();
    diff += (a[i] - b[i]) * (a[i] - b[i]);
    ref += b[i] * b[i];
  }
  const double scale = std::max(std::sqrt(ref), floor);
  return scale > 0 ? std::sqrt(diff) / scale : std::sqrt(diff);
}

std::vector<double> as_double(const Tensor& t) {
  const std::vector<float> v = t.to_vector();
  return {v.begin(), v.end()};
}

// sum_i y_i r_i in float64 over a training forward with the fixed seed (the
// same dropout mask every time), and sqrt(sum_i (y_i r_i)^2) for the noise floor.
struct Loss {
  Layer& layer;
  const Tensor& x;
  std::vector<double> r;
  std::uint64_t seed;
  double spread = 0;

  double operator()() {
    layer.set_seed(seed);
    const std::vector<double> y = as_double(layer.forward(x, true));
    double sum = 0, squares = 0;
    for (std::size_t i = 0; i < y.size(); ++i) {
      sum += y[i] * r[i];
      squares += (y[i] * r[i]) * (y[i] * r[i]);
    }
    spread = std::sqrt(squares);
    return sum;
  }
};

// Central differences of loss with respect to every element of t (any device),
// each divided by the step actually taken in float32.
std::vector<double> finite_differences(Loss& loss, Tensor& t, double step) {
  std::vector<float> v = t.to_vector();
  std::vector<double> g(v.size());
  auto set = [&](std::size_t i, float value) {
    v[i] = value;
    if (t.device().is_cpu()) t.data<float>()[i] = value;
    else t.copy_from(Tensor::from_vector(t.shape(), v));
  };
  for (std::size_t i = 0; i < v.size(); ++i) {
    const float saved = v[i];
    const float up = static_cast<float>(saved + step), down = static_cast<float>(saved - step);
    set(i, up);
    const double plus = loss();
    set(i, down);
    const double minus = loss();
    set(i, saved);
    g[i] = (plus - minus) / (static_cast<double>(up) - static_cast<double>(down));
  }
  return g;
}

// Compares analytic with the central differences at `step`; when that fails,
// once more at step / 8 and keeps the better result: a kink inside a composite
// layer (a ReLU after a convolution) within reach of the larger step spoils
// that step only, while a wrong backward fails at every step.
void add_gradient_check(LayerCheckReport& report, const std::string& tensor, const std::vector<double>& analytic,
                        Loss& loss, Tensor& value, double step, double tolerance) {
  TensorCheck best{"finite differences", tensor, 0, 0, false, ""};
  for (const double h : {step, step / 8}) {
    const std::vector<double> numeric = finite_differences(loss, value, h);
    const double entry_noise = std::sqrt(2.0) * kRoundingUlps * kFloat32Epsilon * loss.spread / (2.0 * h);
    const double noise = entry_noise * std::sqrt(static_cast<double>(numeric.size()));
    const double numeric_norm = norm(numeric);
    TensorCheck c{"finite differences", tensor, relative_error(analytic, numeric), 0, false, ""};
    c.tolerance = tolerance + (numeric_norm > 0 ? noise / numeric_norm : 0.0);
    // A zero gradient is judged in absolute terms against the noise floor.
    if (numeric_norm == 0) c.tolerance = std::max(noise, tolerance * 1e-6);
    c.passed = c.error <= c.tolerance;
    if (h == step || c.error / c.tolerance < best.error / best.tolerance) best = c;
    if (best.passed) break;
  }
  report.checks.push_back(best);
}

void check_gradients(const LayerCheckRequest& request, const std::string& options, LayerCheckReport& report) {
  LayerPtr layer = build_layer(request.type, options, request.input, request.seed, request.device);
  Tensor x = separated_input(request.input, derive_seed(request.seed, 1)).to(request.device);
  Tensor r = uniform_tensor(report.output, derive_seed(request.seed, 2)).to(request.device);
  Loss loss{*layer, x, as_double(r), request.seed};

  layer->set_seed(request.seed);
  Tensor y = layer->forward(x, true);
  TensorCheck shape{"output shape", "output", 0, 0, false, ""};
  shape.passed = y.shape() == report.output;
  if (!shape.passed)
    shape.detail = fmt::format("forward gave {}, output_shape says {}", shape_str(y.shape()), shape_str(report.output));
  report.checks.push_back(shape);
  if (!shape.passed) return;

  Tensor dx = layer->backward(r);
  auto params = named_parameters(*layer);
  std::vector<std::vector<double>> param_grads;
  for (auto& p : params) param_grads.push_back(as_double(p.param->grad));
  loss();  // sets loss.spread at the unperturbed point

  const double input_step = std::min(kRelativeStep, 0.25 * 2.0 / static_cast<double>(x.numel()));
  if (!dx.defined()) {
    report.checks.push_back({"finite differences", "input.grad", 0, 0, false, "backward returned no input gradient"});
  } else {
    add_gradient_check(report, "input.grad", as_double(dx), loss, x, input_step, request.gradient_tolerance);
  }
  for (std::size_t k = 0; k < params.size(); ++k) {
    Tensor& value = params[k].param->value;
    const std::vector<double> v = as_double(value);
    const double rms = v.empty() ? 0.0 : norm(v) / std::sqrt(static_cast<double>(v.size()));
    const double step = kRelativeStep * std::max(1.0, rms);
    add_gradient_check(report, params[k].name + ".grad", param_grads[k], loss, value, step, request.gradient_tolerance);
  }
}

// ||cuda - cpu|| / max(||cpu||, 1e-3 sqrt(numel)): the inputs and loss weights
// are O(1), so a tensor whose entries are ~1e-3 or less (e.g. the gradient of
// a convolution bias that a batch norm cancels, zero up to rounding) is
// compared in absolute terms instead of relative ones.
void add_device_check(LayerCheckReport& report, const std::string& tensor, const Tensor& cuda, const Tensor& cpu,
                      double tolerance) {
  TensorCheck c{"cpu vs cuda", tensor, 0, 0, false, ""};
  c.tolerance = tolerance;
  if (!cuda.defined() || !cpu.defined()) {
    c.passed = cuda.defined() == cpu.defined();
    if (!c.passed) c.detail = "defined on one device only";
  } else {
    const std::vector<double> a = as_double(cuda), b = as_double(cpu);
    c.error = relative_error(a, b, 1e-3 * std::sqrt(static_cast<double>(b.size())));
    c.passed = c.error <= tolerance;
  }
  report.checks.push_back(c);
}

// The same layer (same parameters) on the CPU and a CUDA device: a training
// forward, a backward, the buffers it updated and an evaluation forward.
void compare_devices(const LayerCheckRequest& request, const std::string& options, LayerCheckReport& report) {
  report.device_comparison_skipped = cuda_unavailable_reason();
  if (!report.device_comparison_skipped.empty()) return;
  const Device cuda = request.device.is_cuda() ? request.device : Device::cuda(0);
  LayerPtr on_cpu = build_layer(request.type, options, request.input, request.seed, Device::cpu());
  LayerPtr on_cuda = build_layer(request.type, options, request.input, request.seed, cuda);
  load_state_dict(*on_cuda, state_dict(*on_cpu), "the CPU copy of the layer");
  Tensor x = separated_input(request.input, derive_seed(request.seed, 1));
  Tensor r = uniform_tensor(report.output, derive_seed(request.seed, 2));
  Tensor xd = x.to(cuda), rd = r.to(cuda);
  on_cpu->set_seed(request.seed);
  on_cuda->set_seed(request.seed);
  add_device_check(report, "output", on_cuda->forward(xd, true), on_cpu->forward(x, true), request.device_tolerance);
  add_device_check(report, "input.grad", on_cuda->backward(rd), on_cpu->backward(r), request.device_tolerance);
  auto cpu_params = named_parameters(*on_cpu), cuda_params = named_parameters(*on_cuda);
  for (std::size_t k = 0; k < cpu_params.size(); ++k)
    add_device_check(report, cpu_params[k].name + ".grad", cuda_params[k].param->grad, cpu_params[k].param->grad,
                     request.device_tolerance);
  auto cpu_buffers = named_buffers(*on_cpu), cuda_buffers = named_buffers(*on_cuda);
  for (std::size_t k = 0; k < cpu_buffers.size(); ++k)
    add_device_check(report, cpu_buffers[k].name, *cuda_buffers[k].value, *cpu_buffers[k].value,
                     request.device_tolerance);
  add_device_check(report, "output (eval)", on_cuda->forward(xd, false), on_cpu->forward(x, false),
                   request.device_tolerance);
}

void time_layer(const LayerCheckRequest& request, const std::string& options, LayerCheckReport& report) {
  LayerPtr layer = build_layer(request.type, options, request.input, request.seed, request.device);
  Tensor x = separated_input(request.input, derive_seed(request.seed, 1)).to(request.device);
  Tensor r = uniform_tensor(report.output, derive_seed(request.seed, 2)).to(request.device);
  auto sync = [&] {
    if (request.device.is_cuda()) cuda::synchronize(request.device.index);
  };
  using clock = std::chrono::steady_clock;
  double forward = 0, backward = 0;
  const int repeats = std::max(1, request.timing_repeats);
  for (int i = 0; i <= repeats; ++i) {  // the first round warms up
    const auto t0 = clock::now();
    layer->forward(x, true);
    sync();
    const auto t1 = clock::now();
    layer->backward(r);
    sync();
    const auto t2 = clock::now();
    if (i == 0) continue;
    forward += std::chrono::duration<double, std::milli>(t1 - t0).count();
    backward += std::chrono::duration<double, std::milli>(t2 - t1).count();
  }
  report.forward_ms = forward / repeats;
  report.backward_ms = backward / repeats;
}

}  // namespace

bool LayerCheckReport::passed() const {
  return std::all_of(checks.begin(), checks.end(), [](const TensorCheck& c) { return c.passed; });
}

std::vector<std::string> LayerCheckReport::failures() const {
  std::vector<std::string> out;
  for (const auto& c : checks) {
    if (c.passed) continue;
    out.push_back(c.detail.empty()
                      ? fmt::format("{} of {}: error {:.2e} > tolerance {:.2e}", c.check, c.tensor, c.error, c.tolerance)
                      : fmt::format("{} of {}: {}", c.check, c.tensor, c.detail));
  }
  return out;
}

LayerCheckReport check_layer(const LayerCheckRequest& request) {
  const LayerRegistration& registration = layer_registration(request.type);
  LayerCheckRequest r = request;
  if (r.options.empty()) r.options = registration.example_options;
  if (r.input.empty()) r.input = registration.example_input;
  GCNN_INPUT_CHECK(!r.input.empty(), "check-layer {}: give --input (the layer registers no example input)", r.type);
  for (auto d : r.input) GCNN_INPUT_CHECK(d > 0, "check-layer {}: --input {} must be positive sizes", r.type, shape_str(r.input));
  GCNN_INPUT_CHECK(shape_numel(r.input) <= 20000, "check-layer {}: --input {} has {} values; finite differences "
                   "need a small input (at most 20000 values)", r.type, shape_str(r.input), shape_numel(r.input));
  if (r.device.is_cuda()) {
    const std::string why = cuda_unavailable_reason();
    GCNN_INPUT_CHECK(why.empty(), "check-layer --device {}: {}", r.device.str(), why);
  }

  LayerCheckReport report;
  report.type = r.type;
  report.options = r.options;
  report.input = r.input;
  report.device = r.device;
  {
    LayerPtr probe = build_layer(r.type, r.options, r.input, r.seed, Device::cpu());
    try {
      report.output = probe->output_shape(r.input);
    } catch (const Error& e) {
      GCNN_INPUT_FAIL("check-layer {}: cannot take input {}: {}", r.type, shape_str(r.input), e.what());
    }
  }
  check_gradients(r, r.options, report);
  if (!report.checks.front().passed) return report;  // the output shape rule: nothing else can be compared
  compare_devices(r, r.options, report);
  time_layer(r, r.options, report);
  return report;
}

std::string format_layer_check(const LayerCheckReport& report) {
  const std::string device =
      report.device.str() + (report.device.is_cuda() && !cuda::compiled_with_nvcc() ? " (emulated)" : "");
  std::string out = fmt::format("check-layer {} {} input {} -> output {}, finite differences on {}\n", report.type,
                                report.options, shape_str(report.input), shape_str(report.output), device);
  out += fmt::format("  {:<20} {:<34} {:>10} {:>10}  {}\n", "check", "tensor", "rel. error", "tolerance", "result");
  for (const auto& c : report.checks) {
    const bool numeric = c.check != "output shape" && c.detail.empty();
    out += fmt::format("  {:<20} {:<34} {:>10} {:>10}  {}{}\n", c.check, c.tensor,
                       numeric ? fmt::format("{:.2e}", c.error) : "-",
                       numeric ? fmt::format("{:.2e}", c.tolerance) : "-", c.passed ? "pass" : "FAIL",
                       c.detail.empty() ? "" : " (" + c.detail + ")");
  }
  if (!report.device_comparison_skipped.empty())
    out += fmt::format("  cpu vs cuda: skipped ({})\n", report.device_comparison_skipped);
  out += fmt::format("  timing on {}: forward {:.3f} ms, backward {:.3f} ms\n", device, report.forward_ms,
                     report.backward_ms);
  const auto failed = report.failures();
  if (failed.empty()) return out + "PASS\n";
  for (const auto& f : failed) out += "FAIL: " + f + "\n";
  return out;
}

}  // namespace gcnn
