#include "privacy/fft_convolution.h"

#include <cmath>
#include <complex>
#include <cstddef>

namespace tacit::privacy {
namespace {

using Complex = std::complex<double>;

// In-place iterative Cooley-Tukey; `inverse` divides by n.
void Fft(std::vector<Complex>& v, bool inverse) {
  const size_t n = v.size();
  for (size_t i = 1, j = 0; i < n; ++i) {
    size_t bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) std::swap(v[i], v[j]);
  }
  const double pi = std::acos(-1.0);
  for (size_t len = 2; len <= n; len <<= 1) {
    const double angle = 2 * pi / static_cast<double>(len) * (inverse ? 1 : -1);
    // Twiddles computed directly (not by repeated multiplication) to keep
    // round-off at the 1e-16 level for long transforms.
    std::vector<Complex> twiddle(len / 2);
    for (size_t k = 0; k < len / 2; ++k) {
      twiddle[k] = std::polar(1.0, angle * static_cast<double>(k));
    }
    for (size_t start = 0; start < n; start += len) {
      for (size_t k = 0; k < len / 2; ++k) {
        const Complex u = v[start + k], t = v[start + k + len / 2] * twiddle[k];
        v[start + k] = u + t;
        v[start + k + len / 2] = u - t;
      }
    }
  }
  if (inverse) {
    for (Complex& c : v) c /= static_cast<double>(n);
  }
}

}  // namespace

std::vector<double> ConvolveNonNegative(const std::vector<double>& a,
                                        const std::vector<double>& b) {
  if (a.empty() || b.empty()) return {};
  const size_t out_size = a.size() + b.size() - 1;
  // Short inputs: the direct sum is exact and faster.
  if (std::min(a.size(), b.size()) <= 32) {
    std::vector<double> out(out_size, 0.0);
    for (size_t i = 0; i < a.size(); ++i) {
      for (size_t j = 0; j < b.size(); ++j) out[i + j] += a[i] * b[j];
    }
    return out;
  }
  size_t n = 1;
  while (n < out_size) n <<= 1;
  // Both real inputs in one complex transform: z = a + i b, then
  // A(k) = (Z(k) + conj(Z(n-k))) / 2, B(k) = (Z(k) - conj(Z(n-k))) / 2i.
  std::vector<Complex> z(n, Complex(0, 0));
  for (size_t i = 0; i < a.size(); ++i) z[i].real(a[i]);
  for (size_t i = 0; i < b.size(); ++i) z[i].imag(b[i]);
  Fft(z, false);
  std::vector<Complex> product(n);
  for (size_t k = 0; k < n; ++k) {
    const Complex zk = z[k], zc = std::conj(z[(n - k) % n]);
    const Complex fa = (zk + zc) * 0.5, fb = (zk - zc) * Complex(0, -0.5);
    product[k] = fa * fb;
  }
  Fft(product, true);
  std::vector<double> out(out_size);
  for (size_t i = 0; i < out_size; ++i) out[i] = std::max(0.0, product[i].real());
  return out;
}

}  // namespace tacit::privacy
