#include "client/runtime/backoff.h"

#include <algorithm>
#include <cmath>

namespace tacit::runtime {

double BackoffSeconds(int failures, double max_seconds, double unit_random) {
  const double base = std::min(max_seconds, std::pow(2.0, std::clamp(failures, 0, 30)));
  // Once the cap is reached the delays spread over [max/2, max]: still
  // jittered, never past the cap.
  return std::min(max_seconds, base * (0.5 + unit_random));
}

}  // namespace tacit::runtime
