// Shape checks and device dispatch for the reductions.
#include "kernels/ops/reduction.h"

#include "kernels/cpu/reduction.h"
#include "kernels/cuda/reduction.h"
#include "kernels/dispatch.h"

namespace gcnn::ops {

void channel_sum(const Tensor& x, Tensor& out) {
  GCNN_CHECK(x.ndim() >= 2, "channel_sum: input {} needs at least 2 dims [N, C, ...]", x.describe());
  check_shape("channel_sum", "out", out, {x.dim(1)});
  dispatch("channel_sum", {&x, &out}, [&] { cpu::channel_sum(x, out); }, [&] { cuda::channel_sum(x, out); });
}

}  // namespace gcnn::ops
