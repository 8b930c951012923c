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

// The loss in double: the mean of the element terms, square-rooted for RMSE.
double loss_value(ops::LossKind kind, const Tensor& pred, const Tensor& target, double huber_delta) {
  const std::int64_t m = pred.numel();
  double sum = 0.0;
  for (std::int64_t i = 0; i < m; ++i) {
    const double d = static_cast<double>(pred.data<float>()[i]) - target.data<float>()[i];
    switch (kind) {
      case ops::LossKind::MSE:
      case ops::LossKind::RMSE: sum += d * d; break;
      case ops::LossKind::L1: sum += std::abs(d); break;
      case ops::LossKind::Huber: sum += huber(d, huber_delta); break;
    }
  }
  const double mean = sum / static_cast<double>(m);
  return kind == ops::LossKind::RMSE ? std::sqrt(mean) : mean;
}

}  // namespace

float loss_forward(ops::LossKind kind, const Tensor& pred, const Tensor& target, float huber_delta) {
  return static_cast<float>(loss_value(kind, pred, target, huber_delta));
}

void loss_backward(ops::LossKind kind, const Tensor& pred, const Tensor& target, Tensor& dpred, float huber_delta) {
  const std::int64_t m = pred.numel();
  const double rmse = kind == ops::LossKind::RMSE ? loss_value(kind, pred, target, huber_delta) : 0.0;
  for (std::int64_t i = 0; i < m; ++i) {
    const double d = static_cast<double>(pred.data<float>()[i]) - target.data<float>()[i];
    double g = 0.0;
    switch (kind) {
      case ops::LossKind::MSE: g = 2.0 * d / m; break;
      case ops::LossKind::RMSE: g = rmse > 0.0 ? d / (m * rmse) : 0.0; break;
      case ops::LossKind::L1: g = sign(d) / m; break;
      case ops::LossKind::Huber: g = (std::abs(d) <= huber_delta ? d : huber_delta * sign(d)) / m; break;
    }
    dpred.data<float>()[i] = static_cast<float>(g);
  }
}

}  // namespace gcnn::reference
