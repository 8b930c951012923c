// Shared by the data-parallel tests: the communicator of the job the test
// program runs in (created by mpi_main.cpp).
#pragma once

#include "kernels/communicator.h"

namespace gcnn::test {
extern Communicator* job_communicator;
}
