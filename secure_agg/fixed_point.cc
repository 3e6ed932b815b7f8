#include "secure_agg/fixed_point.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "secure_agg/crypto.h"

namespace tacit::secagg {
namespace {

constexpr size_t kRandomBatch = 4096;  // uniform 32-bit draws per generator call

// Stochastic rounding: floor(v) + 1 with probability frac(v), from 32-bit uniforms.
int64_t RoundStochastic(double v, uint32_t uniform) {
  const double f = std::floor(v);
  const double frac = v - f;
  const double u = static_cast<double>(uniform) * (1.0 / 4294967296.0);
  return static_cast<int64_t>(f) + (u < frac ? 1 : 0);
}

}  // namespace

absl::Status ValidateFixedPointParams(const FixedPointParams& params) {
  if (params.bits < 2 || params.bits > kMaxBits) {
    return absl::InvalidArgumentError(
        absl::StrCat("bits must be between 2 and ", kMaxBits, ", got ", params.bits));
  }
  if (!(params.clip_bound > 0) || !std::isfinite(params.clip_bound)) {
    return absl::InvalidArgumentError("clip_bound must be a positive finite number");
  }
  if (!(params.scale > 0) || !std::isfinite(params.scale)) {
    return absl::InvalidArgumentError("scale must be a positive finite number");
  }
  if (!(params.max_weight > 0) || !std::isfinite(params.max_weight)) {
    return absl::InvalidArgumentError("max_weight must be a positive finite number");
  }
  return absl::OkStatus();
}

absl::StatusOr<NoWrapReport> CheckNoWrap(const FixedPointParams& params, uint32_t cohort_size) {
  absl::Status valid = ValidateFixedPointParams(params);
  if (!valid.ok()) return valid;
  if (cohort_size == 0) return absl::InvalidArgumentError("cohort_size must be positive");
  NoWrapReport report;
  // Values are bounded by max_weight * clip * scale, the weight element by
  // max_weight * scale; stochastic rounding can add one more unit.
  report.max_abs_element =
      std::ceil(params.max_weight * std::max(params.clip_bound, 1.0) * params.scale) + 1;
  report.max_abs_sum = report.max_abs_element * cohort_size;
  report.limit = std::ldexp(1.0, static_cast<int>(params.bits) - 1) - 1;
  report.headroom_bits = std::log2(report.limit / report.max_abs_sum);
  if (report.max_abs_sum > report.limit) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "the sum can wrap: %u clients x max |element| %.0f = %.0f exceeds 2^%u - 1 = %.0f; "
        "raise bits, or lower scale, clip_bound, max_weight or the cohort size "
        "(%.2f bits short)",
        cohort_size, report.max_abs_element, report.max_abs_sum, params.bits - 1, report.limit,
        -report.headroom_bits));
  }
  return report;
}

absl::StatusOr<double> LargestSafeScale(uint32_t bits, double clip_bound, double max_weight,
                                        uint32_t cohort_size) {
  FixedPointParams params{bits, clip_bound, 1.0, max_weight};
  auto base = CheckNoWrap(params, cohort_size);
  if (!base.ok()) return base.status();
  for (int e = 1; e < 62; ++e) {
    params.scale = std::ldexp(1.0, e);
    if (!CheckNoWrap(params, cohort_size).ok()) return std::ldexp(1.0, e - 1);
  }
  return params.scale;
}

absl::StatusOr<std::vector<int64_t>> QuantizeWeighted(
    const FixedPointParams& params, absl::Span<const float> input, double weight,
    const std::optional<std::array<uint8_t, 32>>& rounding_key) {
  absl::StatusOr<SecretKey> key =
      rounding_key ? absl::StatusOr<SecretKey>(SecretKey(*rounding_key)) : RandomSecretKey();
  if (!key.ok()) return key.status();
  return QuantizeWeighted(params, input, weight, *key);
}

absl::StatusOr<std::vector<int64_t>> QuantizeWeighted(const FixedPointParams& params,
                                                      absl::Span<const float> input, double weight,
                                                      const SecretKey& rounding_key) {
  absl::Status valid = ValidateFixedPointParams(params);
  if (!valid.ok()) return valid;
  if (!std::isfinite(weight) || weight < 0) {
    return absl::InvalidArgumentError("weight must be a finite number >= 0");
  }
  const double w = std::min(weight, params.max_weight);
  auto stream = AesCtrStream::Create(rounding_key);
  if (!stream.ok()) return stream.status();

  std::vector<int64_t> out(input.size() + 1);
  std::vector<uint32_t> uniforms(kRandomBatch);
  auto uniform_bytes = absl::MakeSpan(reinterpret_cast<uint8_t*>(uniforms.data()),
                                      uniforms.size() * sizeof(uint32_t));
  const double factor = w * params.scale;
  for (size_t start = 0; start < out.size(); start += kRandomBatch) {
    absl::Status st = stream->Generate(uniform_bytes);
    if (!st.ok()) return st;
    const size_t end = std::min(out.size(), start + kRandomBatch);
    for (size_t i = start; i < end; ++i) {
      double v;
      if (i < input.size()) {
        float x = input[i];
        if (std::isnan(x)) {
          return absl::InvalidArgumentError(absl::StrCat("input element ", i, " is NaN"));
        }
        v = std::clamp(static_cast<double>(x), -params.clip_bound, params.clip_bound) * factor;
      } else {
        v = factor;  // the weight element
      }
      out[i] = RoundStochastic(v, uniforms[i - start]);
    }
  }
  return out;
}

uint64_t ToModular(int64_t value, uint32_t bits) {
  const uint64_t mask = (uint64_t{1} << bits) - 1;
  return static_cast<uint64_t>(value) & mask;
}

int64_t FromModular(uint64_t residue, uint32_t bits) {
  const uint64_t modulus = uint64_t{1} << bits;
  residue &= modulus - 1;
  if (residue >= (modulus >> 1))
    return static_cast<int64_t>(residue) - static_cast<int64_t>(modulus);
  return static_cast<int64_t>(residue);
}

}  // namespace tacit::secagg
