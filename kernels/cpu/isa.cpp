// oneDNN's effective CPU ISA (see isa.h).
#include "kernels/cpu/isa.h"

#include <oneapi/dnnl/dnnl.hpp>

namespace gcnn::cpu {

std::string onednn_isa() {
  switch (dnnl::get_effective_cpu_isa()) {
    case dnnl::cpu_isa::sse41: return "Intel SSE4.1";
    case dnnl::cpu_isa::avx: return "Intel AVX";
    case dnnl::cpu_isa::avx2: return "Intel AVX2";
    case dnnl::cpu_isa::avx2_vnni: return "Intel AVX2 with Intel DL Boost";
    case dnnl::cpu_isa::avx512_mic: return "Intel AVX-512 with AVX512CD, AVX512ER, and AVX512PF extensions";
    case dnnl::cpu_isa::avx512_mic_4ops:
      return "Intel AVX-512 with AVX512_4FMAPS and AVX512_4VNNIW extensions";
    case dnnl::cpu_isa::avx512_core: return "Intel AVX-512 with AVX512BW, AVX512VL, and AVX512DQ extensions";
    case dnnl::cpu_isa::avx512_core_vnni: return "Intel AVX-512 with Intel DL Boost";
    case dnnl::cpu_isa::avx512_core_bf16: return "Intel AVX-512 with Intel DL Boost and bfloat16 support";
    case dnnl::cpu_isa::avx512_core_amx:
      return "Intel AVX-512 with Intel DL Boost and bfloat16 support and Intel AMX with bfloat16 and 8-bit integer "
             "support";
    default: return "no ISA-specific code (generic)";
  }
}

int onednn_conv_channel_block() {
  switch (dnnl::get_effective_cpu_isa()) {
    case dnnl::cpu_isa::avx2:
    case dnnl::cpu_isa::avx2_vnni: return 8;
    case dnnl::cpu_isa::avx512_mic:
    case dnnl::cpu_isa::avx512_mic_4ops:
    case dnnl::cpu_isa::avx512_core:
    case dnnl::cpu_isa::avx512_core_vnni:
    case dnnl::cpu_isa::avx512_core_bf16:
    case dnnl::cpu_isa::avx512_core_amx: return 16;
    default: return 0;
  }
}

bool onednn_has_bf16() {
  const dnnl::cpu_isa isa = dnnl::get_effective_cpu_isa();
  return isa == dnnl::cpu_isa::avx512_core_bf16 || isa == dnnl::cpu_isa::avx512_core_amx;
}

}  // namespace gcnn::cpu
