// GCNN_HOST_DEVICE marks small inline functions that both the CPU backend and
// CUDA kernels call (nvcc: __host__ __device__; plain C++ and emulation: nothing).
#pragma once

#if defined(__CUDACC__)
#define GCNN_HOST_DEVICE __host__ __device__
#else
#define GCNN_HOST_DEVICE
#endif
