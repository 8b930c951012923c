// Device-generic checks of the layer ops (batch norm and its fused ReLU
// variants, pooling, elementwise with the fused add + ReLU, dropout, losses,
// SGD) against the reference ops: the CPU tests, the emulated
// CUDA tests and the real-GPU tests run the same cases on their device. Each
// runs its family on awkward shapes (batch 1, 1x1 planes, odd channel counts,
// sizes that are no multiple of any block size) with fresh random inputs and
// NaN-poisoned outputs, and EXPECTs every output within kLayerOpTolerance
// relative error of the reference (dropout masks and add + ReLU: bit-identical).
#pragma once

#include "kernels/device.h"

namespace gcnn::test {

inline constexpr double kLayerOpTolerance = 1e-4;

void expect_batchnorm_matches_reference(Device device);
void expect_pooling_matches_reference(Device device);
void expect_elementwise_matches_reference(Device device);
void expect_dropout_matches_reference(Device device);
void expect_loss_matches_reference(Device device);
// The training step's losses kept on the device (loss_forward_on_device,
// loss_backward_on_device) against the reference loss on the same cases, and
// accumulate_loss against a double-precision sum and a hand-placed NaN.
void expect_device_loss_matches_reference(Device device);
void expect_sgd_matches_reference(Device device);

}  // namespace gcnn::test
