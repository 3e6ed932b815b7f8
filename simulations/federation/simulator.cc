#include "simulations/federation/simulator.h"

#include <stdlib.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <memory>
#include <optional>
#include <random>
#include <set>

#include "absl/strings/str_cat.h"
#include "client/federated/compressed_input.h"
#include "common/parallel_for.h"
#include "common/status_macros.h"
#include "coordinator/round/global_model.h"
#include "coordinator/round/round_plan.h"
#include "coordinator/round/secure_round.h"
#include "models/evaluation.h"
#include "models/parameter_layout.h"
#include "secure_agg/fixed_point.h"
#include "secure_agg/phase.h"
#include "simulations/federation/derived_seeds.h"
#include "simulations/federation/grpc_federation.h"
#include "simulations/federation/weighting.h"

namespace tacit::sim {
namespace {

using Clock = std::chrono::steady_clock;
double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

class Simulation {
 public:
  Simulation(const ExperimentConfig& config, const Population& people, const SimulationHooks& hooks,
             coordinator::GlobalModel model, std::unique_ptr<GrpcFederation> grpc)
      : config_(config),
        people_(people),
        hooks_(hooks),
        model_(std::move(model)),
        grpc_(std::move(grpc)),
        behaviour_rng_(DeriveSeed(config.seed, 0, 0, kBehaviourSalt)),
        evaluation_sample_(
            config.eval_people > 0
                ? EvaluationSample(DeriveSeed(config.seed, 0, 0, kEvaluationSampleSalt),
                                   people.size(), static_cast<size_t>(config.eval_people))
                : std::vector<size_t>()) {
    if (hooks.laptops == nullptr) local_ = std::make_unique<LocalLaptops>(config, people);
    laptops_ = hooks.laptops != nullptr ? hooks.laptops : local_.get();
  }

  // Rounds as the production coordinator runs them: an abandoned attempt is
  // retried with a new cohort until the round commits. Production retries
  // for ever; a simulation cannot, so a round still uncommitted after
  // max_attempts_per_round attempts stops the run with an error (never a
  // silently skipped round). Every attempt is recorded.
  absl::StatusOr<SimulationResult> Run() {
    SimulationResult result;
    double last_top1 = -1;
    for (int round = 1; round <= config_.task.rounds; ++round) {
      bool committed = false;
      for (int attempt = 1; attempt <= config_.max_attempts_per_round && !committed; ++attempt) {
        if (hooks_.progress) hooks_.progress->Update(round, "selecting", last_top1);
        TACIT_ASSIGN_OR_RETURN(RoundRecord record, RunRound(round, last_top1));
        committed = record.outcome == "committed";
        if (committed && (round % config_.eval_every == 0 || round == config_.task.rounds)) {
          if (hooks_.progress) hooks_.progress->Update(round, "evaluating", last_top1);
          TACIT_RETURN_IF_ERROR(EvaluateInto(record));
          last_top1 = record.evaluation->top1_pooled;
        }  // a round not evaluated keeps record.evaluation empty: nothing was measured
        if (hooks_.output) TACIT_RETURN_IF_ERROR(hooks_.output->Append(record));
        result.rounds.push_back(record);
      }
      if (!committed) {
        return absl::AbortedError(absl::StrCat(
            "round ", round, " did not commit in ", config_.max_attempts_per_round,
            " attempts (last: ", result.rounds.back().outcome,
            "); the coordinator would keep retrying. Raise simulation.max_attempts_per_round, "
            "or make rounds possible (fewer dropouts, a smaller cohort.min_survivors, more "
            "available people). Every attempt is in the run's rounds.csv"));
      }
    }
    if (grpc_) {
      result.final_parameters = grpc_->parameters();
      result.model_version = grpc_->model_version();
      result.epsilon = grpc_->epsilon();
    } else {
      result.final_parameters = model_.parameters();
      result.model_version = model_.version();
      result.epsilon = model_.epsilon();
    }
    // Only an evaluation of the final model stands for it.
    if (last_evaluated_version_ == result.model_version) {
      result.final_evaluation = std::move(last_evaluation_);
    }
    result.evaluation_sample = evaluation_sample_;
    return result;
  }

