// The trivial communicator and the choice between it and MPI's.
#include "kernels/communicator.h"

#include <fmt/core.h>

#include <cstdio>
#include <cstdlib>

#include "kernels/error.h"

namespace gcnn {

std::unique_ptr<Communicator> make_mpi_communicator();  // kernels/communicator_mpi.cpp

void TrivialCommunicator::abort(const std::string& message) {
  fmt::print(stderr, "error: {}\n", message);
  std::fflush(stderr);
  std::exit(1);
}

bool launched_by_mpi() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "SLURM_NTASKS"}) {
    const char* value = std::getenv(name);
    if (value && *value) return true;
  }
  return false;
}

std::unique_ptr<Communicator> make_communicator() {
  if (!launched_by_mpi()) return std::make_unique<TrivialCommunicator>();
  GCNN_INPUT_CHECK(mpi_compiled_in(),
                   "this process was started by an MPI launcher (mpirun/srun) but gcnn was built without MPI "
                   "(GCNN_MPI=OFF or libopenmpi-dev missing at configure time): every rank would train alone");
  return make_mpi_communicator();
}

}  // namespace gcnn
