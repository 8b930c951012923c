// Precision policy: the arithmetic an op's convolutions and GEMMs use. fp32 is
// strict FP32 (FMA units, the accuracy the agreement tests demand); tf32 lets
// CUDA tensor cores round FP32 inputs to TF32's 10-bit mantissa; bf16 rounds
// the inputs of convolutions and GEMMs to bfloat16 and accumulates in FP32,
// with outputs, gradients, master weights, optimizer state, batch-norm
// statistics and losses staying FP32. Resolved once per run from the
// experiment key `precision`; layers carry it to the ops (Conv2dParams,
// linear_*), which pass it to the device implementation.
#pragma once

#include <cstdint>
#include <string_view>

#include "kernels/device.h"

namespace gcnn {

enum class Precision : std::uint8_t { fp32, tf32, bf16 };

const char* precision_name(Precision precision);  // "fp32", "tf32", "bf16"

// Throws an input error unless spec is auto, fp32, tf32 or bf16 (what a
// config accepts before the device is known).
void check_precision_spec(std::string_view spec);

// The precision spec means on device: auto is tf32 on CUDA devices of compute
// capability 8.0 or newer (as PyTorch runs cuDNN convolutions) and fp32
// otherwise. Throws an input error for tf32 on the CPU (no TF32 arithmetic
// there) and for bf16 on a CPU whose oneDNN ISA has neither AVX-512 BF16 nor
// AMX, naming the ISA.
Precision resolve_precision(std::string_view spec, Device device);

}  // namespace gcnn
