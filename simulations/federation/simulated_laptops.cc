#include "simulations/federation/simulated_laptops.h"

#include <numeric>
#include <utility>

#include "absl/strings/str_cat.h"
#include "client/federated/ddg_input.h"
#include "common/dp_noise.h"
#include "common/parallel_for.h"
#include "common/status_macros.h"
#include "models/training.h"
#include "simulations/federation/derived_seeds.h"
#include "task/ddg_task.h"

namespace tacit::sim {

secagg::InputEncoder LaptopEncoder(const ExperimentConfig& config,
                                   const coordinator::RoundPlan& plan, size_t person,
                                   std::shared_ptr<CompressionCounts> counts) {
  // The seeds the gRPC transport gives the fleet client (round_runner.h).
  const SeededForSimulation seeded{DeriveSeed(config.seed, plan.round_id, person, kNoiseSalt),
                                   DeriveKey(config.seed, plan.round_id, person, kRoundingSalt)};
  if (plan.ddg) {
    return DdgInputEncoder(*plan.ddg, DdgRotationSeed(plan.round_id), plan.model_length, seeded);
  }
  if (plan.compression) {
    return CompressedInputEncoder(*plan.compression, DdgRotationSeed(plan.round_id),
                                  plan.model_length, std::move(counts),
                                  SeededRounding{seeded.noise_seed, seeded.rounding_key});
  }
  return nullptr;
}

LocalLaptops::LocalLaptops(const ExperimentConfig& config, const Population& people,
                           std::vector<size_t> owned)
    : config_(config),
      people_(people),
      owned_(std::move(owned)),
      fleet_(std::make_shared<secagg::KnownKeysVerifier>()) {
  if (owned_.empty()) {
    owned_.resize(people_.size());
    std::iota(owned_.begin(), owned_.end(), size_t{0});
  }
}

LocalLaptops::~LocalLaptops() = default;

absl::Status LocalLaptops::Train(const TrainingOrder& order, const std::vector<float>& global,
                                 std::vector<Participant>& participants) {
  LocalUpdateTask task;
  task.model = config_.model;
  task.training = config_.training;
  task.clip_norm = config_.task.dp.clip_norm;
  task.noise_stddev = order.noise_stddev;
  task.weight_by_examples = config_.task.aggregation.weighting == Weighting::kExamples;
  task.max_weight = config_.task.aggregation.max_weight;
  task.evaluation = EvaluationEncodingOf(config_.task, config_.task.aggregation.max_weight);
  for (const Participant& p : participants) {
    if (p.person >= people_.size()) {
      return absl::InvalidArgumentError(absl::StrCat("person ", p.person, " is not among the ",
                                                     people_.size(), " people loaded"));
    }
  }
  // A new attempt: identities are per attempt, so an idle person holds none.
  identities_.clear();
  fleet_ = std::make_shared<secagg::KnownKeysVerifier>();
  ParallelFor(participants.size(), config_.workers, [&](size_t i) {
    Participant& p = participants[i];
    if (p.straggler) return;
    // The person's tokens exist while their laptop trains (generated now for
    // a generated population) and go when it is done.
    absl::StatusOr<std::shared_ptr<const PersonTokens>> person = people_.Materialize(p.person);
    if (!person.ok()) {
      p.failure = std::string(person.status().message());
      return;
    }
    LocalUpdateTask mine = task;
    mine.training.seed = DeriveSeed(config_.seed, order.round, p.person, kTrainingSalt);
    // Reproducible noise for the simulation; the fleet client seeds from the OS.
    auto noise =
        GaussianNoise::FromSeed(DeriveKey(config_.seed, order.round, p.person, kNoiseSalt));
    if (!noise.ok()) {
      p.failure = std::string(noise.status().message());
      return;
    }
    NoiseAdder add_noise = [&noise](absl::Span<float> values, double stddev) {
      noise->Add(values, stddev);
    };
    // Federated evaluation scores the person's test part, the same held-out
    // tokens the central evaluation uses.
    auto update = PrepareLocalUpdate(mine, global, **person, add_noise);
    if (update.ok()) {
      p.update = *std::move(update);
    } else {
      p.failure = std::string(update.status().message());
    }
  });
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<const secagg::Signer>> LocalLaptops::IdentityOf(size_t person) {
  auto found = identities_.find(person);
  if (found != identities_.end()) return found->second;
  TACIT_ASSIGN_OR_RETURN(std::shared_ptr<const secagg::Signer> signer,
                         secagg::Ed25519Signer::Generate());
  fleet_->Register(signer->identity());
  identities_.emplace(person, signer);
  return signer;
}

absl::StatusOr<secagg::Delivery*> LocalLaptops::OpenSecureRound(
    const coordinator::RoundPlan& plan, std::vector<Participant>& participants,
    std::function<void(secagg::Phase)> on_phase) {
  if (delivery_) return absl::FailedPreconditionError("a secure round is already open");
  std::map<uint32_t, std::unique_ptr<secagg::SecAggClient>> clients;
  counts_ = std::make_shared<CompressionCounts>();
  secagg::InProcessDelivery::Options options;
  options.workers = config_.workers;
  options.on_phase = std::move(on_phase);
  for (Participant& p : participants) {
    if (p.drop_phase >= 0) options.dropouts.dropped_before[p.drop_phase].insert(p.client_id);
    if (!p.update) continue;  // straggler or failed training: never answers
    secagg::ClientConfig client_config;
    client_config.client_id = p.client_id;
    client_config.rounding_key = DeriveKey(config_.seed, plan.round_id, p.person, kRoundingSalt);
    client_config.input_encoder = LaptopEncoder(config_, plan, p.person, counts_);
    TACIT_ASSIGN_OR_RETURN(client_config.signer, IdentityOf(p.person));
    client_config.verifier = fleet_;
    TACIT_ASSIGN_OR_RETURN(
        clients[p.client_id],
        secagg::SecAggClient::Create(client_config, std::move(p.update->update), p.update->weight));
    p.update->update.clear();
    p.update->update.shrink_to_fit();
  }
  delivery_ = std::make_unique<secagg::InProcessDelivery>(std::move(clients), std::move(options));
  return delivery_.get();
}

absl::StatusOr<EncoderTally> LocalLaptops::CloseSecureRound() {
  if (!delivery_) return absl::FailedPreconditionError("no secure round is open");
  delivery_->ReleaseClients();
  delivery_.reset();
  EncoderTally tally{counts_->encoded.load(), counts_->clipped.load()};
  counts_.reset();
  return tally;
}

absl::Status LocalLaptops::FetchUpdates(const std::vector<Participant*>& in_sum) {
  for (const Participant* p : in_sum) {
    if (!p->update) {
      return absl::InternalError(
          absl::StrCat("client ", p->client_id, " has no update to add to the sum"));
    }
  }
  return absl::OkStatus();  // already here
}

std::string LocalLaptops::TrainingBlas() const { return BlasDescription(); }

absl::StatusOr<std::vector<EvalResult>> LocalLaptops::Evaluate(const std::vector<float>& global) {
  return EvaluateSample(global, owned_);
}

absl::StatusOr<std::vector<EvalResult>> LocalLaptops::EvaluateSample(
    const std::vector<float>& global, const std::vector<size_t>& who) {
  std::vector<EvalResult> results(who.size());
  std::vector<absl::Status> errors(who.size());
  ParallelFor(who.size(), config_.workers, [&](size_t i) {
    if (who[i] >= people_.size()) {
      errors[i] = absl::InvalidArgumentError(absl::StrCat("no person ", who[i]));
      return;
    }
    absl::StatusOr<std::shared_ptr<const PersonTokens>> person = people_.Materialize(who[i]);
    if (!person.ok()) {
      errors[i] = person.status();
      return;
    }
    auto eval = ::tacit::Evaluate(config_.model, global, **person);
    if (eval.ok()) {
      results[i] = *eval;
    } else {
      errors[i] = eval.status();
    }
  });
  for (const auto& error : errors) TACIT_RETURN_IF_ERROR(error);
  return results;
}

}  // namespace tacit::sim
