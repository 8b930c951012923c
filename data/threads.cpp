// Bounded worker counts and always-joined thread pools (see threads.h).
#include "data/threads.h"

#include <algorithm>
#include <thread>
#include <vector>

#include "kernels/error.h"

namespace gcnn {

int max_worker_threads() { return 4 * static_cast<int>(std::max(1u, std::thread::hardware_concurrency())); }

void check_worker_count(std::int64_t count, const std::string& key) {
  GCNN_INPUT_CHECK(count >= 0 && count <= max_worker_threads(),
                   "{} {}: must be in [0, {}] (4 x the {} hardware threads of this machine)", key, count,
                   max_worker_threads(), max_worker_threads() / 4);
}

void run_on_threads(unsigned threads, const std::function<void()>& work) {
  std::vector<std::thread> pool;
  try {
    for (unsigned t = 1; t < threads; ++t) pool.emplace_back(work);
    work();
  } catch (...) {
    for (auto& t : pool) t.join();
    throw;
  }
  for (auto& t : pool) t.join();
}

}  // namespace gcnn