 private:
  absl::Status EvaluateInto(RoundRecord& record) {
    auto start = Clock::now();
    std::vector<float> served;  // the gRPC coordinator's model, copied out once
    if (grpc_) served = grpc_->parameters();
    const std::vector<float>& global = grpc_ ? served : model_.parameters();
    const bool sampled = !evaluation_sample_.empty();
    TACIT_ASSIGN_OR_RETURN(std::vector<EvalResult> per_person,
                           sampled ? laptops_->EvaluateSample(global, evaluation_sample_)
                                   : laptops_->Evaluate(global));
    const size_t expected = sampled ? evaluation_sample_.size() : people_.size();
    if (per_person.size() != expected) {
      return absl::InternalError(
          absl::StrCat("the laptops scored ", per_person.size(), " of ", expected, " people"));
    }
    PopulationEval eval = CombineEvaluations(std::move(per_person));
    record.evaluation = ModelEvaluation{eval.pooled.top1, eval.pooled.top3, eval.macro.top1,
                                        eval.macro.top3, eval.pooled.loss};
    last_evaluation_ = std::move(eval.per_person);
    last_evaluated_version_ = record.model_version;
    record.eval_seconds = SecondsSince(start);
    return absl::OkStatus();
  }

  // Eligibility, selection and behaviour draws, in a fixed order so that the
  // same seed selects and drops the same people with secure aggregation on or off.
  std::vector<Participant> Select(RoundRecord& record) {
    std::uniform_real_distribution<double> unit(0, 1);
    std::vector<size_t> eligible;
    for (size_t i = 0; i < people_.size(); ++i) {
      if (unit(behaviour_rng_) < config_.behaviour.availability) eligible.push_back(i);
    }
    if (config_.task.dp.sampling == DpSampling::kRandomCheckIn) {
      // Random check-ins: every eligible laptop flips its own coin with the
      // task's probability and only those that come up offer themselves, so
      // the privacy accounting may use q = p (task_config.h DpSampling). A
      // window with more offers than seats turns the rest away, as the
      // coordinator does; that only lowers anyone's chance of being in.
      const double p = config_.task.dp.check_in_probability;
      std::vector<size_t> offered;
      for (size_t person : eligible) {
        if (unit(behaviour_rng_) < p) offered.push_back(person);
      }
      eligible = std::move(offered);
    }
    record.eligible = static_cast<int>(eligible.size());
    size_t want = std::min<size_t>(config_.task.SelectedPerRound(), eligible.size());
    // Partial Fisher-Yates: the first `want` entries are a uniform sample.
    for (size_t i = 0; i < want; ++i) {
      std::uniform_int_distribution<size_t> pick(i, eligible.size() - 1);
      std::swap(eligible[i], eligible[pick(behaviour_rng_)]);
    }
    std::vector<Participant> participants(want);
    for (size_t i = 0; i < want; ++i) {
      Participant& p = participants[i];
      p.person = eligible[i];
      p.client_id = static_cast<uint32_t>(i + 1);
      p.straggler = unit(behaviour_rng_) < config_.behaviour.straggler_rate;
      for (int phase = 0; phase < secagg::kPhaseCount; ++phase) {
        // A phase nobody leaves draws nothing, so adding a protocol phase
        // (the consistency check) left every existing config's draws as
        // they were.
        if (config_.behaviour.dropout[phase] <= 0) continue;
        if (unit(behaviour_rng_) < config_.behaviour.dropout[phase]) {
          p.drop_phase = phase;
          break;
        }
      }
    }
    record.selected = static_cast<int>(want);
    return participants;
  }

