# Every dependency comes from a Debian package, found through CMake's own
# find_package or pkg-config. gcnn_deps carries them all to the targets.
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
find_package(OpenMP REQUIRED COMPONENTS CXX)
find_package(fmt REQUIRED)
find_package(yaml-cpp REQUIRED)
find_package(CURL REQUIRED)
find_package(CLI11 REQUIRED)
find_package(nlohmann_json REQUIRED)
# Debian's dnnl-config.cmake insists on OpenCL (its GPU runtime), which the
# CPU engine we use does not need: find the library directly.
find_path(DNNL_INCLUDE_DIR oneapi/dnnl/dnnl.hpp REQUIRED)
find_library(DNNL_LIBRARY dnnl REQUIRED)
pkg_check_modules(STB REQUIRED IMPORTED_TARGET stb)
pkg_check_modules(TURBOJPEG REQUIRED IMPORTED_TARGET libturbojpeg)
pkg_check_modules(LIBPNG REQUIRED IMPORTED_TARGET libpng)
pkg_check_modules(OPENBLAS REQUIRED IMPORTED_TARGET openblas)

add_library(gcnn_deps INTERFACE)
target_include_directories(gcnn_deps INTERFACE ${DNNL_INCLUDE_DIR})
target_link_libraries(gcnn_deps INTERFACE
  fmt::fmt yaml-cpp CURL::libcurl CLI11::CLI11 nlohmann_json::nlohmann_json ${DNNL_LIBRARY} PkgConfig::STB PkgConfig::TURBOJPEG PkgConfig::LIBPNG PkgConfig::OPENBLAS
  OpenMP::OpenMP_CXX Threads::Threads)

# MPI (Debian's libopenmpi-dev) for data-parallel training across processes:
# ON by default when found; a build without it trains in one process only.
find_package(MPI COMPONENTS CXX QUIET)
option(GCNN_MPI "Build the MPI communicator (data-parallel training with mpirun/srun)" ${MPI_CXX_FOUND})
if(GCNN_MPI)
  if(NOT MPI_CXX_FOUND)
    message(FATAL_ERROR "GCNN_MPI=ON but no MPI was found: install libopenmpi-dev (or configure with -DGCNN_MPI=OFF)")
  endif()
  target_link_libraries(gcnn_deps INTERFACE MPI::MPI_CXX)
  target_compile_definitions(gcnn_deps INTERFACE GCNN_HAVE_MPI=1)
  find_program(GCNN_MPIEXEC NAMES mpirun mpiexec REQUIRED)
endif()
