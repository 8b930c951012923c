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
// The channel block of that ISA's JIT FP32 convolutions (their nChw16c or
// nChw8c layouts): 16 with AVX-512, 8 with AVX2, 0 below AVX2.
int onednn_conv_channel_block();

}  // namespace gcnn::cpu
