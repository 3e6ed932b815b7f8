#include "simulations/mpi/shard_rank.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/examples/population_source.h"
#include "common/status_macros.h"
#include "coordinator/round/round_plan.h"
#include "secure_agg/server_messages.h"
#include "simulations/federation/simulated_laptops.h"
#include "simulations/federation/weighting.h"
#include "simulations/mpi/shard_layout.h"
#include "tacit/sim/v1/shard.pb.h"

namespace tacit::sim {
namespace {

// One shard's state across the commands of a simulation.
class Shard {
 public:
  Shard(MpiWorld& world, const ExperimentConfig& base, std::vector<uint64_t> seeds)
      : world_(world), base_(base), seeds_(std::move(seeds)) {
    if (seeds_.empty()) seeds_.push_back(base.seed);
  }

  // Carries out one command; `stop` is set by Shutdown.
  v1::Reply Handle(const v1::Command& command, bool& stop) {
    v1::Reply reply;
    absl::Status done = Dispatch(command, reply, stop);
    if (!done.ok()) {
      reply.Clear();
      reply.set_error(absl::StrCat("rank ", world_.rank(), ": ", done.message()));
    }
    return reply;
  }

 private:
  absl::Status Dispatch(const v1::Command& command, v1::Reply& reply, bool& stop) {
    switch (command.kind_case()) {
      case v1::Command::kBegin:
        return Begin(command.begin(), reply);
      case v1::Command::kTrain:
        return Train(command.train(), reply);
      case v1::Command::kOpen:
        return Open(command.open(), reply);
      case v1::Command::kPhase:
        return Phase(command.phase(), reply);
      case v1::Command::kClose: {
        TACIT_RETURN_IF_ERROR(RequireBegun());
        delivery_ = nullptr;
        TACIT_ASSIGN_OR_RETURN(EncoderTally tally, laptops_->CloseSecureRound());
        reply.mutable_closed()->set_encoded(tally.encoded);
        reply.mutable_closed()->set_clipped(tally.clipped);
        return absl::OkStatus();
      }
      case v1::Command::kFetch:
        return Fetch(command.fetch(), reply);
      case v1::Command::kEvaluate:
        return Evaluate(command.evaluate(), reply);
      case v1::Command::kEnd:
        Reset();
        reply.set_done(true);
        return absl::OkStatus();
      case v1::Command::kShutdown:
        stop = true;
        reply.set_done(true);
        return absl::OkStatus();
      case v1::Command::KIND_NOT_SET:
        break;
    }
    return absl::InvalidArgumentError("an empty or unknown command from rank 0");
  }

  // Forgets the simulation's laptops (the people stay loaded for the next).
  void Reset() {
    delivery_ = nullptr;
    laptops_.reset();
    participants_.clear();
  }

  absl::Status Begin(const v1::BeginSimulation& begin, v1::Reply& reply) {
    const uint64_t seed = begin.seed();
    Reset();
    if (std::find(seeds_.begin(), seeds_.end(), seed) == seeds_.end()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "rank 0 runs seed ", seed,
          ", which this rank was not given (its seeds: ", absl::StrJoin(seeds_, ","),
          "): start every rank with the same tacit-sim arguments and the same config file"));
    }
    config_ = base_;
    config_.seed = seed;
    config_.seeds.clear();  // rank 0 runs one replicate at a time
    config_.population.seed = seed;
    // Only this rank's people are read (a generated population reads
    // nobody: its people are generated when trained or scored). The
    // generator's people depend on the seed; a folder's do not.
    if (people_seed_ != seed || !people_) {
      TACIT_ASSIGN_OR_RETURN(people_, OpenPopulation(config_.population, nullptr,
                                                     OwnedBy(world_.rank(), world_.size())));
      people_seed_ = seed;
    }
    // The weighting as rank 0 resolved it: examples weighting without a
    // configured cap needs everyone's examples, and this rank holds only its own.
    if (config_.task.aggregation.weighting == Weighting::kExamples && !config_.max_weight_given) {
      config_.task.aggregation.max_weight = begin.max_weight();
    }
    config_.weighting_resolved = true;
    laptops_ = std::make_unique<LocalLaptops>(
        config_, *people_, PeopleOfRank(world_.rank(), world_.size(), people_->size()));
    TACIT_ASSIGN_OR_RETURN(*reply.mutable_digests(), DigestsOf(config_, *people_));
    return absl::OkStatus();
  }

