// Data-parallel training over a Communicator (kernels/communicator.h): rank
// 0's model copied to every rank at the start, the loss averaged over ranks,
// gradients averaged in buckets of a fixed order after backward (so results
// depend on the seed and the world size only), batch norm synchronised when
// asked, a cross-rank parameter checksum (debug) and a failure a test can
// inject on one rank (GCNN_DEBUG_FAIL=<rank>:<step>).
//
// The all-reduce runs after the whole backward, not overlapped with it: the
// layers' explicit backward has no per-parameter completion hook to start a
// bucket from (a Sequential's children finish in reverse order, but residual
// blocks finish theirs internally).
#pragma once

#include <cstdint>
#include <string>

#include "kernels/communicator.h"
#include "layers/layer.h"

namespace gcnn::train {

class DataParallel {
 public:
  // comm must outlive this object; bucket_mb: MiB of gradients per all-reduce.
  DataParallel(Communicator& comm, double bucket_mb);

  Communicator& comm() { return comm_; }
  // The mean over ranks of each rank's loss (non-finite on every rank when it is on any).
  float mean_loss(float local);
  // Every parameter gradient replaced by its mean over ranks: gradients packed
  // in reverse parameter order into host buckets of about bucket_mb MiB, each
  // summed by one all-reduce and scaled by 1 / world size.
  void average_gradients(Layer& model);
  // Bytes all-reduced per step for model (4 per gradient value).
  static std::int64_t gradient_bytes(Layer& model);

 private:
  Communicator& comm_;
  std::size_t bucket_values_;
  std::vector<float> bucket_;
};

// Copies rank 0's parameters and buffers to every rank.
void broadcast_model(Layer& model, Communicator& comm);
// Copies rank 0's buffers (batch-norm running statistics) to every rank, as
// PyTorch DDP does, so evaluation and checkpoints use one model.
void broadcast_buffers(Layer& model, Communicator& comm);
// Makes every BatchNorm of model reduce its statistics over comm's ranks (sync_bn).
void synchronise_batchnorm(Layer& model, Communicator* comm);
// FNV-1a hash of the bytes of every parameter value, in parameter order.
std::uint64_t parameter_checksum(Layer& model);
// Throws on every rank, naming the step and the ranks' checksums, when a
// rank's parameters differ from rank 0's.
void check_parameters_agree(Layer& model, Communicator& comm, std::int64_t step);

// A failure injected for tests: GCNN_DEBUG_FAIL=<rank>:<step> makes that rank
// throw once global step <step> is done; unset, nothing happens. Malformed
// values are an error naming the variable.
class InjectedFailure {
 public:
  InjectedFailure();
  void after_step(int rank, std::int64_t step) const;

 private:
  int rank_ = -1;
  std::int64_t step_ = -1;
};

}  // namespace gcnn::train
