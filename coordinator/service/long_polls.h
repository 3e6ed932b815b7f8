#pragma once

// Parked long-poll calls. A call that has nothing to return yet is parked
// with a function that tries to answer it; Wake() retries every parked call
// after a change, Expire() answers the ones whose time is up ("ask again").
// No thread waits per call, so thousands of clients cost thousands of small
// closures, not threads.

#include <chrono>
#include <functional>
#include <list>
#include <mutex>

namespace tacit::coordinator {

class LongPolls {
 public:
  using Clock = std::chrono::steady_clock;
  // Finishes the call and returns true, or returns false to stay parked.
  // With timed_out it must finish the call.
  using Attempt = std::function<bool(bool timed_out)>;

  // Tries once at once (so a change between the caller's check and parking
  // is never missed), then parks until `deadline`.
  void Park(Clock::time_point deadline, Attempt attempt);
  void Wake();
  void Expire(Clock::time_point now);
  void ExpireAll();  // shutdown: every parked call is answered
  size_t parked() const;

 private:
  struct Parked {
    Clock::time_point deadline;
    Attempt attempt;
  };
  mutable std::mutex mu_;
  std::list<Parked> parked_;
};

}  // namespace tacit::coordinator
