#include "client/federated/ddg_input.h"

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "privacy/ddg_encoding.h"

namespace tacit {

absl::StatusOr<std::vector<int64_t>> EncodeDdgInput(
    const privacy::DdgPlan& plan, uint64_t rotation_seed, absl::Span<const float> update,
    size_t model_length, double weight, const secagg::FixedPointParams& round,
    privacy::RandomDraws& draws, const std::optional<std::array<uint8_t, 32>>& rounding_key) {
  if (static_cast<int>(round.bits) != plan.bits) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the round sums in a ", round.bits,
        "-bit ring but the task's discrete "
        "Gaussian is planned for ",
        plan.bits, " bits: refusing to encode (the coordinator and the task disagree)"));
  }
  if (weight != 1.0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the discrete Gaussian takes every client with weight 1, this update has weight ", weight));
  }
  if (update.size() < model_length) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the update has ", update.size(), " values, fewer than the model's ", model_length));
  }
  std::vector<double> delta(update.begin(), update.begin() + model_length);
  absl::StatusOr<std::vector<uint64_t>> residues =
      privacy::EncodeDdgUpdate(delta, plan, rotation_seed, draws);
  std::fill(delta.begin(), delta.end(), 0.0);  // the clear update: wiped before it is freed
  if (!residues.ok()) return residues.status();
  TACIT_ASSIGN_OR_RETURN(
      std::vector<int64_t> rest,
      secagg::QuantizeWeighted(round, update.subspan(model_length), weight, rounding_key));
  std::vector<int64_t> encoded;
  encoded.reserve(residues->size() + rest.size());
  for (uint64_t r : *residues) encoded.push_back(secagg::FromModular(r, round.bits));
  encoded.insert(encoded.end(), rest.begin(), rest.end());
  return encoded;
}

secagg::InputEncoder DdgInputEncoder(privacy::DdgPlan plan, uint64_t rotation_seed,
                                     size_t model_length,
                                     std::optional<SeededForSimulation> seeded) {
  return [plan = std::move(plan), rotation_seed, model_length, seeded](
             const std::vector<float>& input, double weight,
             const secagg::FixedPointParams& round) -> absl::StatusOr<std::vector<int64_t>> {
    if (seeded) {
      TACIT_ASSIGN_OR_RETURN(
          privacy::SeededBitSourceForSimulation source,
          privacy::SeededBitSourceForSimulation::FromSeed(seeded->noise_seed, "ddg noise"));
      privacy::RandomDraws draws(source);
      return EncodeDdgInput(plan, rotation_seed, input, model_length, weight, round, draws,
                            seeded->rounding_key);
    }
    privacy::OsBitSource os;
    privacy::RandomDraws draws(os);
    return EncodeDdgInput(plan, rotation_seed, input, model_length, weight, round, draws);
  };
}

}  // namespace tacit
