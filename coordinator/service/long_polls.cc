#include "coordinator/service/long_polls.h"

namespace tacit::coordinator {

void LongPolls::Park(Clock::time_point deadline, Attempt attempt) {
  std::lock_guard<std::mutex> lock(mu_);
  if (attempt(false)) return;
  parked_.push_back({deadline, std::move(attempt)});
}

void LongPolls::Wake() {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = parked_.begin(); it != parked_.end();) {
    it = it->attempt(false) ? parked_.erase(it) : std::next(it);
  }
}

void LongPolls::Expire(Clock::time_point now) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = parked_.begin(); it != parked_.end();) {
    if (it->deadline <= now) {
      it->attempt(true);
      it = parked_.erase(it);
    } else {
      ++it;
    }
  }
}

void LongPolls::ExpireAll() { Expire(Clock::time_point::max()); }

size_t LongPolls::parked() const {
  std::lock_guard<std::mutex> lock(mu_);
  return parked_.size();
}

}  // namespace tacit::coordinator
