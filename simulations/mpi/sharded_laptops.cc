#include "simulations/mpi/sharded_laptops.h"

#include <cstdio>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "secure_agg/server_messages.h"
#include "simulations/mpi/shard_layout.h"

namespace tacit::sim {

// The round's messages to the clients on the shard ranks and their replies,
// handed to the driver in client-id order as InProcessDelivery does.
class ShardedLaptops::MpiDelivery final : public secagg::Delivery {
 public:
  MpiDelivery(ShardedLaptops& laptops, std::function<void(secagg::Phase)> on_phase)
      : laptops_(laptops), on_phase_(std::move(on_phase)) {}

  absl::Status Deliver(secagg::Phase phase, const secagg::ServerMessages& messages,
                       const ReplySink& reply) override {
    if (on_phase_) on_phase_(phase);
    std::map<int, v1::Command> commands;
    for (uint32_t id : messages.recipients()) {
      auto rank = laptops_.rank_of_client_.find(id);
      if (rank == laptops_.rank_of_client_.end()) continue;  // never trained: never answers
      v1::PhaseMessages* out = commands[rank->second].mutable_phase();
      out->set_phase(secagg::PhaseIndex(phase));
      TACIT_ASSIGN_OR_RETURN((*out->mutable_serialized_messages())[id], messages.Serialized(id));
    }
    TACIT_ASSIGN_OR_RETURN(auto replies, laptops_.Exchange(commands));
    std::map<uint32_t, const tacit::v1::SecAggClientToServer*> ordered;
    for (const auto& [rank, answer] : replies) {
      for (const auto& [id, message] : answer.replies().replies()) {
        if (laptops_.rank_of_client_.count(id) == 0 || laptops_.rank_of_client_.at(id) != rank) {
          return absl::InternalError(
              absl::StrCat("rank ", rank, " answered for client ", id, ", not one of its own"));
        }
        ordered[id] = &message;
      }
    }
    for (const auto& [id, message] : ordered) {
      absl::Status accepted = reply(id, *message);
      if (!accepted.ok()) {
        return absl::Status(accepted.code(), absl::StrCat("the server rejected client ", id, "'s ",
                                                          secagg::PhaseName(phase),
                                                          " reply (a bug): ", accepted.message()));
      }
    }
    return absl::OkStatus();
  }

