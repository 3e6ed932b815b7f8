#include "coordinator/service/check_in_limiter.h"

#include <algorithm>

namespace tacit::coordinator {

bool CheckInLimiter::Allow(const std::string& device, Clock::time_point now,
                           double* retry_seconds) {
  std::lock_guard<std::mutex> lock(mu_);
  if (buckets_.size() > kForgetAbove) {
    // Full buckets carry no information: forget them.
    for (auto it = buckets_.begin(); it != buckets_.end();) {
      double elapsed = std::chrono::duration<double>(now - it->second.updated).count();
      it = it->second.tokens + elapsed * per_second_ >= burst_ ? buckets_.erase(it) : std::next(it);
    }
  }
  auto [it, inserted] = buckets_.try_emplace(device, Bucket{burst_, now});
  Bucket& b = it->second;
  double elapsed = std::chrono::duration<double>(now - b.updated).count();
  b.tokens = std::min(burst_, b.tokens + elapsed * per_second_);
  b.updated = now;
  if (b.tokens >= 1) {
    b.tokens -= 1;
    return true;
  }
  *retry_seconds = per_second_ > 0 ? (1 - b.tokens) / per_second_ : 3600;
  return false;
}

}  // namespace tacit::coordinator