  // Local training of every non-straggler, wherever its laptop lives.
  absl::Status Train(int round, uint64_t round_id, std::vector<Participant>& participants,
                     double noise_stddev, RoundRecord& record) {
    TACIT_RETURN_IF_ERROR(laptops_->Train(TrainingOrder{round, round_id, noise_stddev},
                                          model_.parameters(), participants));
    double loss_sum = 0, norm_sum = 0;
    int trained = 0;
    for (const Participant& p : participants) {
      if (p.straggler) ++record.stragglers;
      if (p.update) {
        record.train_seconds += p.update->train_seconds;
        loss_sum += p.update->train_loss;
        norm_sum += p.update->norm_before_clip;
        ++trained;
      }
    }
    if (trained > 0) {
      record.train_loss = loss_sum / trained;
      record.update_norm = norm_sum / trained;
    }
    return absl::OkStatus();
  }

  absl::StatusOr<RoundRecord> RunRound(int round, double last_top1) {
    auto start = Clock::now();
    RoundRecord record;
    record.round = round;
    std::vector<Participant> participants = Select(record);
    if (grpc_) {
      std::vector<SimulatedSeat> seats;
      for (const Participant& p : participants)
        seats.push_back({p.person, p.drop_phase, p.straggler});
      TACIT_RETURN_IF_ERROR(grpc_->RunRound(round, seats, record, [&](const std::string& phase) {
        if (hooks_.progress) hooks_.progress->Update(round, phase, last_top1);
      }));
      record.wall_seconds = SecondsSince(start);
      return record;
    }
    const int64_t model_bytes = static_cast<int64_t>(model_.parameters().size() * sizeof(float));

    std::vector<uint32_t> cohort;
    for (const auto& p : participants) cohort.push_back(p.client_id);
    // Numbered as the coordinator numbers attempts: only an attempt that opens
    // (a cohort it can plan for checked in) takes the next round id, which
    // keys the clients' stochastic rounding. An attempt abandoned before
    // check-in takes none, as over gRPC.
    auto plan =
        coordinator::PlanRound(config_.task, next_round_id_, cohort, model_.parameters().size());
    if (plan.ok()) ++next_round_id_;
    if (!plan.ok()) {
      record.outcome = absl::StrCat("abandoned: ", plan.status().message());
      record.model_version = static_cast<int>(model_.version());
      record.wall_seconds = SecondsSince(start);
      return record;
    }
    if (hooks_.progress) hooks_.progress->Update(round, "training", last_top1);
    record.bytes_down += model_bytes * static_cast<int64_t>(participants.size());
    auto train_start = Clock::now();
    TACIT_RETURN_IF_ERROR(Train(round, plan->round_id, participants, plan->noise_stddev, record));
    record.train_wall_seconds = SecondsSince(train_start);

    absl::StatusOr<coordinator::RoundAggregate> aggregate =
        config_.secure_aggregation
            ? AggregateSecurely(round, *plan, participants, record, last_top1)
            : AggregatePlainly(*plan, participants, record);
    if (aggregate.ok()) {
      TACIT_RETURN_IF_ERROR(
          model_.ApplyRound(aggregate->mean_update, static_cast<int>(participants.size())));
      record.outcome = "committed";
      record.participants = static_cast<int>(aggregate->survivors.size());
      if (aggregate->evaluation) {
        record.federated_evaluation =
            FederatedEvaluationJson(*aggregate->evaluation, model_.version() - 1);
      }
    } else if (aggregate.status().code() == absl::StatusCode::kAborted) {
      record.outcome = absl::StrCat("abandoned: ", aggregate.status().message());
    } else {
      return aggregate.status();  // a bug or misconfiguration, not client behaviour
    }
    record.model_version = static_cast<int>(model_.version());
    record.epsilon = model_.epsilon();
    record.wall_seconds = SecondsSince(start);
    return record;
  }

