#include "coordinator/round/privacy_projection.h"

#include "absl/strings/str_format.h"
#include "common/status_macros.h"
#include "coordinator/round/global_model.h"

namespace tacit::coordinator {

absl::StatusOr<PrivacyProjection> ProjectPrivacy(const TaskConfig& task) {
  PrivacyProjection p;
  p.rounds = task.rounds;
  p.delta = task.dp.delta;
  p.noise = task.dp.noise_multiplier > 0;
  TACIT_ASSIGN_OR_RETURN(p.epsilon, ProjectedEpsilon(task, task.rounds));
  return p;
}

std::string PrivacyProjection::Describe() const {
  if (!noise) {
    return "differential privacy: none (dp.noise_multiplier is 0): the global model carries no "
           "privacy guarantee\n  WARNING: no DP noise; set dp.noise_multiplier (see "
           "`tacit-coordinator privacy --target-epsilon`)\n";
  }
  std::string out = absl::StrFormat(
      "differential privacy: projected epsilon %.2f at delta %g after all %d rounds\n", epsilon,
      delta, rounds);
  if (epsilon > kLargeEpsilon) {
    absl::StrAppendFormat(&out,
                          "  WARNING: epsilon %.2f is large (above %g): the guarantee says "
                          "little about one person; raise dp.noise_multiplier, run fewer "
                          "rounds or use dp.sampling random_check_in (`tacit-coordinator privacy "
                          "--target-epsilon` solves for the noise)\n",
                          epsilon, kLargeEpsilon);
  }
  return out;
}

}  // namespace tacit::coordinator
