#include "client/federated/ddg_input.h"

#include "client/federated/encoded_input.h"
#include "common/status_macros.h"
#include "privacy/ddg_encoding.h"

namespace tacit {

absl::StatusOr<std::vector<int64_t>> EncodeDdgInput(
    const privacy::DdgPlan& plan, uint64_t rotation_seed, absl::Span<const float> update,
    size_t model_length, double weight, const secagg::FixedPointParams& round,
    privacy::RandomDraws& draws, const std::optional<std::array<uint8_t, 32>>& rounding_key) {
  const ModelEncoder encode =
      [&](absl::Span<const double> delta) -> absl::StatusOr<std::vector<int64_t>> {
    TACIT_ASSIGN_OR_RETURN(std::vector<uint64_t> residues,
                           privacy::EncodeDdgUpdate(delta, plan, rotation_seed, draws));
    std::vector<int64_t> encoded;
    encoded.reserve(residues.size());
    for (uint64_t r : residues) encoded.push_back(secagg::FromModular(r, round.bits));
    return encoded;
  };
  return EncodeModelThenFixedPoint("discrete Gaussian", plan.bits, update, model_length, weight,
                                   round, encode, rounding_key);
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
