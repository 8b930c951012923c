// Device-generic check of the AdamW update against the reference: the CPU
// test, the emulated CUDA test and the real-GPU test run the same cases.
#pragma once

#include "kernels/device.h"

namespace gcnn::test {

// Several parameter tensors of awkward shapes in one call, each with its own
// lr, weight decay and step count, over three steps and three settings of
// betas/eps (one tensor's gradients are tiny, so eps matters); params and both
// moments within kLayerOpTolerance of the reference.
void expect_adamw_matches_reference(Device device);

// n_tensors small tensors in one call: every one updated as the reference
// does (the CUDA backend splits them over several launches).
void expect_adamw_many_tensors_match_reference(Device device, int n_tensors);

}  // namespace gcnn::test
