#pragma once

// Linear convolution of two non-negative real sequences by a radix-2 complex
// FFT, for composing privacy loss distributions (pld_accountant.h). Results
// carry absolute errors of order 1e-16 times the largest input mass;
// negative round-off is clamped to zero.

#include <vector>

namespace tacit::privacy {

// out[k] = sum_i a[i] b[k - i], size a.size() + b.size() - 1 (empty if either
// input is empty).
std::vector<double> ConvolveNonNegative(const std::vector<double>& a, const std::vector<double>& b);

}  // namespace tacit::privacy
