// A ResNet body (stem, max pool, residual blocks) run for inference on the CPU
// with every activation kept in the layout oneDNN's convolutions choose
// (blocked, e.g. nChw16c), so that only the input and the last block's output
// are reordered, instead of every convolution's input and output. The caller
// folds each batch norm into the convolution before it (FoldedConv); the ReLUs
// and the residual sums run as the convolutions' post-ops. The weights are
// reordered once per input shape, when its plan is built. In precision bf16
// the activations and weights between input and output are bf16 (FP32
// accumulation inside the convolutions, FP32 biases): half the bytes moved,
// and the CPU's bf16 (AMX) kernels.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "kernels/cpu/winograd.h"
#include "kernels/ops/pooling.h"
#include "kernels/precision.h"
#include "kernels/tensor.h"

namespace gcnn::cpu {

// y = conv(x, weight) + bias: a convolution with its batch norm folded in.
struct FoldedConv {
  Tensor weight;  // [K, C, R, S]; freed once winograd holds it
  Tensor bias;    // [K]
  int stride = 1, pad = 0;
  std::shared_ptr<const WinogradWeights> winograd;  // set by FusedResNet where Winograd runs
};

// out = relu(convs(x) + shortcut(x)): each conv but the last through a ReLU;
// the shortcut is the projection when there is one, else x itself.
struct FusedBlock {
  std::vector<FoldedConv> convs;
  std::optional<FoldedConv> projection;
};

// maxpool(relu(stem(x))), then the blocks in turn.
struct FusedResNetBody {
  FoldedConv stem;
  ops::Pool2dParams pool;
  std::vector<FusedBlock> blocks;
};

// The algorithm of the 3x3 stride-1 convolutions: oneDNN's direct ones, or
// Winograd F(2x2, 3x3) (kernels/cpu/winograd.h) where that runs (FP32 in
// AVX2's nChw8c layout; direct elsewhere).
enum class Conv3x3Algorithm { direct, winograd };

class FusedResNet {
 public:
  // precision: fp32 or bf16.
  FusedResNet(FusedResNetBody body, Precision precision, Conv3x3Algorithm conv3x3 = Conv3x3Algorithm::winograd);
  ~FusedResNet();
  FusedResNet(const FusedResNet&) = delete;
  FusedResNet& operator=(const FusedResNet&) = delete;

  // The last block's output [N, K, OH, OW] (NCHW) for x [N, C, H, W] (NCHW,
  // FP32, on the CPU); the first call at each input shape builds its plan.
  Tensor forward(const Tensor& x);
  // forward's output shape for an input of shape in.
  Shape output_shape(const Shape& in) const;
  // Whether the 3x3 stride-1 convolutions run as Winograd F(2x2, 3x3) here.
  bool uses_winograd() const;

 private:
  class Plan;
  FusedResNetBody body_;
  Precision precision_;
  Conv3x3Algorithm conv3x3_;
  std::map<Shape, std::unique_ptr<Plan>> plans_;
};

}  // namespace gcnn::cpu
