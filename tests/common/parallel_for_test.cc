#include "common/parallel_for.h"

#include <atomic>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace tacit {
namespace {

TEST(ParallelForTest, RunsEveryIndexExactlyOnceForRandomSizes) {
  std::mt19937 rng(1);
  for (int trial = 0; trial < 30; ++trial) {
    size_t count = rng() % 500;
    int workers = static_cast<int>(rng() % 6);  // includes 0 = all cores
    std::vector<std::atomic<int>> hits(count);
    ParallelFor(count, workers, [&](size_t i) { hits[i]++; });
    for (size_t i = 0; i < count; ++i) ASSERT_EQ(hits[i].load(), 1) << "index " << i;
  }
}

TEST(ParallelForTest, UsesNoMoreThreadsThanWorkers) {
  std::mutex mu;
  std::set<std::thread::id> seen;
  ParallelFor(200, 3, [&](size_t) {
    std::lock_guard<std::mutex> lock(mu);
    seen.insert(std::this_thread::get_id());
  });
  EXPECT_LE(seen.size(), 3u);
  EXPECT_GE(ResolveWorkers(0), 1);
  EXPECT_EQ(ResolveWorkers(5), 5);
}

}  // namespace
}  // namespace tacit
