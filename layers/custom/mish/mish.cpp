// Mish activation (Misra 2019), y = x * tanh(softplus(x)): a smooth,
// non-monotonic ReLU alternative. Added by following docs/custom-layers.md:
// the layer, its CPU loop and dispatch here, its CUDA kernels in mish.cu.
//   YAML: - {type: mish}
#include "kernels/dispatch.h"
#include "layers/custom/mish/mish_kernels.h"
#include "layers/registry.h"

namespace gcnn {
namespace {

class Mish : public Layer {
 public:
  std::string type() const override { return "mish"; }
  Shape output_shape(const Shape& in) const override { return in; }

  Tensor forward(const Tensor& x, bool train) override {
    Tensor y = Tensor::empty(x.shape(), x.device());
    if (x.numel() > 0)
      dispatch("mish forward", {&x, &y}, [&] { cpu_forward(x, y); }, [&] { mish::cuda::forward(x, y); });
    x_ = train ? x : Tensor();
    return y;
  }

  Tensor backward(const Tensor& dy) override {
    GCNN_CHECK(x_.defined(), "mish: backward without a training forward");
    check_same_shape("mish backward", x_, dy);
    Tensor dx = Tensor::empty(dy.shape(), dy.device());
    if (dy.numel() > 0)
      dispatch("mish backward", {&x_, &dy, &dx}, [&] { cpu_backward(x_, dy, dx); },
               [&] { mish::cuda::backward(x_, dy, dx); });
    x_ = Tensor();
    return dx;
  }

 private:
  // y = mish(x) elementwise on the CPU.
  static void cpu_forward(const Tensor& x, Tensor& y) {
    const float* xp = x.data<float>();
    float* yp = y.data<float>();
#pragma omp parallel for schedule(static)
    for (std::int64_t i = 0; i < x.numel(); ++i) yp[i] = mish::value(xp[i]);
  }
  // dx = dy * mish'(x) elementwise on the CPU.
  static void cpu_backward(const Tensor& x, const Tensor& dy, Tensor& dx) {
    const float* xp = x.data<float>();
    const float* dyp = dy.data<float>();
    float* dxp = dx.data<float>();
#pragma omp parallel for schedule(static)
    for (std::int64_t i = 0; i < x.numel(); ++i) dxp[i] = dyp[i] * mish::derivative(xp[i]);
  }

  Tensor x_;
};

LayerPtr make_mish(LayerArgs&) { return std::make_unique<Mish>(); }

}  // namespace

LayerRegistration register_mish() { return {&make_mish, "{}", {2, 3, 4, 5}}; }

}  // namespace gcnn
