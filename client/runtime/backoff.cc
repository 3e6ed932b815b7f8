#include "client/runtime/backoff.h"

#include <algorithm>
#include <cmath>

namespace tacit::runtime {

double BackoffSeconds(int failures, double max_seconds, double unit_random) {
  double base = std::min(max_seconds, std::pow(2.0, std::min(failures, 30)));
  return base * (0.5 + unit_random);
}

}  // namespace tacit::runtime