  // The production protocol with messages handed over in memory, through the
  // one round driver (secure_agg/round_driver.h) as the gRPC service uses it.
  // A client that vanishes in a phase simply stops answering, as on a real
  // network.
  absl::StatusOr<coordinator::RoundAggregate> AggregateSecurely(
      int round, const coordinator::RoundPlan& plan, std::vector<Participant>& participants,
      RoundRecord& record, double last_top1) {
    auto protocol_start = Clock::now();
    TACIT_ASSIGN_OR_RETURN(secagg::Delivery * delivery,
                           laptops_->OpenSecureRound(plan, participants, [&](secagg::Phase phase) {
                             if (hooks_.progress)
                               hooks_.progress->Update(round, secagg::PhaseName(phase), last_top1);
                           }));
    auto secure_round = coordinator::SecureRound::Create(plan, laptops_->fleet());
    absl::StatusOr<coordinator::RoundAggregate> aggregate =
        secure_round.ok() ? (*secure_round)->Run(*delivery) : secure_round.status();
    // The clients go whatever happened (as closed laptops free their state).
    TACIT_ASSIGN_OR_RETURN(EncoderTally tally, laptops_->CloseSecureRound());
    TACIT_RETURN_IF_ERROR(secure_round.status());
    record.dropouts_per_phase = (*secure_round)->dropouts_per_phase();
    CountCompression(tally, record);
    record.bytes_up += (*secure_round)->bytes_received();
    record.bytes_down += (*secure_round)->bytes_sent();
    // Server math runs on this thread; client math was spread over workers.
    record.secagg_seconds = SecondsSince(protocol_start);
    return aggregate;
  }

  static void CountCompression(const EncoderTally& tally, RoundRecord& record) {
    record.rotated_coordinates = tally.encoded;
    record.clipped_after_rotation = tally.clipped;
  }

  // Which phase a participant's input got to, counted in the record; true when
  // its input reached the sum (it answered in masked_input).
  static bool ReachedTheSum(const Participant& p, RoundRecord& record) {
    int phase_reached = p.update ? (p.drop_phase < 0 ? secagg::kPhaseCount : p.drop_phase) : 0;
    for (int phase = 0; phase < secagg::kPhaseCount; ++phase) {
      if (phase_reached == phase) ++record.dropouts_per_phase[phase];
    }
    return phase_reached > secagg::PhaseIndex(secagg::Phase::kMaskedInput);
  }

  // Secure aggregation off: the participants whose input reached the sum
  // (the phase each got to counted in the record), their updates brought here.
  absl::StatusOr<std::vector<Participant*>> PlainInputs(std::vector<Participant>& participants,
                                                        RoundRecord& record) {
    std::vector<Participant*> in_sum;
    for (Participant& p : participants) {
      if (ReachedTheSum(p, record)) in_sum.push_back(&p);  // the others never sent their input
    }
    TACIT_RETURN_IF_ERROR(laptops_->FetchUpdates(in_sum));  // what each sends unmasked
    return in_sum;
  }

