#pragma once

#include <cstddef>
#include <functional>

namespace tacit {

// Runs body(i) for every i in [0, count) on up to `workers` threads (0 = all
// cores), handing out indices one at a time so uneven tasks balance. Returns
// when all have run. Tasks, not threads, per item: a simulation with 10,000
// clients still uses only `workers` threads. `body` must be thread-safe.
void ParallelFor(size_t count, int workers, const std::function<void(size_t)>& body);

// The number of worker threads `workers` resolves to (0 = hardware concurrency).
int ResolveWorkers(int workers);

}  // namespace tacit
