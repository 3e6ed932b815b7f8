#pragma once

#include <vector>

namespace tacit {

// Euclidean norm, accumulated in double.
double L2Norm(const std::vector<float>& v);

// Scales `v` so its L2 norm is at most `bound` (no change when it already is,
// or when bound <= 0 is given: then nothing is clipped). Returns the norm
// before clipping, so callers can report how often and how much they clip.
double ClipL2(std::vector<float>& v, double bound);

}  // namespace tacit
