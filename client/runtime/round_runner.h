#pragma once

// One assigned round on the laptop: fetch the model if stale, train on the
// local store's data under the CPU/time budget (PrepareLocalUpdate: clip and
// DP noise share), run the secure aggregation client over NextMessage /
// Submit, then wait for the round's result. Only secure aggregation messages
// leave the device; the returned AuditEntry lists each of them and counts
// every call of the round (audit_log.h). The owner's participation policy
// (participation_policy.h) is checked against the task and the noise share
// before anything is downloaded, and against the round's secure aggregation
// parameters before the first key is sent; a refusal is an entry whose
// outcome is "refused: <why>". The update is noised with this laptop's own
// share, never less. The privacy ledger (privacy_ledger.h) is consulted with
// the policy (damaged ledger, budget, random check-in coin: privacy_budget.h,
// random_check_in.h), and the round is recorded in it, fsync'ed, before the
// masked update is sent. The owner's pause (client/control_state.h) is read
// before every call that sends and between training and masking: a paused
// round ends there, outcome "paused: <why>", and nothing more of it leaves.

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "client/federated/local_update.h"
#include "client/runtime/audit_log.h"
#include "client/runtime/participation_policy.h"
#include "common/token_stream.h"
#include "secure_agg/client.h"
#include "secure_agg/identity.h"
#include "tacit/v1/federation.grpc.pb.h"
#include "task/task_config.h"

namespace tacit::runtime {

struct RoundRunnerOptions {
  std::string dir;               // the client's folder (store, model, audit log)
  std::string device_id;         // the person id of the store's events
  int threads = 1;               // training threads (the CPU budget)
  double max_train_seconds = 0;  // 0: the task's training.max_seconds
  // Model bytes one assignment may download (0: no limit): a partial download is
  // kept and continues at the next assignment (model_cache.h).
  int64_t max_download_bytes = 0;
  ParticipationPolicy policy;  // the owner's floors (participation_policy.json)
  // Signs this device's advertised keys and checks its neighbours' (secure_agg/
  // identity.h). Unset (the fleet client): LoadFleetIdentity(dir), the device
  // key's SecAgg credential and the fleet CA.
  std::shared_ptr<const secagg::Signer> signer;
  std::shared_ptr<const secagg::IdentityVerifier> verifier;
  // Progress, for the status file: "downloading", "training", then per step
  // "trained, waiting for advertise_keys", "sent advertise_keys, waiting for
  // share_keys", ..., "awaiting result".
  std::function<void(const std::string& progress)> on_phase;

  // Simulation only (tacit-sim's gRPC transport runs simulated people through
  // this same code); the fleet client leaves them unset.
  const PersonTokens* tokens = nullptr;  // train on .train and evaluate on .test, not the store
  // The fleet client flips its random check-in coin (random_check_in.h); the
  // simulator draws its own selection and sets this false (its ledger then
  // accounts each participation with q = 1).
  bool enforce_random_check_in = true;
  std::optional<uint64_t> training_seed;              // else derived from the session
  std::optional<std::array<uint8_t, 32>> noise_seed;  // seeded DP noise, else OS entropy
  // Seeded discrete Gaussian noise, or rotated quantization's rounding (with
  // rounding_key); simulations only.
  std::optional<uint64_t> ddg_noise_seed;
  std::optional<std::array<uint8_t, 32>> rounding_key;  // seeded stochastic rounding
  // Stop talking right after receiving this step's message, as a laptop
  // that lost its network would; the coordinator's deadline drops it. -1: never.
  int leave_after_step = -1;
  std::function<void(const PreparedUpdate&)> on_trained;  // e.g. training time and loss
  // Tests: makes the secure aggregation client; unset, secagg::SecAggClient::Create.
  std::function<absl::StatusOr<std::unique_ptr<secagg::SecAggClient>>(
      secagg::ClientConfig config, std::vector<float> input, double weight)>
      make_secagg_client;
};

// The assignment's task, checked with the task file's key and range rules
// (TaskFromProto). InvalidArgument naming the offending key otherwise: the
// client refuses the round rather than train on values it cannot trust.
absl::StatusOr<TaskConfig> AssignedTask(const v1::Assignment& assignment);

// The fleet client's SecAgg identity from the enrollment in `dir`
// (enrollment.h): a CredentialSigner (the device key and its credential)
// and a CredentialVerifier (the fleet CA). FailedPrecondition saying to
// re-issue the device when the enrollment predates credentials.
struct FleetIdentity {
  std::shared_ptr<const secagg::Signer> signer;
  std::shared_ptr<const secagg::IdentityVerifier> verifier;
};
absl::StatusOr<FleetIdentity> LoadFleetIdentity(const std::string& dir);

// The audit entry of the round. Errors only for an invalid task, before any
// call; a refusal, a local failure (e.g. too little data, a secure
// aggregation client that cannot start), a lost connection or a round the
// client left is an entry whose outcome says so, with every call made
// counted: once a call was made, any error ends the round as "left: <error>".
absl::StatusOr<AuditEntry> RunAssignedRound(v1::Federation::Stub& stub,
                                            const v1::Assignment& assignment,
                                            const RoundRunnerOptions& options);

}  // namespace tacit::runtime
