// Loss names, shape checks and device dispatch for the regression losses. The
// backends sum MSE, L1 and Huber element terms; the mean and RMSE's square
// root (and the chain rule through it) are applied here.
#include "kernels/ops/loss.h"

#include <cmath>
#include <string>

#include "kernels/cpu/loss.h"
#include "kernels/cuda/loss.h"
#include "kernels/dispatch.h"

namespace gcnn::ops {
namespace {

constexpr LossKind kAllLosses[] = {LossKind::MSE, LossKind::RMSE, LossKind::L1, LossKind::Huber};

// Checks the inputs; returns the denominator of the (weighted) mean: N * sum_t w_t.
double check_loss_inputs(const char* op, const Tensor& pred, const Tensor& target, float huber_delta,
                         const Tensor& weights) {
  GCNN_CHECK(pred.ndim() == 2, "{}: pred {} must be [N, T]", op, pred.describe());
  check_same_shape(op, pred, target);
  GCNN_CHECK(pred.numel() > 0, "{}: pred {} is empty; the mean loss is undefined", op, pred.describe());
  GCNN_CHECK(huber_delta > 0.0f, "{}: huber_delta {} must be > 0", op, huber_delta);
  if (!weights.defined()) return static_cast<double>(pred.numel());
  GCNN_CHECK(weights.shape() == (Shape{pred.shape()[1]}), "{}: target weights {} must be [{}], one per target of pred {}",
             op, weights.describe(), pred.shape()[1], pred.describe());
  double sum = 0.0;
  for (float w : weights.to_vector()) {
    GCNN_CHECK(std::isfinite(w) && w >= 0.0f, "{}: target weight {} must be finite and >= 0", op, w);
    sum += w;
  }
  GCNN_CHECK(sum > 0.0, "{}: the target weights are all 0", op);
  return static_cast<double>(pred.shape()[0]) * sum;
}

const float* weights_data(const Tensor& weights) { return weights.defined() ? weights.data<float>() : nullptr; }

// MSE for RMSE; the kind itself otherwise.
LossKind element_kind(LossKind kind) { return kind == LossKind::RMSE ? LossKind::MSE : kind; }

double mean_element_loss(const char* op, LossKind kind, const Tensor& pred, const Tensor& target, float delta,
                         const Tensor& weights, double denominator) {
  double sum = 0.0;
  const float* w = weights_data(weights);
  dispatch(op, {&pred, &target, &weights}, [&] { sum = cpu::loss_sum(element_kind(kind), pred, target, delta, w); },
           [&] { sum = cuda::loss_sum(element_kind(kind), pred, target, delta, w); });
  return sum / denominator;
}

// Shapes of the on-device loss's inputs (weights: shape only, see loss.h).
void check_on_device_inputs(const char* op, const Tensor& pred, const Tensor& target, const Tensor& state,
                            float huber_delta, const Tensor& weights) {
  GCNN_CHECK(pred.ndim() == 2, "{}: pred {} must be [N, T]", op, pred.describe());
  check_same_shape(op, pred, target);
  GCNN_CHECK(pred.numel() > 0, "{}: pred {} is empty; the mean loss is undefined", op, pred.describe());
  GCNN_CHECK(huber_delta > 0.0f, "{}: huber_delta {} must be > 0", op, huber_delta);
  check_shape(op, "state", state, {2});
  if (weights.defined())
    GCNN_CHECK(weights.shape() == (Shape{pred.shape()[1]}),
               "{}: target weights {} must be [{}], one per target of pred {}", op, weights.describe(),
               pred.shape()[1], pred.describe());
}

}  // namespace

const char* loss_name(LossKind kind) {
  switch (kind) {
    case LossKind::MSE: return "mse";
    case LossKind::RMSE: return "rmse";
    case LossKind::L1: return "l1";
    case LossKind::Huber: return "huber";
  }
  return "?";
}

LossKind parse_loss(std::string_view name) {
  std::string choices;
  for (LossKind kind : kAllLosses) {
    if (name == loss_name(kind)) return kind;
    choices += choices.empty() ? "" : ", ";
    choices += loss_name(kind);
  }
  GCNN_FAIL("unknown loss '{}': choose one of {}", name, choices);
}

float loss_forward(LossKind kind, const Tensor& pred, const Tensor& target, float huber_delta,
                   const Tensor& target_weights) {
  const double denominator = check_loss_inputs("loss_forward", pred, target, huber_delta, target_weights);
  const double mean =
      mean_element_loss("loss_forward", kind, pred, target, huber_delta, target_weights, denominator);
  return static_cast<float>(kind == LossKind::RMSE ? std::sqrt(mean) : mean);
}

void loss_backward(LossKind kind, const Tensor& pred, const Tensor& target, Tensor& dpred, float huber_delta,
                   const Tensor& target_weights) {
  const double denominator = check_loss_inputs("loss_backward", pred, target, huber_delta, target_weights);
  check_same_shape("loss_backward", pred, dpred);
  double grad_scale = 1.0 / denominator;
  if (kind == LossKind::RMSE) {
    // d sqrt(m) = dm / (2 sqrt(m)); 0 where the loss is 0 (every d is 0 there).
    const double rmse = std::sqrt(
        mean_element_loss("loss_backward", kind, pred, target, huber_delta, target_weights, denominator));
    grad_scale = rmse > 0.0 ? grad_scale / (2.0 * rmse) : 0.0;
  }
  const float s = static_cast<float>(grad_scale);
  const float* w = weights_data(target_weights);
  dispatch("loss_backward", {&pred, &target, &dpred, &target_weights},
           [&] { cpu::loss_backward(element_kind(kind), pred, target, dpred, huber_delta, s, w); },
           [&] { cuda::loss_backward(element_kind(kind), pred, target, dpred, huber_delta, s, w); });
}


void loss_forward_on_device(LossKind kind, const Tensor& pred, const Tensor& target, Tensor& state, float huber_delta,
                            const Tensor& target_weights) {
  check_on_device_inputs("loss_forward_on_device", pred, target, state, huber_delta, target_weights);
  const float* w = weights_data(target_weights);
  const bool rmse = kind == LossKind::RMSE;
  dispatch("loss_forward_on_device", {&pred, &target, &state, &target_weights},
           [&] { cpu::loss_state(element_kind(kind), rmse, pred, target, huber_delta, w, state); },
           [&] { cuda::loss_state(element_kind(kind), rmse, pred, target, huber_delta, w, state); });
}

void loss_backward_on_device(LossKind kind, const Tensor& pred, const Tensor& target, const Tensor& state,
                             Tensor& dpred, float huber_delta, const Tensor& target_weights) {
  check_on_device_inputs("loss_backward_on_device", pred, target, state, huber_delta, target_weights);
  check_same_shape("loss_backward_on_device", pred, dpred);
  const float* w = weights_data(target_weights);
  dispatch("loss_backward_on_device", {&pred, &target, &state, &dpred, &target_weights},
           [&] { cpu::loss_backward(element_kind(kind), pred, target, dpred, huber_delta, state.data<float>()[1], w); },
           [&] { cuda::loss_backward_scaled(element_kind(kind), pred, target, dpred, huber_delta, state, w); });
}

void accumulate_loss(const Tensor& state, Tensor& running, std::int64_t step) {
  check_shape("accumulate_loss", "state", state, {2});
  check_shape("accumulate_loss", "running", running, {kRunningLossSize});
  dispatch("accumulate_loss", {&state, &running},
           [&] { add_running_loss(state.data<float>()[0], running.data<float>(), step); },
           [&] { cuda::accumulate_loss(state, running, step); });
}

}  // namespace gcnn::ops
