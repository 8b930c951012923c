// The one oneDNN CPU engine and stream that the CPU backend's primitives
// (convolutions, the fused ResNet body) are built on and run in.
#pragma once

#include <oneapi/dnnl/dnnl.hpp>

namespace gcnn::cpu {

dnnl::engine& onednn_engine();
dnnl::stream& onednn_stream();

}  // namespace gcnn::cpu
