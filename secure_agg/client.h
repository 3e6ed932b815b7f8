#pragma once

// The client side of one secure aggregation round, as a state machine with one
// state class per phase (secure_agg/client/*_state.h):
//   AwaitingRoundStart  -(SecAggRoundStart)->      sends SecAggAdvertiseKeys
//   AwaitingKeys        -(SecAggKeysBroadcast)->   sends SecAggShareKeys
//   AwaitingShares      -(SecAggSharesDelivery)->  sends SecAggMaskedInput
//   AwaitingConsistencyCheck -(SecAggConsistencyCheck)-> sends SecAggConsistencyResponse
//   AwaitingUnmasking   -(SecAggUnmaskingRequest)->sends SecAggUnmaskingResponse
//   Completed
// An out-of-phase message is rejected and changes nothing; any other error
// moves it to Aborted and the round is over for this client. It is
// transport-agnostic: feed it server messages, send back what it returns.
// Every random draw goes through ClientConfig::random (secure_agg/randomness.h).

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "secure_agg/phase.h"
#include "tacit/v1/secagg.pb.h"

namespace tacit::secagg {

class RandomSource;      // secure_agg/randomness.h
class Signer;            // secure_agg/identity.h
class IdentityVerifier;  // secure_agg/identity.h
class ClientState;       // secure_agg/client/client_state.h
struct ClientEnvironment;

enum class ClientPhase {
  kAwaitingRoundStart,        // will answer in the advertise_keys phase
  kAwaitingKeys,              // share_keys
  kAwaitingShares,            // masked_input
  kAwaitingConsistencyCheck,  // consistency_check
  kAwaitingUnmasking,         // unmasking
  kCompleted,
  kAborted,
};
// The protocol phase (secure_agg/phase.h) whose server message the client
// awaits; nullopt once it completed or aborted.
std::optional<Phase> ProtocolPhaseOf(ClientPhase phase);
// "awaiting <PhaseName>" (e.g. "awaiting share_keys"), "completed", "aborted".
const char* ClientPhaseName(ClientPhase phase);

// Supplies the input when masking starts, so a client can begin key agreement
// while still training and need not hold the vector longer than necessary.
using InputProvider = std::function<absl::StatusOr<std::vector<float>>()>;

struct FixedPointParams;  // secure_agg/fixed_point.h

// Replaces the fixed-point quantization (QuantizeWeighted) when set: turns the
// float input into the signed integers the client masks, vector_length + 1 of
// them (weight last), given the round's fixed-point parameters. Used for
// inputs whose encoding is not per-coordinate fixed point, e.g. the
// distributed discrete Gaussian (privacy/ddg_encoding.h), whose integers are
// summed modulo 2^bits like any other. The float input need not have
// vector_length values then; the encoder's output must.
using InputEncoder = std::function<absl::StatusOr<std::vector<int64_t>>(
    const std::vector<float>& input, double weight, const FixedPointParams& params)>;

struct ClientConfig {
  uint32_t client_id = 0;  // assigned by the server at selection
  // Refuse rounds whose threshold is not above this fraction of the client's
  // share holders. An active server that also controls z of them (colluders,
  // or devices it enrolled itself: it runs the CA) can tell some holders that
  // this client survived and the others that it dropped, and learn both its
  // self-mask seed and its masking key (so its raw input) whenever
  // 2t <= holders + z. Two thirds keeps that impossible while fewer than a
  // third of the holders are the server's (Bonawitz et al. 2017, Sec. 6).
  double min_threshold_fraction = 2.0 / 3.0;
  uint64_t max_vector_length = uint64_t{1} << 28;
  // Optional: encodes the input instead of QuantizeWeighted (see InputEncoder).
  InputEncoder input_encoder;
  // Optional: sees the signed fixed-point vector (weight last) the client
  // contributes, before masking; for audits and tests.
  std::function<void(const std::vector<int64_t>&)> on_quantized_input;
  // Simulations only: keys the stochastic-rounding generator so a simulated run
  // is reproducible. When unset the key is drawn from `random`.
  std::optional<std::array<uint8_t, 32>> rounding_key;
  // Where every random byte of the round comes from: key pairs, self-mask
  // seed, Shamir coefficients, GCM nonces, rounding key. Null (the default)
  // means OpenSSL RAND_bytes; tests and simulations may inject a
  // SeededRandomSourceForTesting. Never give a production client a seeded one.
  std::shared_ptr<RandomSource> random;
  // Identity signatures on advertised keys (secure_agg/identity.h). Fleet
  // clients always set both; the simulator sets them for every simulated
  // client. With `signer` the client signs its advertisement. With `verifier`
  // it drops every neighbour whose identity or signature fails (or is
  // missing: an unsigned neighbour is never accepted), and refuses a
  // broadcast in which two clients share one identity. Both unset: the round
  // runs unsigned (unit tests of other parts), and a server relaying the keys
  // could swap them.
  std::shared_ptr<const Signer> signer;
  std::shared_ptr<const IdentityVerifier> verifier;
};

class SecAggClient {
 public:
  static absl::StatusOr<std::unique_ptr<SecAggClient>> Create(ClientConfig config,
                                                              std::vector<float> input,
                                                              double weight);
  static absl::StatusOr<std::unique_ptr<SecAggClient>> CreateWithProvider(ClientConfig config,
                                                                          InputProvider input,
                                                                          double weight);
  ~SecAggClient();
  SecAggClient(const SecAggClient&) = delete;
  SecAggClient& operator=(const SecAggClient&) = delete;

  // Consumes the server's next message and returns the reply to send. Errors use
  // the codes listed in secure_agg/protocol.h.
  absl::StatusOr<v1::SecAggClientToServer> HandleServerMessage(
      const v1::SecAggServerToClient& message);

  ClientPhase phase() const;
  uint32_t id() const;

 private:
  explicit SecAggClient(std::shared_ptr<ClientEnvironment> env);
  std::shared_ptr<ClientEnvironment> env_;
  std::unique_ptr<ClientState> state_;
};

}  // namespace tacit::secagg
