// Reference regression losses from their definitions, in double (CPU tensors
// only); independent of the element terms the backends share.
#include "kernels/reference/loss.h"

#include <cmath>

namespace gcnn::reference {
namespace {

double huber(double d, double delta) {
  return std::abs(d) <= delta ? 0.5 * d * d : delta * (std::abs(d) - 0.5 * delta);
}
double sign(double d) { return d > 0.0 ? 1.0 : (d < 0.0 ? -1.0 : 0.0); }

// Weight of element (n, t): w[t], or 1 without weights.
double weight_of(const Tensor& weights, std::int64_t t) {
  return weights.defined() ? static_cast<double>(weights.data<float>()[t]) : 1.0;
}

// N * sum_t w_t: the denominator of the weighted mean (N * T without weights).
double weight_total(const Tensor& pred, const Tensor& weights) {
  double sum = 0.0;
  for (std::int64_t t = 0; t < pred.shape()[1]; ++t) sum += weight_of(weights, t);
  return static_cast<double>(pred.shape()[0]) * sum;
}

// The loss in double: the weighted mean of the element terms, square-rooted for RMSE.
double loss_value(ops::LossKind kind, const Tensor& pred, const Tensor& target, double huber_delta,
                  const Tensor& weights) {
  const std::int64_t n = pred.shape()[0], columns = pred.shape()[1];
  double sum = 0.0;
  for (std::int64_t row = 0; row < n; ++row) {
    for (std::int64_t t = 0; t < columns; ++t) {
      const std::int64_t i = row * columns + t;
      const double d = static_cast<double>(pred.data<float>()[i]) - target.data<float>()[i];
      double term = 0.0;
      switch (kind) {
        case ops::LossKind::MSE:
        case ops::LossKind::RMSE: term = d * d; break;
        case ops::LossKind::L1: term = std::abs(d); break;
        case ops::LossKind::Huber: term = huber(d, huber_delta); break;
      }
      sum += weight_of(weights, t) * term;
    }
  }
  const double mean = sum / weight_total(pred, weights);
  return kind == ops::LossKind::RMSE ? std::sqrt(mean) : mean;
}

}  // namespace

float loss_forward(ops::LossKind kind, const Tensor& pred, const Tensor& target, float huber_delta,
                   const Tensor& target_weights) {
  return static_cast<float>(loss_value(kind, pred, target, huber_delta, target_weights));
}

void loss_backward(ops::LossKind kind, const Tensor& pred, const Tensor& target, Tensor& dpred, float huber_delta,
                   const Tensor& target_weights) {
  const std::int64_t columns = pred.shape()[1];
  const double m = weight_total(pred, target_weights);
  const double rmse =
      kind == ops::LossKind::RMSE ? loss_value(kind, pred, target, huber_delta, target_weights) : 0.0;
  for (std::int64_t i = 0; i < pred.numel(); ++i) {
    const double d = static_cast<double>(pred.data<float>()[i]) - target.data<float>()[i];
    double g = 0.0;
    switch (kind) {
      case ops::LossKind::MSE: g = 2.0 * d / m; break;
      case ops::LossKind::RMSE: g = rmse > 0.0 ? d / (m * rmse) : 0.0; break;
      case ops::LossKind::L1: g = sign(d) / m; break;
      case ops::LossKind::Huber: g = (std::abs(d) <= huber_delta ? d : huber_delta * sign(d)) / m; break;
    }
    dpred.data<float>()[i] = static_cast<float>(weight_of(target_weights, i % columns) * g);
  }
}

}  // namespace gcnn::reference
