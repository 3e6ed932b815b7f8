#include "models/flat_vector.h"

#include <cmath>

namespace tacit {

double L2Norm(const std::vector<float>& v) {
  double sum = 0.0;
  for (float x : v) sum += static_cast<double>(x) * x;
  return std::sqrt(sum);
}

double ClipL2(std::vector<float>& v, double bound) {
  const double norm = L2Norm(v);
  if (bound > 0.0 && norm > bound) {
    const double scale = bound / norm;
    for (float& x : v) x = static_cast<float>(x * scale);
    // Rounding to float may leave the norm a hair above the bound; the secure
    // aggregation range relies on it being at most the bound.
    while (L2Norm(v) > bound) {
      for (float& x : v) x *= 1.0f - 1e-6f;
    }
  }
  return norm;
}

}  // namespace tacit
