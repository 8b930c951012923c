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

void check_loss_inputs(const char* op, const Tensor& pred, const Tensor& target, float huber_delta) {
  GCNN_CHECK(pred.ndim() == 2, "{}: pred {} must be [N, T]", op, pred.describe());
  check_same_shape(op, pred, target);
  GCNN_CHECK(pred.numel() > 0, "{}: pred {} is empty; the mean loss is undefined", op, pred.describe());
  GCNN_CHECK(huber_delta > 0.0f, "{}: huber_delta {} must be > 0", op, huber_delta);
}

// MSE for RMSE; the kind itself otherwise.
LossKind element_kind(LossKind kind) { return kind == LossKind::RMSE ? LossKind::MSE : kind; }

double mean_element_loss(const char* op, LossKind kind, const Tensor& pred, const Tensor& target, float delta) {
  double sum = 0.0;
  dispatch(op, {&pred, &target}, [&] { sum = cpu::loss_sum(element_kind(kind), pred, target, delta); },
           [&] { sum = cuda::loss_sum(element_kind(kind), pred, target, delta); });
  return sum / static_cast<double>(pred.numel());
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

float loss_forward(LossKind kind, const Tensor& pred, const Tensor& target, float huber_delta) {
  check_loss_inputs("loss_forward", pred, target, huber_delta);
  const double mean = mean_element_loss("loss_forward", kind, pred, target, huber_delta);
  return static_cast<float>(kind == LossKind::RMSE ? std::sqrt(mean) : mean);
}

void loss_backward(LossKind kind, const Tensor& pred, const Tensor& target, Tensor& dpred, float huber_delta) {
  check_loss_inputs("loss_backward", pred, target, huber_delta);
  check_same_shape("loss_backward", pred, dpred);
  double grad_scale = 1.0 / static_cast<double>(pred.numel());
  if (kind == LossKind::RMSE) {
    // d sqrt(m) = dm / (2 sqrt(m)); 0 where the loss is 0 (every d is 0 there).
    const double rmse = std::sqrt(mean_element_loss("loss_backward", kind, pred, target, huber_delta));
    grad_scale = rmse > 0.0 ? grad_scale / (2.0 * rmse) : 0.0;
  }
  const float s = static_cast<float>(grad_scale);
  dispatch("loss_backward", {&pred, &target, &dpred},
           [&] { cpu::loss_backward(element_kind(kind), pred, target, dpred, huber_delta, s); },
           [&] { cuda::loss_backward(element_kind(kind), pred, target, dpred, huber_delta, s); });
}

}  // namespace gcnn::ops
