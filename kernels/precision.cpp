// Precision names and their resolution for a device (see precision.h).
#include "kernels/precision.h"

#include "kernels/cpu/isa.h"
#include "kernels/cuda/backend.h"
#include "kernels/error.h"

namespace gcnn {

const char* precision_name(Precision precision) {
  switch (precision) {
    case Precision::fp32: return "fp32";
    case Precision::tf32: return "tf32";
    case Precision::bf16: return "bf16";
  }
  return "unknown";
}

void check_precision_spec(std::string_view spec) {
  GCNN_INPUT_CHECK(spec == "auto" || spec == "fp32" || spec == "tf32" || spec == "bf16",
                   "bad precision '{}': expected auto, fp32, tf32 or bf16", spec);
}

Precision resolve_precision(std::string_view spec, Device device) {
  check_precision_spec(spec);
  if (device.is_cuda()) {
    if (spec == "fp32") return Precision::fp32;
    if (spec == "tf32") return Precision::tf32;
    if (spec == "bf16") return Precision::bf16;
    return cuda::device_properties(device.index).major >= 8 ? Precision::tf32 : Precision::fp32;
  }
  if (spec == "auto" || spec == "fp32") return Precision::fp32;
  GCNN_INPUT_CHECK(spec != "tf32",
                   "precision tf32 is a CUDA tensor-core mode; on the CPU use fp32, bf16 or auto (fp32)");
  GCNN_INPUT_CHECK(cpu::onednn_has_bf16(),
                   "precision bf16 on the CPU needs AVX-512 BF16 or AMX, but oneDNN runs on \"{}\"; use fp32",
                   cpu::onednn_isa());
  return Precision::bf16;
}

}  // namespace gcnn
