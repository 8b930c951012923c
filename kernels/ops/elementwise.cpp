// Shape checks and device dispatch for elementwise arithmetic.
#include "kernels/ops/elementwise.h"

#include "kernels/cpu/elementwise.h"
#include "kernels/cuda/elementwise.h"
#include "kernels/dispatch.h"

namespace gcnn::ops {

void add(const Tensor& a, const Tensor& b, Tensor& y) {
  check_same_shape("add", a, b);
  check_same_shape("add", a, y);
  dispatch("add", {&a, &b, &y}, [&] { cpu::add(a, b, y); }, [&] { cuda::add(a, b, y); });
}

void add_relu(const Tensor& a, const Tensor& b, Tensor& y) {
  check_same_shape("add_relu", a, b);
  check_same_shape("add_relu", a, y);
  dispatch("add_relu", {&a, &b, &y}, [&] { cpu::add_relu(a, b, y); }, [&] { cuda::add_relu(a, b, y); });
}

void accumulate(Tensor& dst, const Tensor& src) {
  check_same_shape("accumulate", dst, src);
  dispatch("accumulate", {&dst, &src}, [&] { cpu::accumulate(dst, src); }, [&] { cuda::accumulate(dst, src); });
}

void scale(const Tensor& x, float alpha, Tensor& y) {
  check_same_shape("scale", x, y);
  dispatch("scale", {&x, &y}, [&] { cpu::scale(x, alpha, y); }, [&] { cuda::scale(x, alpha, y); });
}

}  // namespace gcnn::ops
