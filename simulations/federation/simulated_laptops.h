#pragma once

// The simulated laptops of a federation: each selected person's local
// training, the SecAgg clients of a round, and scoring the global model on
// each person's test part. The simulator (simulator.h) drives them the same
// way wherever they live: in this process (LocalLaptops below), or on the MPI
// ranks that own their people (simulations/mpi/sharded_laptops.h), whose
// ranks run a LocalLaptops over their own shard. Either way only what a real
// laptop sends reaches the coordinator's side: secure aggregation messages
// (or, with secure aggregation off, the plain update).

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "client/examples/population_source.h"
#include "client/federated/compressed_input.h"
#include "client/federated/local_update.h"
#include "common/token_stream.h"
#include "coordinator/round/round_plan.h"
#include "models/evaluation.h"
#include "secure_agg/client.h"
#include "secure_agg/identity.h"
#include "secure_agg/in_process_delivery.h"
#include "simulations/federation/experiment_config.h"

namespace tacit::sim {

// One selected client's round, in the simulator's memory only while it runs.
struct Participant {
  size_t person = 0;       // index into the population
  uint32_t client_id = 0;  // the id secure aggregation knows it by
  int drop_phase = -1;     // phase in which it vanishes; -1 = never
  bool straggler = false;
  // Set when training succeeded. On the coordinator's side of a sharded run
  // it carries the figures only: the vector stays on the owning rank until a
  // plain (secure aggregation off) round fetches it.
  std::optional<PreparedUpdate> update;
  std::string failure;  // why training failed, if it did
};

// What the coordinator tells the laptops it trains this round.
struct TrainingOrder {
  int round = 0;
  uint64_t round_id = 0;  // the attempt's id (keys rounding and DDG rotation)
  double noise_stddev = 0;
};

// What the encoders of a round's inputs counted (rotated quantization).
struct EncoderTally {
  int64_t encoded = 0;
  int64_t clipped = 0;
};

class SimulatedLaptops {
 public:
  virtual ~SimulatedLaptops() = default;

  // Trains every participant that is not a straggler from `global`; sets
  // p.update (with its weight and figures) or p.failure. An error is a
  // transport failure, not a laptop's.
  virtual absl::Status Train(const TrainingOrder& order, const std::vector<float>& global,
                             std::vector<Participant>& participants) = 0;

  // Secure aggregation on: creates the trained participants' SecAgg clients
  // for `plan` and returns the delivery that carries the round's messages to
  // them (valid until CloseSecureRound). A participant whose drop_phase is
  // set stops answering from that phase on.
  virtual absl::StatusOr<secagg::Delivery*> OpenSecureRound(
      const coordinator::RoundPlan& plan, std::vector<Participant>& participants,
      std::function<void(secagg::Phase)> on_phase) = 0;
  // Destroys the open round's clients; what their encoders counted.
  virtual absl::StatusOr<EncoderTally> CloseSecureRound() = 0;

  // Secure aggregation off: brings the update vectors of `in_sum` here.
  virtual absl::Status FetchUpdates(const std::vector<Participant*>& in_sum) = 0;

  // Scores `global` on every person's test part, in the population's order.
  virtual absl::StatusOr<std::vector<EvalResult>> Evaluate(const std::vector<float>& global) = 0;
  // Scores `global` on the test parts of `who` (indices into the
  // population), in that order: simulation.eval_people's sample.
  virtual absl::StatusOr<std::vector<EvalResult>> EvaluateSample(
      const std::vector<float>& global, const std::vector<size_t>& who) = 0;

  // The verifier that knows every identity a participant signed with so far:
  // the simulated fleet's CA, as the coordinator's server checks it.
  virtual std::shared_ptr<const secagg::IdentityVerifier> fleet() const = 0;

  // The BLAS the laptops trained with (models/training.h BlasDescription),
  // as the process that trained them reports it.
  virtual std::string TrainingBlas() const = 0;
};

// The encoder a laptop plugs into secure aggregation for `plan`: the discrete
// Gaussian's or rotated quantization's (with seeded rounding, so a run is
// reproducible), or none (fixed point). `counts` gathers rotated quantization's
// clipping.
secagg::InputEncoder LaptopEncoder(const ExperimentConfig& config,
                                   const coordinator::RoundPlan& plan, size_t person,
                                   std::shared_ptr<CompressionCounts> counts);

// The laptops of `people` (or of `owned` of them, on a shard rank) in this
// process: trained `config.workers` at a time. A person's tokens are
// materialised (generated, for a generated population) only while their
// laptop trains or is scored, and let go after.
class LocalLaptops final : public SimulatedLaptops {
 public:
  // `owned`: the people this process scores in Evaluate; empty = everyone.
  // `people` must outlive the laptops.
  LocalLaptops(const ExperimentConfig& config, const Population& people,
               std::vector<size_t> owned = {});
  ~LocalLaptops() override;

  absl::Status Train(const TrainingOrder& order, const std::vector<float>& global,
                     std::vector<Participant>& participants) override;
  absl::StatusOr<secagg::Delivery*> OpenSecureRound(
      const coordinator::RoundPlan& plan, std::vector<Participant>& participants,
      std::function<void(secagg::Phase)> on_phase) override;
  absl::StatusOr<EncoderTally> CloseSecureRound() override;
  absl::Status FetchUpdates(const std::vector<Participant*>& in_sum) override;
  absl::StatusOr<std::vector<EvalResult>> Evaluate(const std::vector<float>& global) override;
  absl::StatusOr<std::vector<EvalResult>> EvaluateSample(const std::vector<float>& global,
                                                         const std::vector<size_t>& who) override;
  std::shared_ptr<const secagg::IdentityVerifier> fleet() const override { return fleet_; }
  std::string TrainingBlas() const override;
  // A person's device identity (made on first use; the fleet learns it).
  absl::StatusOr<std::shared_ptr<const secagg::Signer>> IdentityOf(size_t person);
  // Identities of laptops elsewhere (other shards) this round's clients must
  // recognise.
  void Recognise(const secagg::Bytes& identity) { fleet_->Register(identity); }

 private:
  const ExperimentConfig& config_;
  const Population& people_;
  std::vector<size_t> owned_;
  // The open attempt's participants' device identities (made when first
  // needed in an attempt; Train starts afresh, so none outlive their round).
  std::map<size_t, std::shared_ptr<const secagg::Signer>> identities_;
  std::shared_ptr<secagg::KnownKeysVerifier> fleet_;
  std::shared_ptr<CompressionCounts> counts_;
  std::unique_ptr<secagg::InProcessDelivery> delivery_;  // the open round
};

}  // namespace tacit::sim
