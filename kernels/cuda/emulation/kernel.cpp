// The fiber scheduler behind the CUDA emulation harness (see kernel.h).
#include "kernels/cuda/emulation/kernel.h"

#include <signal.h>
#include <ucontext.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <exception>
#include <memory>
#include <mutex>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "kernels/cuda/emulation/runtime.h"
#include "kernels/error.h"

namespace gcnn::emu {
namespace {

constexpr std::size_t kStackBytes = 64 * 1024;
constexpr unsigned kMaxThreadsPerBlock = 1024;
constexpr std::size_t kMaxDynamicShared = 48 * 1024;  // the default opt-in-free limit on sm_80/sm_90

enum class FiberState { Ready, AtBlockBarrier, AtWarpBarrier, Done };

struct Fiber {
  ucontext_t context;
  std::unique_ptr<char[]> stack;
  ThreadState thread;
  FiberState state = FiberState::Ready;
};

struct Warp {
  std::uint64_t slots[32] = {};
};

struct Scheduler {
  const std::function<void()>* body = nullptr;
  std::vector<Fiber> fibers;
  std::vector<Warp> warps;
  std::vector<unsigned char> shared;
  ucontext_t scheduler_context;
  BlockState block;
  int current = -1;
  int active_threads = 0;
  const char* kernel_name = nullptr;
  std::exception_ptr error;
};

thread_local Scheduler* tls_scheduler = nullptr;
std::atomic<Schedule> g_schedule{Schedule::Shuffled};
std::atomic<std::uint64_t> g_seed{0x9e3779b97f4a7c15ULL};
std::atomic<std::uint64_t> g_launches{0};

Scheduler& scheduler() {
  GCNN_CHECK(tls_scheduler != nullptr, "CUDA emulation: device code called outside a kernel launch");
  return *tls_scheduler;
}

void yield_to_scheduler(FiberState state) {
  Scheduler& s = scheduler();
  Fiber& f = s.fibers[s.current];
  f.state = state;
  swapcontext(&f.context, &s.scheduler_context);
}

void fiber_entry() {
  Scheduler& s = *tls_scheduler;
  try {
    (*s.body)();
  } catch (...) {
    if (!s.error) s.error = std::current_exception();
  }
  s.fibers[s.current].state = FiberState::Done;
  // Returning resumes uc_link, the scheduler.
}

// SIGSEGV in an emulated thread at a device block's guard page: an access past
// the end of an allocation. Records the error (kernel, block, thread, byte
// offset and float index) and abandons the thread by resuming the scheduler,
// which rethrows the error after the block, as for any exception in a kernel.
// The faulting access never happened. Any other fault goes to the previous
// handler (or the default action) by returning with it restored.
struct sigaction g_previous_segv;
void on_segv(int signal, siginfo_t* info, void* context) {
  Scheduler* s = tls_scheduler;
  GuardHit hit{};
  if (s == nullptr || s->current < 0 || !find_guard_hit(info->si_addr, &hit)) {
    sigaction(SIGSEGV, &g_previous_segv, nullptr);
    (void)signal;
    (void)context;
    return;  // the access runs again and faults under the previous handler
  }
#if defined(__x86_64__)
  const bool write = (static_cast<ucontext_t*>(context)->uc_mcontext.gregs[REG_ERR] & 2) != 0;
  const char* access = write ? "writes" : "reads";
#else
  const char* access = "accesses";
#endif
  Fiber& f = s->fibers[s->current];
  const std::size_t index = (hit.used_bytes + hit.bytes_past_end) / sizeof(float);
  if (!s->error) {
    s->error = std::make_exception_ptr(Error(GCNN_FORMAT(
        "CUDA emulation: kernel {} (block ({}, {}, {}), thread ({}, {}, {})) {} out of bounds: byte {} past the end "
        "of a {}-byte device buffer: float index {} of a buffer of {}",
        s->kernel_name, s->block.block_idx.x, s->block.block_idx.y, s->block.block_idx.z, f.thread.thread_idx.x,
        f.thread.thread_idx.y, f.thread.thread_idx.z, access, hit.bytes_past_end, hit.used_bytes,
        index, hit.used_bytes / sizeof(float))));
  }
  f.state = FiberState::Done;
  setcontext(&s->scheduler_context);
}

void install_guard_handler() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction action {};
    action.sa_sigaction = on_segv;
    action.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&action.sa_mask);
    sigaction(SIGSEGV, &action, &g_previous_segv);
  });
}

