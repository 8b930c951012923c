// Winograd F(2x2, 3x3) convolution for the CPU's fused inference body
// (kernels/cpu/fused_resnet.h): 3x3 kernels, stride 1, padding 1, FP32
// activations in oneDNN's nChw8c layout (the AVX2 one). Each 2x2 block of
// outputs ("tile") comes from a 4x4 input patch: the patches are transformed
// (B^T d B) into 16 matrices [tiles, C], 16 GEMMs (dnnl_sgemm) multiply
// them by the weights transformed once (G g G^T, 16 matrices [C, K]), and the
// inverse transform (A^T m A) gives the outputs, with the bias, an optional
// sum onto the destination and a ReLU applied on the way out. That is 16
// products per tile instead of 36: 2.25x fewer FLOPs than the direct
// convolution, which oneDNN 2.6 offers no faster algorithm for on AVX2
// (its Winograd kernels need AVX-512). Each thread takes chunks of tiles in
// turn, so that its transformed patches stay in its cache whatever the batch.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "kernels/tensor.h"

namespace gcnn::cpu {

// A 3x3 convolution's weights transformed for F(2x2, 3x3) and its bias: they
// do not depend on the input's shape, so one copy serves every shape.
struct WinogradWeights {
  // weight [K, C, 3, 3] and bias [K], FP32 on the CPU.
  WinogradWeights(const Tensor& weight, const Tensor& bias);
  std::int64_t k, c;        // output and input channels
  std::vector<float> u;     // [16, C, K] with C and K padded to blocks of 8 (zeros there): G g G^T
  std::vector<float> bias;  // [K] padded to a block of 8 with zeros
};

class WinogradConv3x3 {
 public:
  enum class Epilogue { none, relu, sum_relu };  // sum_relu: dst = relu(conv + bias + dst)

  // True where it runs: the CPU has AVX2 and FMA.
  static bool available();

  // Bytes of transformed patches per chunk by default (benchmarks/bench_winograd.cpp).
  static constexpr std::size_t kChunkBytes = std::size_t{1} << 20;

  // The convolution by weights of n images of h x w pixels; chunks of at most
  // chunk_bytes of transformed patches (at least one tile).
  WinogradConv3x3(std::shared_ptr<const WinogradWeights> weights, std::int64_t n, std::int64_t h, std::int64_t w,
                  Epilogue epilogue, std::size_t chunk_bytes = kChunkBytes);
  ~WinogradConv3x3();
  WinogradConv3x3(const WinogradConv3x3&) = delete;
  WinogradConv3x3& operator=(const WinogradConv3x3&) = delete;

  // Floats of scratch run needs (each thread's transformed patches and products of one chunk).
  std::size_t scratch_floats() const;
  // dst [n, K, h, w] from src [n, C, h, w], both nChw8c with their padding
  // channels (beyond C, beyond K) holding zeros, as oneDNN's blocked layouts do;
  // dst's padding channels stay zero.
  void run(const float* src, float* dst, float* scratch) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace gcnn::cpu
