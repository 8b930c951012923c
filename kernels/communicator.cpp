// The trivial communicator and the choice between it and MPI's.
#include "kernels/communicator.h"

#include <fmt/core.h>

#include <cstdio>
#include <cstdlib>
#include <initializer_list>

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

namespace {

// The first of the variables that is set to a whole number, or fallback.
int first_whole_number(std::initializer_list<const char*> names, int fallback) {
  for (const char* name : names) {
    const char* value = std::getenv(name);
    if (!value || !*value) continue;
    char* end = nullptr;
    const long n = std::strtol(value, &end, 10);
    if (*end == '\0' && n >= 0 && n < (1l << 30)) return static_cast<int>(n);
  }
  return fallback;
}

}  // namespace

int launcher_world_size() { return first_whole_number({"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "SLURM_NTASKS"}, 1); }
int launcher_rank() { return first_whole_number({"OMPI_COMM_WORLD_RANK", "PMI_RANK", "SLURM_PROCID"}, 0); }

std::unique_ptr<Communicator> make_communicator() {
  if (!launched_by_mpi()) return std::make_unique<TrivialCommunicator>();
  GCNN_INPUT_CHECK(mpi_compiled_in(),
                   "this process was started by an MPI launcher (mpirun/srun) but gcnn was built without MPI "
                   "(GCNN_MPI=OFF or libopenmpi-dev missing at configure time): every rank would train alone");
  return make_mpi_communicator();
}

}  // namespace gcnn
