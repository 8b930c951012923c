// The one place an op picks its implementation by device: every tensor passed
// must live on the same device, and the CPU or CUDA body runs accordingly.
#pragma once

#include <initializer_list>

#include "kernels/error.h"
#include "kernels/tensor.h"

namespace gcnn {

// The device shared by all defined tensors; throws naming op and devices if mixed.
inline Device common_device(const char* op, std::initializer_list<const Tensor*> tensors) {
  const Tensor* first = nullptr;
  for (const Tensor* t : tensors) {
    if (!t || !t->defined()) continue;
    if (!first) {
      first = t;
    } else if (!(t->device() == first->device())) {
      GCNN_FAIL("{}: tensors on different devices: {} and {}", op, first->describe(), t->describe());
    }
  }
  GCNN_CHECK(first != nullptr, "{}: called without any defined tensor", op);
  return first->device();
}

template <class CpuBody, class CudaBody>
void dispatch(const char* op, std::initializer_list<const Tensor*> tensors, CpuBody&& cpu_body,
              CudaBody&& cuda_body) {
  if (common_device(op, tensors).is_cpu()) {
    cpu_body();
  } else {
    cuda_body();
  }
}

}  // namespace gcnn
