// What the CPU backend's oneDNN runs on: the instruction set it dispatches to
// (reported beside CPU measurements) and whether that set has native bf16
// arithmetic (AVX-512 BF16 or AMX), which precision: bf16 requires.
#pragma once

#include <string>

namespace gcnn::cpu {

// oneDNN's effective ISA in its documentation's words, e.g. "Intel AVX-512 with
// Intel DL Boost and bfloat16 support". DNNL_MAX_CPU_ISA lowers it.
std::string onednn_isa();
// True when that ISA has bf16 dot-product instructions (AVX-512 BF16, AMX).
bool onednn_has_bf16();
// FP32 lanes of that ISA's vector registers: 16 (AVX-512), 8 (AVX, AVX2), 4 (SSE4.1), 1 (generic).
int onednn_vector_floats();

}  // namespace gcnn::cpu