// Releases warps whose live threads all wait at a warp barrier, else the whole
// block if every live thread waits at __syncthreads. Returns false on deadlock.
bool release_barriers(Scheduler& s, const char* kernel_name) {
  bool released = false;
  int n = s.active_threads;
  for (int w = 0; w * 32 < n; ++w) {
    int begin = w * 32, end = std::min(n, begin + 32);
    bool any_waiting = false, all_waiting = true;
    for (int t = begin; t < end; ++t) {
      FiberState st = s.fibers[t].state;
      if (st == FiberState::AtWarpBarrier) any_waiting = true;
      else if (st != FiberState::Done) all_waiting = false;
    }
    if (any_waiting && all_waiting) {
      for (int t = begin; t < end; ++t)
        if (s.fibers[t].state == FiberState::AtWarpBarrier) s.fibers[t].state = FiberState::Ready;
      released = true;
    }
  }
  if (released) return true;
  bool any_block = false, all_block = true;
  for (int t = 0; t < n; ++t) {
    FiberState st = s.fibers[t].state;
    if (st == FiberState::AtBlockBarrier) any_block = true;
    else if (st != FiberState::Done) all_block = false;
  }
  if (any_block && all_block) {
    for (int t = 0; t < n; ++t)
      if (s.fibers[t].state == FiberState::AtBlockBarrier) s.fibers[t].state = FiberState::Ready;
    return true;
  }
  for (int t = 0; t < n; ++t) {
    GCNN_CHECK(s.fibers[t].state == FiberState::Done,
               "CUDA emulation: kernel {} deadlocked in block ({}, {}, {}): threads wait at different barriers "
               "(a __syncthreads or shuffle inside divergent code)",
               kernel_name, s.block.block_idx.x, s.block.block_idx.y, s.block.block_idx.z);
  }
  return false;
}

// Kept out of line: getcontext returns twice, which must not clobber the
// caller's loop variables.
[[gnu::noinline]] void start_fiber(Fiber& f, ucontext_t& scheduler_context) {
  if (!f.stack) f.stack = std::make_unique<char[]>(kStackBytes);
  f.state = FiberState::Ready;
  getcontext(&f.context);
  f.context.uc_stack.ss_sp = f.stack.get();
  f.context.uc_stack.ss_size = kStackBytes;
  f.context.uc_link = &scheduler_context;
  makecontext(&f.context, fiber_entry, 0);
}

void run_block(Scheduler& s, const char* kernel_name, std::mt19937_64& rng) {
  int n = s.active_threads;
  const dim3 bd = s.block.block_dim;
  for (int t = 0; t < n; ++t) {
    Fiber& f = s.fibers[t];
    f.thread.thread_idx = {static_cast<unsigned>(t) % bd.x, (static_cast<unsigned>(t) / bd.x) % bd.y,
                           static_cast<unsigned>(t) / (bd.x * bd.y)};
    start_fiber(f, s.scheduler_context);
  }
  std::vector<int> order(n);
  Schedule policy = g_schedule.load();
  do {
    std::iota(order.begin(), order.end(), 0);
    if (policy == Schedule::Reverse) std::reverse(order.begin(), order.end());
    if (policy == Schedule::Shuffled) std::shuffle(order.begin(), order.end(), rng);
    for (int t : order) {
      if (s.fibers[t].state != FiberState::Ready) continue;
      s.current = t;
      swapcontext(&s.scheduler_context, &s.fibers[t].context);
      s.current = -1;
    }
  } while (release_barriers(s, kernel_name));
}

}  // namespace

void set_schedule(Schedule schedule, std::uint64_t seed) {
  g_schedule = schedule;
  g_seed = seed;
}
Schedule schedule() { return g_schedule.load(); }
std::uint64_t launch_count() { return g_launches.load(); }

namespace {
std::atomic<bool> g_fault_next_launch{false};
}  // namespace
void fault_next_launch() { g_fault_next_launch = true; }

BlockState& current_block() { return scheduler().block; }
ThreadState& current_thread() {
  Scheduler& s = scheduler();
  GCNN_CHECK(s.current >= 0, "CUDA emulation: thread built-ins used outside a thread");
  return s.fibers[s.current].thread;
}

