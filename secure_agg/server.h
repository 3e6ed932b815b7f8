#pragma once

// The server side of one secure aggregation round, as a state machine with one
// state class per phase (secure_agg/server/*_state.h):
//   NotStarted -> AdvertiseKeys -> ShareKeys -> MaskedInput -> ConsistencyCheck
//   -> Unmasking -> Completed
// (or Failed). HandleClientMessage() records one client's message for the
// current phase; the caller decides when a phase ends (everyone answered, or
// its deadline passed) and calls AdvancePhase(), which returns the messages to
// send to each surviving client, or the final result. Clients that did not
// answer a phase are dropped from the round. The server has no clock and no
// threads of its own except the parallel mask expansion while unmasking. Its
// methods may be called from several transport threads: they are serialised
// by an internal mutex (masked inputs are added to the sum one at a time).
// Its one random draw, the neighbour-graph seed, comes from ServerConfig::random.

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "secure_agg/fixed_point.h"
#include "secure_agg/phase.h"
#include "secure_agg/server_messages.h"
#include "tacit/v1/secagg.pb.h"

namespace tacit::secagg {

class RandomSource;      // secure_agg/randomness.h
class IdentityVerifier;  // secure_agg/identity.h
class ServerState;       // secure_agg/server/server_state.h
struct ServerRound;

enum class ServerPhase {
  kNotStarted,
  kAdvertiseKeys,
  kShareKeys,
  kMaskedInput,
  kConsistencyCheck,
  kUnmasking,
  kCompleted,
  kFailed,
};
// The protocol phase (secure_agg/phase.h) the server is collecting messages
// for; nullopt when not started, completed or failed.
std::optional<Phase> ProtocolPhaseOf(ServerPhase phase);
// PhaseName() of the protocol phase, else "not_started", "completed", "failed".
const char* ServerPhaseName(ServerPhase phase);

struct ServerConfig {
  uint64_t round_id = 0;
  std::vector<uint32_t> cohort_ids;  // distinct
  uint32_t threshold = 0;            // Shamir threshold t, >= 2
  uint32_t neighbors = 0;            // SecAgg+ degree k (even); 0 = complete graph
  uint32_t bits = 32;                // sums modulo 2^bits, 1..62
  double clip_bound = 1.0;
  double scale = 1 << 16;
  double max_weight = 1.0;
  // The smallest weight an honest client sends (uniform weighting: 1, as
  // max_weight; weighting by examples: 1). The decoded total weight must lie
  // in [survivors * min_weight, survivors * max_weight], or the round fails.
  double min_weight = 0.0;
  uint64_t vector_length = 0;
  // Leading coordinates that are not fixed point (an InputEncoder's, e.g. the
  // distributed discrete Gaussian's integers): the decoded sum's per-coordinate
  // bound (survivors * max_weight * clip_bound) is not checked on them; their
  // decoder checks what it can. The rest, and the weight, are checked as usual.
  uint64_t unchecked_prefix = 0;
  unsigned unmask_threads = 0;  // 0 = all cores
  // Source of the neighbour-graph seed. Null (the default) means OpenSSL
  // RAND_bytes; tests and simulations may inject a SeededRandomSourceForTesting.
  std::shared_ptr<RandomSource> random;
  // Optional (secure_agg/identity.h): when set, a client whose advertisement
  // carries no identity, an identity the verifier does not trust, a bad
  // signature, or an identity another client already advertised is dropped
  // in advertise_keys, as verifying clients would drop it, so an honest
  // server keeps every client's view of who is in the round the same. The
  // clients never rely on this check: they verify each other themselves.
  std::shared_ptr<const IdentityVerifier> verifier;
};

struct AggregationResult {
  std::vector<double> weighted_sum;    // sum of weight * clip(input), de-quantized
  double total_weight = 0;             // sum of weights, de-quantized
  std::vector<uint32_t> survivor_ids;  // clients whose input is in the sum
  std::vector<int64_t> quantized_sum;  // exact fixed-point sum, weight element last
};

struct PhaseOutcome {
  ServerMessages messages;                  // next message per client
  std::optional<AggregationResult> result;  // set when the round completed
};

class SecAggServer {
 public:
  // Validates the config, draws the neighbour graph and checks up front that the
  // cohort cannot wrap the sum (see no_wrap_report()).
  static absl::StatusOr<std::unique_ptr<SecAggServer>> Create(ServerConfig config);
  ~SecAggServer();
  SecAggServer(const SecAggServer&) = delete;
  SecAggServer& operator=(const SecAggServer&) = delete;

  // Records one client's message for the current phase. Masked inputs are
  // added to the running sum immediately. Errors (see secure_agg/protocol.h):
  // NotFound unknown client, FailedPrecondition out of phase or dropped,
  // AlreadyExists duplicate, Unauthenticated wrong session/round,
  // InvalidArgument malformed. A rejected message changes nothing.
  absl::Status HandleClientMessage(uint32_t client_id, const v1::SecAggClientToServer& message);

  // Ends the current phase. Returns Aborted (and the server is Failed) when fewer
  // than threshold clients survive, without revealing anything.
  absl::StatusOr<PhaseOutcome> AdvancePhase();

  ServerPhase phase() const;
  // Clients expected in the current phase that have not sent their message.
  std::vector<uint32_t> PendingClients() const;
  const NoWrapReport& no_wrap_report() const;
  // The client's neighbours in this round's graph (everyone else when complete).
  std::vector<uint32_t> NeighborsOf(uint32_t client_id) const;
  const ServerConfig& config() const;

 private:
  SecAggServer(std::shared_ptr<const ServerRound> round, std::unique_ptr<ServerState> state);
  std::shared_ptr<const ServerRound> round_;  // immutable: read without the lock
  mutable std::mutex mu_;                     // serialises the calls that touch state_
  std::unique_ptr<ServerState> state_;
};

}  // namespace tacit::secagg
