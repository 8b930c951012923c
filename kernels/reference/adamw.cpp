// Reference AdamW update: torch.optim.AdamW's step one element at a time, in
// double, with the bias corrections computed here from the formula (CPU
// tensors only).
#include "kernels/reference/adamw.h"

#include <cmath>

namespace gcnn::reference {

void adamw_update(std::span<const ops::AdamWTensor> tensors, const ops::AdamWBetas& betas) {
  const double beta1 = betas.beta1, beta2 = betas.beta2, eps = betas.eps;  // all in double
  for (const ops::AdamWTensor& t : tensors) {
    const double lr = t.lr, step = static_cast<double>(t.step);
    const double bias_correction1 = 1.0 - std::pow(beta1, step), bias_correction2 = 1.0 - std::pow(beta2, step);
    for (std::int64_t i = 0; i < t.param->numel(); ++i) {
      float& w = t.param->data<float>()[i];
      float& m = t.exp_avg->data<float>()[i];
      float& v = t.exp_avg_sq->data<float>()[i];
      const double g = t.grad->data<float>()[i];
      const double decayed = w * (1.0 - lr * t.weight_decay);
      const double new_m = beta1 * m + (1.0 - beta1) * g;
      const double new_v = beta2 * v + (1.0 - beta2) * g * g;
      const double denom = std::sqrt(new_v) / std::sqrt(bias_correction2) + eps;
      m = static_cast<float>(new_m);
      v = static_cast<float>(new_v);
      w = static_cast<float>(decayed - lr / bias_correction1 * new_m / denom);
    }
  }
}

}  // namespace gcnn::reference
