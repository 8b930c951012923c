// The one oneDNN CPU engine and stream that the CPU backend's primitives
// (convolutions, the fused ResNet body) are built on and run in, and the
// padding arithmetic they share.
#pragma once

#include <oneapi/dnnl/dnnl.hpp>

namespace gcnn::cpu {

dnnl::engine& onednn_engine();
dnnl::stream& onednn_stream();

// The right padding that makes a convolution's or pooling's output size `out`
// exact for input size `in`; negative when the last input rows are never read
// (e.g. a 1x1 stride-2 convolution of an even size).
inline dnnl::memory::dim onednn_right_pad(dnnl::memory::dim in, dnnl::memory::dim out, dnnl::memory::dim kernel,
                                          dnnl::memory::dim stride, dnnl::memory::dim pad) {
  return (out - 1) * stride + kernel - in - pad;
}

}  // namespace gcnn::cpu
