#pragma once

// At most `permits` holders at a time (C++17 has no std::counting_semaphore):
// the CPU budget of local training when many simulated clients share a
// process (the load bench's fleet, the simulator's gRPC transport).

#include <algorithm>
#include <condition_variable>
#include <mutex>

namespace tacit {

class CountingSemaphore {
 public:
  // At least one permit, so a caller that asks for 0 cannot deadlock.
  explicit CountingSemaphore(int permits) : free_(std::max(permits, 1)) {}
  CountingSemaphore(const CountingSemaphore&) = delete;
  CountingSemaphore& operator=(const CountingSemaphore&) = delete;

  void Acquire() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return free_ > 0; });
    --free_;
  }
  void Release() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++free_;
    }
    cv_.notify_one();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int free_;
};

}  // namespace tacit