  // Secure aggregation off with the discrete Gaussian or rotated
  // quantization: the same integer encodings, summed modulo 2^bits in the
  // clear (what the masked sum unmasks to), so a run is the same with secure
  // aggregation on or off.
  absl::StatusOr<coordinator::RoundAggregate> AggregateEncodedPlainly(
      const coordinator::RoundPlan& plan, std::vector<Participant>& participants,
      RoundRecord& record) {
    const secagg::FixedPointParams round{plan.bits, plan.clip_range, plan.scale, plan.max_weight};
    std::vector<uint64_t> sum(plan.vector_length + 1, 0);
    const uint64_t mask = (uint64_t{1} << plan.bits) - 1;
    std::vector<uint32_t> survivors;
    TACIT_ASSIGN_OR_RETURN(std::vector<Participant*> in_sum, PlainInputs(participants, record));
    // Encoding is the laptops' work (exact integer noise, about a microsecond
    // a coordinate): spread over the workers as their training was.
    std::vector<absl::StatusOr<std::vector<int64_t>>> encodings(in_sum.size());
    auto counts = std::make_shared<CompressionCounts>();
    ParallelFor(in_sum.size(), config_.workers, [&](size_t i) {
      const Participant& p = *in_sum[i];
      encodings[i] =
          LaptopEncoder(config_, plan, p.person, counts)(p.update->update, p.update->weight, round);
    });
    CountCompression(EncoderTally{counts->encoded.load(), counts->clipped.load()}, record);
    for (size_t k = 0; k < in_sum.size(); ++k) {
      TACIT_RETURN_IF_ERROR(encodings[k].status());
      const std::vector<int64_t>& encoded = *encodings[k];
      if (encoded.size() != sum.size()) {
        return absl::InternalError("the encoded input has the wrong length");
      }
      for (size_t i = 0; i < sum.size(); ++i) {
        sum[i] = (sum[i] + secagg::ToModular(encoded[i], plan.bits)) & mask;
      }
      survivors.push_back(in_sum[k]->client_id);
      // What the masked input would carry: bits per element, exactly packed.
      record.bytes_up += static_cast<int64_t>((encoded.size() * plan.bits + 7) / 8);
      in_sum[k]->update.reset();
      std::vector<int64_t>().swap(*encodings[k]);
    }
    secagg::AggregationResult result;
    result.quantized_sum.resize(sum.size());
    result.weighted_sum.resize(plan.vector_length);
    for (size_t i = 0; i < sum.size(); ++i) {
      result.quantized_sum[i] = secagg::FromModular(sum[i], plan.bits);
    }
    for (size_t i = 0; i < plan.vector_length; ++i) {
      result.weighted_sum[i] = static_cast<double>(result.quantized_sum[i]) / plan.scale;
    }
    result.total_weight = static_cast<double>(result.quantized_sum.back()) / plan.scale;
    result.survivor_ids = survivors;
    TACIT_ASSIGN_OR_RETURN(coordinator::DecodedSum decoded, coordinator::DecodeSum(plan, result));
    return coordinator::MakeRoundAggregate(plan, decoded.weighted_sum, decoded.total_weight,
                                           std::move(survivors));
  }

  // Secure aggregation off: the same survivors (inputs of clients that reached
  // the masked-input phase), the same per-coordinate clip, in floating point.
  absl::StatusOr<coordinator::RoundAggregate> AggregatePlainly(
      const coordinator::RoundPlan& plan, std::vector<Participant>& participants,
      RoundRecord& record) {
    if (plan.ddg || plan.compression) return AggregateEncodedPlainly(plan, participants, record);
    CountCompression(EncoderTally{}, record);  // measured: nothing is rotated
    const size_t length = plan.vector_length;
    std::vector<double> sum(length, 0.0);
    double total_weight = 0;
    std::vector<uint32_t> survivors;
    TACIT_ASSIGN_OR_RETURN(std::vector<Participant*> in_sum, PlainInputs(participants, record));
    for (Participant* in : in_sum) {
      Participant& p = *in;
      double weight = std::min(p.update->weight, plan.max_weight);
      for (size_t i = 0; i < length; ++i) {
        double v = std::clamp<double>(p.update->update[i], -plan.clip_range, plan.clip_range);
        sum[i] += weight * v;
      }
      total_weight += weight;
      survivors.push_back(p.client_id);
      record.bytes_up += static_cast<int64_t>(length * sizeof(float));
      p.update.reset();
    }
    return coordinator::MakeRoundAggregate(plan, sum, total_weight, std::move(survivors));
  }