int lane_id() { return scheduler().current % 32; }

void syncthreads() { yield_to_scheduler(FiberState::AtBlockBarrier); }
void syncwarp() { yield_to_scheduler(FiberState::AtWarpBarrier); }

std::uint64_t warp_exchange(std::uint64_t value, int src_lane, unsigned mask) {
  Scheduler& s = scheduler();
  int t = s.current;
  GCNN_CHECK((mask >> (t % 32)) & 1u,
             "CUDA emulation: lane {} of block ({}, {}, {}) calls a warp shuffle with mask {:#010x}, which leaves it out",
             t % 32, s.block.block_idx.x, s.block.block_idx.y, s.block.block_idx.z, mask);
  Warp& warp = s.warps[t / 32];
  warp.slots[t % 32] = value;
  syncwarp();  // every lane has deposited
  int src = (t / 32) * 32 + src_lane;
  std::uint64_t result = value;
  if (src_lane >= 0 && src_lane < 32 && src < s.active_threads)
    result = ((mask >> src_lane) & 1u) ? warp.slots[src_lane] : kPoisonBits;
  syncwarp();  // every lane has read before the slots are reused
  return result;
}

void run_grid(const char* kernel_name, dim3 grid, dim3 block, std::size_t dynamic_shared_bytes,
              const std::function<void()>& body) {
  unsigned threads = block.x * block.y * block.z;
  GCNN_CHECK(threads >= 1 && threads <= kMaxThreadsPerBlock,
             "CUDA emulation: kernel {} launched with {} threads per block ({}x{}x{}); limit {}", kernel_name,
             threads, block.x, block.y, block.z, kMaxThreadsPerBlock);
  GCNN_CHECK(grid.x >= 1 && grid.y >= 1 && grid.z >= 1 && grid.y <= 65535 && grid.z <= 65535,
             "CUDA emulation: kernel {} launched with an invalid grid {}x{}x{}", kernel_name, grid.x, grid.y,
             grid.z);
  GCNN_CHECK(dynamic_shared_bytes <= kMaxDynamicShared,
             "CUDA emulation: kernel {} asks for {} bytes of dynamic shared memory; limit {}", kernel_name,
             dynamic_shared_bytes, kMaxDynamicShared);
  GCNN_CHECK(tls_scheduler == nullptr, "CUDA emulation: kernel {} launched from device code", kernel_name);
  ++g_launches;
  if (g_fault_next_launch.exchange(false)) raise_device_fault();
  install_guard_handler();

  thread_local Scheduler s;  // fiber stacks are reused across launches
  tls_scheduler = &s;
  struct Reset {
    ~Reset() { tls_scheduler = nullptr; }
  } reset;
  s.body = &body;
  s.kernel_name = kernel_name;
  s.error = nullptr;
  s.active_threads = static_cast<int>(threads);
  if (s.fibers.size() < threads) s.fibers.resize(threads);
  s.warps.assign((threads + 31) / 32, Warp{});
  s.shared.resize(dynamic_shared_bytes);
  s.block.grid_dim = grid;
  s.block.block_dim = block;
  s.block.dynamic_shared = dynamic_shared_bytes ? s.shared.data() : nullptr;
  std::mt19937_64 rng(g_seed.load());
  // Blocks in the schedule's order: on a GPU they run in no defined order.
  const std::uint64_t blocks = std::uint64_t{grid.x} * grid.y * grid.z;
  std::vector<std::uint64_t> block_order(blocks);
  std::iota(block_order.begin(), block_order.end(), std::uint64_t{0});
  const Schedule policy = g_schedule.load();
  if (policy == Schedule::Reverse) std::reverse(block_order.begin(), block_order.end());
  if (policy == Schedule::Shuffled) std::shuffle(block_order.begin(), block_order.end(), rng);
  for (std::uint64_t b : block_order) {
    s.block.block_idx = {static_cast<unsigned>(b % grid.x), static_cast<unsigned>(b / grid.x % grid.y),
                         static_cast<unsigned>(b / (std::uint64_t{grid.x} * grid.y))};
    std::fill(s.shared.begin(), s.shared.end(), static_cast<unsigned char>(0xff));  // NaN floats
    run_block(s, kernel_name, rng);
    if (s.error) std::rethrow_exception(s.error);
  }
}

}  // namespace gcnn::emu
