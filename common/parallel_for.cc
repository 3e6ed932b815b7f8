#include "common/parallel_for.h"

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

namespace tacit {

int ResolveWorkers(int workers) {
  if (workers > 0) return workers;
  return std::max(1u, std::thread::hardware_concurrency());
}

void ParallelFor(size_t count, int workers, const std::function<void(size_t)>& body) {
  size_t threads = std::min<size_t>(ResolveWorkers(workers), count);
  if (threads <= 1) {
    for (size_t i = 0; i < count; ++i) body(i);
    return;
  }
  std::atomic<size_t> next{0};
  auto drain = [&] {
    for (size_t i = next++; i < count; i = next++) body(i);
  };
  std::vector<std::thread> pool;
  pool.reserve(threads - 1);
  for (size_t t = 1; t < threads; ++t) pool.emplace_back(drain);
  drain();  // the calling thread works too
  for (auto& thread : pool) thread.join();
}

}  // namespace tacit
