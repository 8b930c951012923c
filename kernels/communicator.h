// Communicator: the collectives data-parallel training needs over the ranks of
// a job (all-reduce sum, blocking or started now and waited for later,
// broadcast, barrier, abort), on host buffers (device buffers go through NCCL:
// kernels/cuda/nccl_communicator.h). Two
// implementations: a trivial one for a single process, and MPI's when the
// process was started by a launcher (mpirun, srun) and MPI is compiled in.
// Every failed MPI call throws a gcnn::Error naming the rank and the call.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

namespace gcnn {

class Communicator {
 public:
  virtual ~Communicator() = default;
  // This process's rank in [0, world_size()).
  virtual int rank() const = 0;
  virtual int world_size() const = 0;
  // Rank among the processes on this node (picks the local GPU).
  virtual int local_rank() const = 0;
  // "trivial" or "mpi", for messages.
  virtual const char* name() const = 0;
  // Sums data over all ranks in place; every rank ends with the same sums.
  virtual void all_reduce_sum(float* data, std::size_t count) = 0;
  virtual void all_reduce_sum(double* data, std::size_t count) = 0;
  // Starts summing data over all ranks in place and returns at once
  // (MPI_Iallreduce); data must stay untouched until wait_all_reduces()
  // returns. Every rank starts the same all-reduces in the same order.
  virtual void start_all_reduce_sum(float* data, std::size_t count) = 0;
  // Waits until every all-reduce started by start_all_reduce_sum has finished.
  virtual void wait_all_reduces() = 0;
  // Copies root's bytes into every other rank's buffer.
  virtual void broadcast(void* data, std::size_t bytes, int root) = 0;
  virtual void barrier() = 0;
  // Prints message on this rank and ends every rank's process with a non-zero
  // status (MPI_Abort for MPI); never returns.
  [[noreturn]] virtual void abort(const std::string& message) = 0;
};

// One process: the collectives leave the data as it is.
class TrivialCommunicator final : public Communicator {
 public:
  int rank() const override { return 0; }
  int world_size() const override { return 1; }
  int local_rank() const override { return 0; }
  const char* name() const override { return "trivial"; }
  void all_reduce_sum(float*, std::size_t) override {}
  void all_reduce_sum(double*, std::size_t) override {}
  void start_all_reduce_sum(float*, std::size_t) override {}
  void wait_all_reduces() override {}
  void broadcast(void*, std::size_t, int) override {}
  void barrier() override {}
  [[noreturn]] void abort(const std::string& message) override;
};

// True when the environment says a launcher started this process as one of a
// job's ranks (Open MPI's OMPI_COMM_WORLD_SIZE, PMI_SIZE / PMIX_RANK of
// MPICH and PMIx launchers, SLURM_NTASKS under srun).
bool launched_by_mpi();
// The job's size and this process's rank as the launcher's environment gives
// them (OMPI_COMM_WORLD_SIZE/RANK, PMI_SIZE/RANK, SLURM_NTASKS/PROCID), without
// initialising MPI: 1 and 0 when not launched or not said.
int launcher_world_size();
int launcher_rank();
// True when the library was built with MPI (CMake option GCNN_MPI).
bool mpi_compiled_in();
// MPI's communicator when launched_by_mpi() (initialises MPI; the object
// finalises it), the trivial one otherwise; a job launched by a launcher on a
// build without MPI is an error (every rank would train alone).
std::unique_ptr<Communicator> make_communicator();

}  // namespace gcnn
