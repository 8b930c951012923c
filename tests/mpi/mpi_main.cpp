// Entry point of the data-parallel tests, run as every rank of
// `mpirun -np 2 --oversubscribe gcnn_mpi_tests`: makes the emulated CUDA
// device visible (so device cuda:0 runs the CUDA backend on the host) and
// creates the job's communicator for the tests (data_parallel_test.h).
#include <gtest/gtest.h>

#include "kernels/cuda/emulation/control.h"
#include "tests/mpi/data_parallel_test.h"

namespace gcnn::test {
Communicator* job_communicator = nullptr;
}

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  gcnn::emu::set_device_count(1);
  std::unique_ptr<gcnn::Communicator> comm = gcnn::make_communicator();
  gcnn::test::job_communicator = comm.get();
  const int result = RUN_ALL_TESTS();
  // A rank whose tests failed fails the job; the others still finalise MPI together.
  comm->barrier();
  return result;
}
