#pragma once

// Runs a block with the training head's products in one precision and puts
// the process's choice back after. `Precisions()` lists fp32 and, on a CPU
// with native bf16 products, bf16: each test of the head runs in both.

#include <cstdio>
#include <string>
#include <vector>

#include "models/internal/dnnl_gemm.h"

namespace tacit::testing {

class ScopedHeadPrecision {
 public:
  explicit ScopedHeadPrecision(internal::HeadPrecision precision)
      : saved_(internal::TrainingHeadPrecision()) {
    internal::OverrideTrainingHeadPrecision(precision, "set by a test");
  }
  ~ScopedHeadPrecision() { internal::OverrideTrainingHeadPrecision(saved_, "set back by a test"); }
  ScopedHeadPrecision(const ScopedHeadPrecision&) = delete;
  ScopedHeadPrecision& operator=(const ScopedHeadPrecision&) = delete;

 private:
  internal::HeadPrecision saved_;
};

// fp32, and bf16 where this CPU multiplies it natively (else a visible note).
inline std::vector<internal::HeadPrecision> Precisions() {
  std::vector<internal::HeadPrecision> out = {internal::HeadPrecision::kFloat32};
  if (internal::NativeBfloat16Products()) {
    out.push_back(internal::HeadPrecision::kBfloat16);
  } else {
    std::printf("NOTE: no native bf16 products on this CPU (%s): bf16 head not tested here\n",
                internal::DnnlDescription());
  }
  return out;
}

// Relative tolerance of the head's results: bf16 inputs carry 8 significant
// bits (relative rounding 2^-9); sums over hundreds of products average it.
inline double HeadTolerance(internal::HeadPrecision precision) {
  return precision == internal::HeadPrecision::kBfloat16 ? 2e-2 : 1e-4;
}

inline const char* PrecisionName(internal::HeadPrecision precision) {
  return precision == internal::HeadPrecision::kBfloat16 ? "bf16" : "fp32";
}

}  // namespace tacit::testing