  const ExperimentConfig& config_;
  const Population& people_;
  const SimulationHooks& hooks_;
  coordinator::GlobalModel model_;        // the in-process transport's global model
  std::unique_ptr<GrpcFederation> grpc_;  // the gRPC transport; null in-process
  std::mt19937_64 behaviour_rng_;
  const std::vector<size_t> evaluation_sample_;  // empty: everyone is scored
  uint64_t next_round_id_ = 1;                   // the in-process coordinator's next attempt id
  // The last evaluation, per person, and the model version it scored.
  std::vector<EvalResult> last_evaluation_;
  int64_t last_evaluated_version_ = -1;
  std::unique_ptr<LocalLaptops> local_;  // the laptops when the hooks give none
  SimulatedLaptops* laptops_ = nullptr;  // where the selected people train
};

}  // namespace

std::vector<size_t> EvaluationSample(uint64_t seed, size_t people, size_t count) {
  std::vector<size_t> sample;
  if (count == 0 || count >= people) {
    sample.resize(people);
    for (size_t i = 0; i < people; ++i) sample[i] = i;
    return sample;
  }
  // Floyd's algorithm: `count` distinct draws without an array of everyone.
  std::mt19937_64 rng(seed);
  std::set<size_t> chosen;
  for (size_t j = people - count; j < people; ++j) {
    const size_t t = std::uniform_int_distribution<size_t>(0, j)(rng);
    if (!chosen.insert(t).second) chosen.insert(j);
  }
  return std::vector<size_t>(chosen.begin(), chosen.end());
}

absl::StatusOr<SimulationResult> RunSimulation(const ExperimentConfig& config,
                                               const std::vector<PersonTokens>& people,
                                               const SimulationHooks& hooks) {
  return RunSimulation(config, *LoadedPopulation::View(people), hooks);
}

absl::StatusOr<SimulationResult> RunSimulation(const ExperimentConfig& given,
                                               const Population& people,
                                               const SimulationHooks& hooks) {
  if (people.size() == 0) return absl::InvalidArgumentError("the population has no people");
  // The one place that decides the weighting (weighting.h), whoever calls:
  // tacit-sim run (which resolved it already for config.json; resolving is
  // idempotent), benches and tests. Before, a caller that skipped it ran with
  // the task parser's default cap of 10000 examples. Resolved once: a
  // generated population's examples cost a generation pass.
  ExperimentConfig config = given;
  if (!config.weighting_resolved) TACIT_RETURN_IF_ERROR(ResolveWeighting(config, people).status());
  TACIT_ASSIGN_OR_RETURN(
      std::vector<float> initial,
      InitialParameters(config.model, DeriveSeed(config.seed, 0, 0, kInitialModelSalt)));
  TACIT_ASSIGN_OR_RETURN(coordinator::GlobalModel model,
                         coordinator::GlobalModel::Create(config.task, std::move(initial),
                                                          static_cast<int64_t>(people.size())));
  std::unique_ptr<GrpcFederation> grpc;
  std::vector<PersonTokens> fleet_people;  // the gRPC fleet's, everyone's tokens
  std::string temporary;                   // removed at the end when the caller gave no folder
  if (config.transport == "grpc") {
    std::string folder = hooks.grpc_folder;
    if (folder.empty()) {
      std::string pattern =
          (std::filesystem::temp_directory_path() / "tacit-sim-grpc-XXXXXX").string();
      if (::mkdtemp(pattern.data()) == nullptr) {
        return absl::PermissionDeniedError(
            absl::StrCat("cannot create a temporary folder for the gRPC transport at ", pattern,
                         "; set TMPDIR to a writable folder"));
      }
      folder = temporary = pattern;
    }
    // The gRPC fleet clients hold their people's tokens, as laptops do.
    TACIT_ASSIGN_OR_RETURN(fleet_people, MaterializeAll(people));
    TACIT_ASSIGN_OR_RETURN(grpc, GrpcFederation::Start(config, fleet_people, folder));
  }
  absl::StatusOr<SimulationResult> result;
  {
    Simulation simulation(config, people, hooks, std::move(model), std::move(grpc));
    result = simulation.Run();
  }  // the coordinator stops before its folder goes
  if (!temporary.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(temporary, ignored);
  }
  return result;
}

}  // namespace tacit::sim
