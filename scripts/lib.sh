# Shared by scripts/demo and scripts/test: install missing Debian packages,
# then configure and build incrementally. Sourced, not run.

GCNN_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
GCNN_PACKAGES=(
  build-essential cmake ninja-build pkg-config git
  libfmt-dev libcli11-dev libyaml-cpp-dev nlohmann-json3-dev libcurl4-openssl-dev libstb-dev libturbojpeg0-dev libpng-dev
  libdnnl-dev libopenblas-dev libgtest-dev libgmock-dev libbenchmark-dev
  python3-matplotlib python3-numpy  # gcnn plot's figures (scripts/plots/gcnn_plot.py)
  libopenmpi-dev openmpi-bin  # data-parallel training: mpirun -np N gcnn train (kernels/communicator.h)
)
# scripts/fuzz only: clang with libFuzzer and the sanitizer runtimes, and
# clang's OpenMP runtime (the library uses OpenMP).
GCNN_FUZZ_PACKAGES=(clang-14 libclang-rt-14-dev libomp-14-dev)

gcnn_log() { printf '== %s\n' "$*" >&2; }

# gcnn_install_packages [PACKAGE...]: installs those missing of the given
# packages (default GCNN_PACKAGES), so a second run costs nothing.
gcnn_install_packages() {
  local wanted=("$@") missing=()
  [ ${#wanted[@]} -eq 0 ] && wanted=("${GCNN_PACKAGES[@]}")
  for p in "${wanted[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  gcnn_log "installing: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# gcnn_build DIR [cmake args...] [-- targets...]: configures DIR once, then
# builds incrementally (everything, or only the targets named after --).
gcnn_build() {
  local dir="$1"; shift
  local args=() targets=()
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do args+=("$1"); shift; done
  [ "${1:-}" = "--" ] && shift && targets=("$@")
  if [ ! -f "$dir/CMakeCache.txt" ]; then
    gcnn_log "configuring $dir ${args[*]}"
    cmake -S "$GCNN_ROOT" -B "$dir" -G Ninja "${args[@]}"
  fi
  gcnn_log "building $dir ${targets[*]}"
  if [ ${#targets[@]} -gt 0 ]; then
    cmake --build "$dir" --parallel "$(nproc)" --target "${targets[@]}"
  else
    cmake --build "$dir" --parallel "$(nproc)"
  fi
}
