#pragma once

// Rank 0's view of the laptops of an MPI simulation: SimulatedLaptops whose
// people live on the shard ranks (shard_layout.h). Training orders go to the
// ranks that own the selected people and run there in parallel; the round's
// secure aggregation messages travel to those ranks' SecAgg clients through
// MpiDelivery, the same RoundDriver and the same replies in client-id order
// as in one process, so a seed gives the same numbers on 1 process and on N
// ranks. One ShardedLaptops per simulation: creating it starts the
// simulation on every shard and checks that all ranks resolved the same
// config and loaded the same data; destroying it ends the simulation there.

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "simulations/federation/simulated_laptops.h"
#include "simulations/mpi/mpi_world.h"
#include "tacit/sim/v1/shard.pb.h"

namespace tacit::sim {

class ShardedLaptops final : public SimulatedLaptops {
 public:
  // FailedPrecondition naming the rank whose config or data differ.
  static absl::StatusOr<std::unique_ptr<ShardedLaptops>> Begin(MpiWorld& world,
                                                               const ExperimentConfig& config,
                                                               const Population& people);
  ~ShardedLaptops() override;  // EndSimulation on every shard

  absl::Status Train(const TrainingOrder& order, const std::vector<float>& global,
                     std::vector<Participant>& participants) override;
  absl::StatusOr<secagg::Delivery*> OpenSecureRound(
      const coordinator::RoundPlan& plan, std::vector<Participant>& participants,
      std::function<void(secagg::Phase)> on_phase) override;
  absl::StatusOr<EncoderTally> CloseSecureRound() override;
  absl::Status FetchUpdates(const std::vector<Participant*>& in_sum) override;
  absl::StatusOr<std::vector<EvalResult>> Evaluate(const std::vector<float>& global) override;
  // Each person of `who` is scored on the rank that owns them.
  absl::StatusOr<std::vector<EvalResult>> EvaluateSample(const std::vector<float>& global,
                                                         const std::vector<size_t>& who) override;
  std::shared_ptr<const secagg::IdentityVerifier> fleet() const override { return fleet_; }
  // The last training shard rank's (rank 0 trains nobody; its own BLAS
  // threads are not the training's).
  std::string TrainingBlas() const override {
    return training_blas_.empty() ? "not reported: no shard rank trained" : training_blas_;
  }

 private:
  class MpiDelivery;
  ShardedLaptops(MpiWorld& world, size_t people);

  // Sends `commands` (by rank) and returns each rank's reply, all received
  // before any error is returned, so no reply is left waiting. An error names
  // the rank that failed.
  absl::StatusOr<std::map<int, v1::Reply>> Exchange(const std::map<int, v1::Command>& commands);
  // Scores `who` on their owning ranks, results in `who`'s order;
  // `name_people` false asks every rank for all it owns (who = everyone).
  absl::StatusOr<std::vector<EvalResult>> Score(const std::vector<float>& global,
                                                const std::vector<size_t>& who, bool name_people);

  MpiWorld& world_;
  size_t people_ = 0;
  // The open attempt's participants' identities only (renewed by Train), so
  // rank 0 keeps nothing per person between rounds.
  std::shared_ptr<secagg::KnownKeysVerifier> fleet_;
  std::map<uint32_t, int> rank_of_client_;      // the open attempt's participants
  std::map<uint32_t, std::string> identities_;  // of its trained participants
  std::string training_blas_;
  std::unique_ptr<MpiDelivery> delivery_;  // the open secure round's
};

// Tells every shard rank to exit (rank 0, at the end of the program).
void ShutDownShards(MpiWorld& world);

}  // namespace tacit::sim