 private:
  ShardedLaptops& laptops_;
  std::function<void(secagg::Phase)> on_phase_;
};

ShardedLaptops::ShardedLaptops(MpiWorld& world, size_t people)
    : world_(world), people_(people), fleet_(std::make_shared<secagg::KnownKeysVerifier>()) {}

absl::StatusOr<std::unique_ptr<ShardedLaptops>> ShardedLaptops::Begin(
    MpiWorld& world, const ExperimentConfig& config, const Population& people) {
  if (world.rank() != 0 || world.size() < 2) {
    return absl::FailedPreconditionError("sharded laptops need rank 0 of at least 2 ranks");
  }
  if (config.transport != "in_process") {
    return absl::InvalidArgumentError(
        "under mpirun the ranks are the transport: use simulation.transport \"in_process\" (the "
        "gRPC transport runs on one machine, without mpirun)");
  }
  TACIT_ASSIGN_OR_RETURN(v1::Digests ours, DigestsOf(config, people));
  std::unique_ptr<ShardedLaptops> laptops(new ShardedLaptops(world, people.size()));
  std::map<int, v1::Command> begin;
  for (int rank = 1; rank < world.size(); ++rank) {
    begin[rank].mutable_begin()->set_seed(config.seed);
    begin[rank].mutable_begin()->set_max_weight(config.task.aggregation.max_weight);
  }
  TACIT_ASSIGN_OR_RETURN(auto replies, laptops->Exchange(begin));
  for (const auto& [rank, reply] : replies) {
    TACIT_RETURN_IF_ERROR(CheckSameRun(rank, ours, reply.digests()));
  }
  return laptops;
}

ShardedLaptops::~ShardedLaptops() {
  delivery_.reset();
  std::map<int, v1::Command> end;
  for (int rank = 1; rank < world_.size(); ++rank) end[rank].mutable_end();
  if (auto ended = Exchange(end); !ended.ok()) {
    std::fprintf(stderr, "tacit-sim: ending the simulation on the shard ranks: %s\n",
                 std::string(ended.status().message()).c_str());
  }
}

absl::StatusOr<std::map<int, v1::Reply>> ShardedLaptops::Exchange(
    const std::map<int, v1::Command>& commands) {
  absl::Status first_error;
  std::map<int, bool> sent;
  for (const auto& [rank, command] : commands) {
    absl::Status status = world_.Send(rank, command);
    sent[rank] = status.ok();
    if (!status.ok() && first_error.ok()) first_error = status;
  }
  std::map<int, v1::Reply> replies;
  for (const auto& [rank, ok] : sent) {
    if (!ok) continue;
    v1::Reply reply;
    absl::Status status = world_.Receive(rank, &reply);
    if (status.ok() && !reply.error().empty()) status = absl::InternalError(reply.error());
    if (!status.ok() && first_error.ok()) first_error = status;
    replies[rank] = std::move(reply);
  }
  if (!first_error.ok()) return first_error;
  return replies;
}

absl::Status ShardedLaptops::Train(const TrainingOrder& order, const std::vector<float>& global,
                                   std::vector<Participant>& participants) {
  std::map<int, v1::Command> commands;
  std::map<uint32_t, Participant*> by_id;
  rank_of_client_.clear();
  fleet_ = std::make_shared<secagg::KnownKeysVerifier>();  // this attempt's identities
  for (Participant& p : participants) {
    if (p.person >= people_) {
      return absl::InvalidArgumentError(absl::StrCat("no person ", p.person));
    }
    const int rank = OwnerRank(p.person, world_.size());
    v1::TrainOrder* train = commands[rank].mutable_train();
    v1::ShardParticipant* out = train->add_participants();
    out->set_person(p.person);
    out->set_client_id(p.client_id);
    out->set_drop_phase(p.drop_phase);
    out->set_straggler(p.straggler);
    by_id[p.client_id] = &p;
    rank_of_client_[p.client_id] = rank;
  }
  for (auto& [rank, command] : commands) {
    v1::TrainOrder* train = command.mutable_train();
    train->set_round(order.round);
    train->set_round_id(order.round_id);
    train->set_noise_stddev(order.noise_stddev);
    // What every laptop downloads: the global model.
    train->mutable_global_model()->Assign(global.begin(), global.end());
  }
  TACIT_ASSIGN_OR_RETURN(auto replies, Exchange(commands));
  for (const auto& [rank, reply] : replies) {
    if (!reply.trained().blas().empty()) training_blas_ = reply.trained().blas();
    for (const v1::TrainedParticipant& trained : reply.trained().participants()) {
      auto found = by_id.find(trained.client_id());
      if (found == by_id.end() || rank_of_client_[trained.client_id()] != rank) {
        return absl::InternalError(
            absl::StrCat("rank ", rank, " trained client ", trained.client_id(), ", not its own"));
      }
      Participant& p = *found->second;
      p.failure = trained.failure();
      if (!trained.trained()) continue;
      PreparedUpdate figures;  // the vector stays on the owning rank
      figures.weight = trained.weight();
      figures.norm_before_clip = trained.norm_before_clip();
      figures.clipped = trained.clipped();
      figures.train_loss = trained.train_loss();
      figures.steps = trained.steps();
      figures.examples = trained.examples();
      figures.train_seconds = trained.train_seconds();
      p.update = std::move(figures);
      fleet_->Register(secagg::Bytes(trained.identity().begin(), trained.identity().end()));
      identities_[p.client_id] = trained.identity();
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<secagg::Delivery*> ShardedLaptops::OpenSecureRound(
    const coordinator::RoundPlan& plan, std::vector<Participant>& participants,
    std::function<void(secagg::Phase)> on_phase) {
  if (delivery_) return absl::FailedPreconditionError("a secure round is already open");
  v1::OpenSecureRound open;
  open.set_round_id(plan.round_id);
  open.mutable_cohort()->Assign(plan.cohort.begin(), plan.cohort.end());
  for (const Participant& p : participants) {
    auto identity = identities_.find(p.client_id);
    if (p.update && identity != identities_.end()) open.add_identities(identity->second);
  }
  std::map<int, v1::Command> commands;
  for (const auto& [id, rank] : rank_of_client_) *commands[rank].mutable_open() = open;
  TACIT_RETURN_IF_ERROR(Exchange(commands).status());
  delivery_ = std::make_unique<MpiDelivery>(*this, std::move(on_phase));
  return delivery_.get();
}

absl::StatusOr<EncoderTally> ShardedLaptops::CloseSecureRound() {
  if (!delivery_) return absl::FailedPreconditionError("no secure round is open");
  delivery_.reset();
  std::map<int, v1::Command> commands;
  for (const auto& [id, rank] : rank_of_client_) commands[rank].mutable_close();
  TACIT_ASSIGN_OR_RETURN(auto replies, Exchange(commands));
  EncoderTally tally;
  for (const auto& [rank, reply] : replies) {
    tally.encoded += reply.closed().encoded();
    tally.clipped += reply.closed().clipped();
  }
  identities_.clear();
  return tally;
}

absl::Status ShardedLaptops::FetchUpdates(const std::vector<Participant*>& in_sum) {
  std::map<int, v1::Command> commands;
  std::map<uint32_t, Participant*> by_id;
  for (Participant* p : in_sum) {
    auto rank = rank_of_client_.find(p->client_id);
    if (rank == rank_of_client_.end() || !p->update) {
      return absl::InternalError(
          absl::StrCat("client ", p->client_id, " has no update to add to the sum"));
    }
    commands[rank->second].mutable_fetch()->add_client_ids(p->client_id);
    by_id[p->client_id] = p;
  }
  TACIT_ASSIGN_OR_RETURN(auto replies, Exchange(commands));
  size_t received = 0;
  for (const auto& [rank, reply] : replies) {
    for (const v1::PlainUpdate& update : reply.updates().updates()) {
      auto found = by_id.find(update.client_id());
      if (found == by_id.end()) {
        return absl::InternalError(absl::StrCat("rank ", rank, " sent client ", update.client_id(),
                                                "'s update, not asked for"));
      }
      found->second->update->update.assign(update.values().begin(), update.values().end());
      ++received;
    }
  }
  if (received != in_sum.size()) {
    return absl::InternalError(
        absl::StrCat(received, " of ", in_sum.size(), " plain updates arrived"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<EvalResult>> ShardedLaptops::Evaluate(const std::vector<float>& global) {
  std::vector<size_t> everyone(people_);
  for (size_t i = 0; i < people_; ++i) everyone[i] = i;
  return Score(global, everyone, /*name_people=*/false);
}

absl::StatusOr<std::vector<EvalResult>> ShardedLaptops::EvaluateSample(
    const std::vector<float>& global, const std::vector<size_t>& who) {
  return Score(global, who, /*name_people=*/true);
}

absl::StatusOr<std::vector<EvalResult>> ShardedLaptops::Score(const std::vector<float>& global,
                                                              const std::vector<size_t>& who,
                                                              bool name_people) {
  std::map<size_t, size_t> slot;  // person -> position in `who`
  std::map<int, v1::Command> commands;
  for (size_t i = 0; i < who.size(); ++i) {
    if (who[i] >= people_ || !slot.emplace(who[i], i).second) {
      return absl::InvalidArgumentError(absl::StrCat("cannot score person ", who[i], " of ",
                                                     people_, " (out of range or twice)"));
    }
    v1::EvaluateOrder* order = commands[OwnerRank(who[i], world_.size())].mutable_evaluate();
    if (name_people) order->add_people(who[i]);
  }
  if (!name_people) {  // everyone: every shard scores all it owns
    for (int rank = 1; rank < world_.size(); ++rank) commands[rank].mutable_evaluate();
  }
  for (auto& [rank, command] : commands) {
    command.mutable_evaluate()->mutable_global_model()->Assign(global.begin(), global.end());
  }
  TACIT_ASSIGN_OR_RETURN(auto replies, Exchange(commands));
  std::vector<EvalResult> results(who.size());
  std::vector<bool> scored(who.size(), false);
  for (const auto& [rank, reply] : replies) {
    for (const v1::PersonEvaluation& e : reply.evaluations().people()) {
      auto found = slot.find(e.person());
      if (found == slot.end() || scored[found->second] ||
          OwnerRank(e.person(), world_.size()) != rank) {
        return absl::InternalError(
            absl::StrCat("rank ", rank, " scored person ", e.person(), ", not one asked of it"));
      }
      results[found->second] = EvalResult{e.loss(), e.top1(), e.top3(), e.predictions()};
      scored[found->second] = true;
    }
  }
  for (size_t i = 0; i < who.size(); ++i) {
    if (!scored[i]) return absl::InternalError(absl::StrCat("nobody scored person ", who[i]));
  }
  return results;
}

void ShutDownShards(MpiWorld& world) {
  for (int rank = 1; rank < world.size(); ++rank) {
    v1::Command shutdown;
    shutdown.mutable_shutdown();
    v1::Reply reply;
    if (absl::Status sent = world.Send(rank, shutdown); sent.ok()) {
      (void)world.Receive(rank, &reply);
    }
  }
}

}  // namespace tacit::sim
