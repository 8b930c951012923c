// Worker-thread counts given by users (data.workers, --workers, --threads) are
// bounded, and pools of threads are always joined, also when starting one fails.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace gcnn {

// At most 4 threads per hardware thread of this machine.
int max_worker_threads();
// Throws an InputError naming key (e.g. "data.workers", "--workers") when
// count is negative or above max_worker_threads().
void check_worker_count(std::int64_t count, const std::string& key);
// Runs work on `threads` threads (the calling one included) and joins them
// all before returning or rethrowing.
void run_on_threads(unsigned threads, const std::function<void()>& work);

}  // namespace gcnn