  absl::Status RequireBegun() const {
    if (!laptops_) return absl::FailedPreconditionError("a command before BeginSimulation");
    return absl::OkStatus();
  }

  absl::Status Train(const v1::TrainOrder& order, v1::Reply& reply) {
    TACIT_RETURN_IF_ERROR(RequireBegun());
    participants_.clear();
    for (const v1::ShardParticipant& given : order.participants()) {
      if (OwnerRank(given.person(), world_.size()) != world_.rank()) {
        return absl::InvalidArgumentError(
            absl::StrCat("person ", given.person(), " is not this rank's"));
      }
      Participant p;
      p.person = given.person();
      p.client_id = given.client_id();
      p.drop_phase = given.drop_phase();
      p.straggler = given.straggler();
      participants_.push_back(std::move(p));
    }
    global_.assign(order.global_model().begin(), order.global_model().end());
    TACIT_RETURN_IF_ERROR(
        laptops_->Train(TrainingOrder{order.round(), order.round_id(), order.noise_stddev()},
                        global_, participants_));
    for (const Participant& p : participants_) {
      v1::TrainedParticipant* out = reply.mutable_trained()->add_participants();
      out->set_client_id(p.client_id);
      out->set_failure(p.failure);
      if (!p.update) continue;
      out->set_trained(true);
      out->set_weight(p.update->weight);
      out->set_norm_before_clip(p.update->norm_before_clip);
      out->set_clipped(p.update->clipped);
      out->set_train_loss(p.update->train_loss);
      out->set_steps(p.update->steps);
      out->set_examples(p.update->examples);
      out->set_train_seconds(p.update->train_seconds);
      TACIT_ASSIGN_OR_RETURN(auto signer, laptops_->IdentityOf(p.person));
      const secagg::Bytes& identity = signer->identity();
      out->set_identity(std::string(identity.begin(), identity.end()));
    }
    reply.mutable_trained()->set_blas(laptops_->TrainingBlas());
    return absl::OkStatus();
  }

  absl::Status Open(const v1::OpenSecureRound& open, v1::Reply& reply) {
    TACIT_RETURN_IF_ERROR(RequireBegun());
    for (const std::string& identity : open.identities()) {
      laptops_->Recognise(secagg::Bytes(identity.begin(), identity.end()));
    }
    // Every laptop plans the round from the cohort itself, as the fleet
    // client checks the plan it is given (the encoder needs it).
    TACIT_ASSIGN_OR_RETURN(
        coordinator::RoundPlan plan,
        coordinator::PlanRound(config_.task, open.round_id(),
                               std::vector<uint32_t>(open.cohort().begin(), open.cohort().end()),
                               global_.size()));
    TACIT_ASSIGN_OR_RETURN(delivery_, laptops_->OpenSecureRound(plan, participants_, nullptr));
    reply.set_done(true);
    return absl::OkStatus();
  }

  absl::Status Phase(const v1::PhaseMessages& phase, v1::Reply& reply) {
    TACIT_RETURN_IF_ERROR(RequireBegun());
    if (delivery_ == nullptr) return absl::FailedPreconditionError("no secure round is open");
    if (phase.phase() < 0 || phase.phase() >= secagg::kPhaseCount) {
      return absl::InvalidArgumentError(absl::StrCat("no phase ", phase.phase()));
    }
    // Held as they came, serialized; each client's is parsed when it handles it.
    secagg::ServerMessages messages;
    for (const auto& [id, bytes] : phase.serialized_messages()) messages.AddSerialized(id, bytes);
    auto* replies = reply.mutable_replies()->mutable_replies();
    return delivery_->Deliver(static_cast<secagg::Phase>(phase.phase()), messages,
                              [&](uint32_t id, const tacit::v1::SecAggClientToServer& message) {
                                (*replies)[id] = message;
                                return absl::OkStatus();
                              });
  }

