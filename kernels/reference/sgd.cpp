// Reference SGD update: torch.optim.SGD's step (dampening 0) one element at a
// time, in double (CPU tensors only).
#include "kernels/reference/sgd.h"

namespace gcnn::reference {

void sgd_update(Tensor& param, const Tensor& grad, Tensor& momentum_buf, float lr, float momentum,
                float weight_decay, bool nesterov) {
  for (std::int64_t i = 0; i < param.numel(); ++i) {
    float& w = param.data<float>()[i];
    float& buf = momentum_buf.data<float>()[i];
    double d = static_cast<double>(grad.data<float>()[i]) + static_cast<double>(weight_decay) * w;
    const double new_buf = static_cast<double>(momentum) * buf + d;
    d = nesterov ? d + momentum * new_buf : new_buf;
    buf = static_cast<float>(new_buf);
    w = static_cast<float>(w - static_cast<double>(lr) * d);
  }
}

}  // namespace gcnn::reference
