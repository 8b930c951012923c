// The CPU backend's oneDNN engine and stream, created on first use.
#include "kernels/cpu/onednn.h"

namespace gcnn::cpu {

dnnl::engine& onednn_engine() {
  static dnnl::engine e(dnnl::engine::kind::cpu, 0);
  return e;
}

dnnl::stream& onednn_stream() {
  static dnnl::stream s(onednn_engine());
  return s;
}

}  // namespace gcnn::cpu