  absl::Status Fetch(const v1::FetchUpdates& fetch, v1::Reply& reply) {
    TACIT_RETURN_IF_ERROR(RequireBegun());
    std::map<uint32_t, Participant*> by_id;
    for (Participant& p : participants_) by_id[p.client_id] = &p;
    v1::Updates* updates = reply.mutable_updates();
    for (uint32_t id : fetch.client_ids()) {
      auto found = by_id.find(id);
      if (found == by_id.end() || !found->second->update) {
        return absl::NotFoundError(absl::StrCat("client ", id, " has no update on this rank"));
      }
      v1::PlainUpdate* out = updates->add_updates();
      out->set_client_id(id);
      const std::vector<float>& values = found->second->update->update;
      out->mutable_values()->Assign(values.begin(), values.end());
    }
    return absl::OkStatus();
  }

  absl::Status Evaluate(const v1::EvaluateOrder& order, v1::Reply& reply) {
    TACIT_RETURN_IF_ERROR(RequireBegun());
    const std::vector<float> global(order.global_model().begin(), order.global_model().end());
    std::vector<size_t> owned;
    if (order.people().empty()) {
      owned = PeopleOfRank(world_.rank(), world_.size(), people_->size());
    } else {
      for (uint64_t person : order.people()) {
        if (person >= people_->size() || OwnerRank(person, world_.size()) != world_.rank()) {
          return absl::InvalidArgumentError(
              absl::StrCat("person ", person, " is not this rank's to score"));
        }
        owned.push_back(person);
      }
    }
    TACIT_ASSIGN_OR_RETURN(std::vector<EvalResult> results,
                           laptops_->EvaluateSample(global, owned));
    v1::Evaluations* out = reply.mutable_evaluations();
    for (size_t i = 0; i < owned.size(); ++i) {
      v1::PersonEvaluation* e = out->add_people();
      e->set_person(owned[i]);
      e->set_loss(results[i].loss);
      e->set_top1(results[i].top1);
      e->set_top3(results[i].top3);
      e->set_predictions(results[i].predictions);
    }
    return absl::OkStatus();
  }

  MpiWorld& world_;
  const ExperimentConfig& base_;
  std::vector<uint64_t> seeds_;  // the replicates this rank was started with
  ExperimentConfig config_;
  std::unique_ptr<Population> people_;  // this rank's people read; the others' ids
  uint64_t people_seed_ = 0;
  std::unique_ptr<LocalLaptops> laptops_;
  std::vector<Participant> participants_;  // this rank's of the open attempt
  std::vector<float> global_;              // the model they trained from
  secagg::Delivery* delivery_ = nullptr;   // the open secure round's
};

}  // namespace

int ServeShard(MpiWorld& world, const ExperimentConfig& config, std::vector<uint64_t> seeds) {
  Shard shard(world, config, std::move(seeds));
  for (bool stop = false; !stop;) {
    v1::Command command;
    if (absl::Status received = world.Receive(0, &command); !received.ok()) {
      std::fprintf(stderr, "tacit-sim rank %d: %s\n", world.rank(),
                   std::string(received.message()).c_str());
      return 1;
    }
    v1::Reply reply = shard.Handle(command, stop);
    if (absl::Status sent = world.Send(0, reply); !sent.ok()) {
      std::fprintf(stderr, "tacit-sim rank %d: %s\n", world.rank(),
                   std::string(sent.message()).c_str());
      return 1;
    }
  }
  return 0;
}

}  // namespace tacit::sim
