// Data-parallel training over a Communicator (kernels/communicator.h): rank
// 0's model copied to every rank at the start, the loss averaged over ranks,
// gradients averaged in buckets of a fixed composition and order (so results
// depend on the seed and the world size only), batch norm synchronised when
// asked, a cross-rank parameter checksum (debug) and a failure a test can
// inject on one rank (GCNN_DEBUG_FAIL=<rank>:<step>).
//
// Overlap, as PyTorch DDP: buckets hold the parameters in reverse order (the
// order backward finishes them in); the model's backward hook
// (Sequential::set_backward_hook) reports each finished child, and a bucket's
// all-reduce starts as soon as all its gradients are final, while the earlier
// layers' backward runs: MPI_Iallreduce of a host copy on the CPU, NCCL on a
// communication stream ordered with events on CUDA. A residual block reports
// once, when its whole backward is done; parameters no hook reported start at
// the end of backward.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "kernels/communicator.h"
#include "kernels/cuda/nccl_communicator.h"
#include "layers/layer.h"

namespace gcnn::train {

class DataParallel {
 public:
  // Averages the gradients of model (which must outlive this object) over
  // comm's ranks: through comm on the CPU, through NCCL (bootstrapped over
  // comm) when model is on a CUDA device. bucket_mb: MiB of gradients per
  // all-reduce. overlap: start buckets from the model's backward hook;
  // false: all of them after backward (the same buckets, the same results).
  DataParallel(Communicator& comm, Layer& model, double bucket_mb, bool overlap);
  ~DataParallel();
  DataParallel(const DataParallel&) = delete;
  DataParallel& operator=(const DataParallel&) = delete;

  Communicator& comm() { return comm_; }
  // The mean over ranks of each rank's loss (non-finite on every rank when it is on any).
  float mean_loss(float local);
  // Before model.backward: no bucket of this step is started yet.
  void begin_backward();
  // After model.backward: starts the buckets not started yet and waits for
  // all of them; every parameter gradient is then its mean over ranks (on
  // CUDA: for whatever the compute stream runs after this call).
  void finish_gradients();
  // Bytes all-reduced per step for model (4 per gradient value).
  static std::int64_t gradient_bytes(Layer& model);

 private:
  struct Bucket {
    std::vector<Parameter*> params;  // reverse parameter order
    std::size_t values = 0;
    std::size_t pending = 0;         // parameters whose gradient is not final yet this step
    std::vector<float> host;         // the CPU path's copy being all-reduced
  };
  void layer_backward_done(Layer& layer);
  void start_ready_buckets();
  void start(Bucket& bucket);

  Communicator& comm_;
  Layer& model_;
  bool hooked_ = false;
  std::unique_ptr<cuda::NcclCommunicator> nccl_;  // when the model is on a CUDA device
  std::vector<Bucket> buckets_;
  std::vector<std::size_t> bucket_of_;             // by index in the reversed parameter list
  std::vector<bool> final_;                        // gradient final this step, same index
  std::unordered_map<const Layer*, std::vector<std::size_t>> params_of_layer_;  // same indices
  std::size_t next_bucket_ = 0;                    // buckets before it are started
  bool in_backward_ = false;
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
