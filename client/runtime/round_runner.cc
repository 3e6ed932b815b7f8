#include "client/runtime/round_runner.h"

#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>

#include "absl/strings/str_cat.h"
#include "client/cli/cli_context.h"
#include "client/control_state.h"
#include "client/federated/compressed_input.h"
#include "client/federated/ddg_input.h"
#include "client/federated/local_update.h"
#include "client/runtime/check_in_jitter.h"
#include "client/runtime/enrollment.h"
#include "client/runtime/model_cache.h"
#include "client/runtime/participation_policy.h"
#include "client/runtime/privacy_budget.h"
#include "client/runtime/privacy_ledger.h"
#include "client/runtime/random_check_in.h"
#include "client/runtime/training_data.h"
#include "common/dp_noise.h"
#include "common/secure_random.h"
#include "common/status_macros.h"
#include "secure_agg/client.h"
#include "secure_agg/identity.h"
#include "secure_agg/phase.h"
#include "secure_agg/protocol.h"
#include "task/ddg_task.h"
#include "task/ring_bits.h"
#include "task/rotated_quantization.h"
#include "task/task_model.h"
#include "task/task_proto.h"

namespace tacit::runtime {
namespace {

using Clock = std::chrono::steady_clock;

std::unique_ptr<grpc::ClientContext> CallContext(double seconds) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() +
                        std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000)));
  return context;
}

absl::Status FromGrpc(const grpc::Status& status, const std::string& what) {
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      absl::StrCat(what, ": ", status.error_message()));
}

absl::StatusOr<TrainOptions> TrainingOf(const TaskConfig& task, const v1::Assignment& assignment,
                                        const RoundRunnerOptions& options) {
  TrainOptions t = TrainOptionsOfTask(task);
  // Leave a fifth of the download-and-train window for the download and
  // the first protocol message.
  double budget = std::min(task.training.max_seconds, 0.8 * assignment.train_seconds());
  if (options.max_train_seconds > 0) budget = std::min(budget, options.max_train_seconds);
  t.wall_clock_budget_s = budget;
  t.threads = std::max(1, options.threads);
  uint64_t seed = 0;
  for (char c : assignment.session()) seed = seed * 131 + static_cast<unsigned char>(c);
  t.seed = options.training_seed.value_or(seed);  // shuffling only; never near keys or masks
  TACIT_RETURN_IF_ERROR(t.Validate());
  return t;
}

// Trains and prepares the update secure aggregation masks.
absl::StatusOr<PreparedUpdate> Train(const TaskConfig& task, const ModelConfig& model_config,
                                     const ModelFile& model, const v1::Assignment& assignment,
                                     double noise_stddev, const RoundRunnerOptions& options) {
  PersonTokens stored;
  if (options.tokens == nullptr) {
    TACIT_ASSIGN_OR_RETURN(stored, LoadTrainingTokens(options.dir, options.device_id, task));
  }
  const PersonTokens& tokens = options.tokens != nullptr ? *options.tokens : stored;
  LocalUpdateTask update_task;
  update_task.model = model_config;
  TACIT_ASSIGN_OR_RETURN(update_task.training, TrainingOf(task, assignment, options));
  update_task.clip_norm = task.dp.clip_norm;
  update_task.noise_stddev = noise_stddev;
  // The task's weighting (the task file's rules were checked in AssignedTask).
  update_task.weight_by_examples = task.aggregation.weighting == Weighting::kExamples;
  update_task.max_weight = task.aggregation.max_weight;
  update_task.evaluation = EvaluationEncodingOf(task, task.aggregation.max_weight);
  // A continuous share only for continuous-Gaussian tasks; the discrete
  // Gaussian draws its noise when it encodes (ddg_input.h).
  std::optional<GaussianNoise> noise;
  NoiseAdder add_noise;
  if (noise_stddev > 0) {
    TACIT_ASSIGN_OR_RETURN(noise, options.noise_seed ? GaussianNoise::FromSeed(*options.noise_seed)
                                                     : GaussianNoise::FromOsEntropy());
    add_noise = [&noise](absl::Span<float> values, double stddev) { noise->Add(values, stddev); };
  }
  // Held out: tokens.test, the newest tokens, never trained on.
  return PrepareLocalUpdate(update_task, model.parameters, tokens, add_noise);
}

// The privacy ledger's say, before anything is downloaded: nothing damaged,
// the owner's budget not passed by this round, and with random check-ins the
// window's one coin (flipped now if the daemon did not flip it) and no round
// joined in the window yet. `*window` is the round's random check-in window.
absl::Status PrivacyAllows(const RoundRunnerOptions& options, const TaskConfig& task,
                           int64_t* window) {
  TACIT_ASSIGN_OR_RETURN(Ledger ledger, ReadLedger(options.dir));
  const int64_t now = cli::NowMs();
  *window = options.enforce_random_check_in ? CheckInWindow(task.dp, now) : -1;
  TACIT_RETURN_IF_ERROR(CheckPrivacyBudget(options.policy, ledger, task, *window));
  if (!options.enforce_random_check_in) return absl::OkStatus();
  TACIT_ASSIGN_OR_RETURN(CheckInDecision decision,
                         DecideCheckIn(options.dir, ledger, task, now, SecureUnitRandom));
  if (!decision.offer) return absl::FailedPreconditionError(decision.why);
  return absl::OkStatus();
}

// The owner's pause, read again before every call that sends something and
// between training and masking: `tacit-client pause` stops a round in flight
// at its next step. A control file that cannot be read counts as paused (the
// collector treats it the same way). Empty: not paused.
std::string PausedNow(const std::string& dir) {
  absl::StatusOr<ControlState> control = LoadControlState(dir);
  if (!control.ok()) return absl::StrCat("paused: ", control.status().message());
  if (control->training_paused)
    return "paused: training paused by the owner; nothing more is sent in this round";
  return "";
}

}  // namespace

absl::StatusOr<TaskConfig> AssignedTask(const v1::Assignment& assignment) {
  absl::StatusOr<TaskConfig> task = TaskFromProto(assignment.task());
  if (!task.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("refusing round ", assignment.round_number(), ": the coordinator's task is ",
                     "invalid (", task.status().message(), "); the coordinator must be fixed or ",
                     "updated, nothing was trained or sent"));
  }
  return task;
}

// The device signs with its pseudonymous SecAgg credential, never with its
// certificate: neighbours learn a key, not which colleague holds it.
absl::StatusOr<FleetIdentity> LoadFleetIdentity(const std::string& dir) {
  TACIT_ASSIGN_OR_RETURN(Enrollment enrollment, LoadEnrollment(dir));
  if (enrollment.credential.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "this enrollment has no SecAgg credential (", dir,
        "/fleet/secagg.cred; enrolled before credentials existed): ask the fleet operator to "
        "re-issue this device (`tacit-coordinator pki issue ",
        enrollment.device_id.empty() ? "DEVICE" : enrollment.device_id,
        " --replace`) and run `tacit-client enroll` again with the new .key, .crt and .cred"));
  }
  FleetIdentity identity;
  absl::StatusOr<std::unique_ptr<secagg::CredentialSigner>> signer =
      secagg::CredentialSigner::Create(enrollment.key_pem, secagg::AsBytes(enrollment.credential));
  // The key now lives in the signer only.
  Zeroize(absl::MakeSpan(reinterpret_cast<uint8_t*>(enrollment.key_pem.data()),
                         enrollment.key_pem.size()));
  if (!signer.ok()) return signer.status();
  identity.signer = *std::move(signer);
  TACIT_ASSIGN_OR_RETURN(identity.verifier, secagg::CredentialVerifier::FromPem(enrollment.ca_pem));
  return identity;
}

namespace {

// The round, its outcome and every call in `audit`. An error only when the
// round cannot go on; RunAssignedRound makes it the outcome once a call was
// made, so no call goes uncounted whatever ended the round.
absl::Status RunRound(v1::Federation::Stub& stub, const v1::Assignment& assignment,
                      const RoundRunnerOptions& options, AuditEntry& audit) {
  auto phase = [&](const std::string& name) {
    if (options.on_phase) options.on_phase(name);
  };
  audit.round = assignment.round_number();
  audit.round_id = assignment.round_id();
  audit.model_version = assignment.model_version();
  // Checked before anything is downloaded or trained: a task that breaks the
  // task file's rules (a broken or lying coordinator) is refused.
  TACIT_ASSIGN_OR_RETURN(TaskConfig task, AssignedTask(assignment));
  audit.task = task.name;
  audit.noise_multiplier = task.dp.noise_multiplier;
  TACIT_ASSIGN_OR_RETURN(ModelConfig model_config, ResolveTaskModel(task));
  // The owner's floors, which the coordinator cannot lower: checked before
  // anything is downloaded, trained or sent.
  absl::StatusOr<double> noise_stddev = OwnNoiseStddev(options.policy, task);
  absl::Status allowed =
      noise_stddev.ok() ? CheckTaskAgainstPolicy(options.policy, task) : noise_stddev.status();
  if (allowed.ok()) allowed = CheckAssignedNoise(*noise_stddev, assignment.noise_stddev());
  int64_t window = -1;
  if (allowed.ok()) allowed = PrivacyAllows(options, task, &window);
  if (!allowed.ok()) {
    audit.outcome = absl::StrCat("refused: ", allowed.message());
    return absl::OkStatus();
  }
  // Sets the outcome and says true when the owner has paused training.
  auto paused = [&audit, &options] {
    audit.outcome = PausedNow(options.dir);
    return !audit.outcome.empty();
  };
  phase("downloading");
  if (paused()) return absl::OkStatus();
  RpcBytes download;
  absl::StatusOr<ModelFile> model =
      FetchModel(stub, options.dir, assignment, options.max_download_bytes, &download);
  if (download.calls > 0) audit.rpc.by_rpc[kRpcDownloadModel] = download;
  if (!model.ok()) {
    audit.outcome = absl::StrCat("left: model download failed: ", model.status().message());
    return absl::OkStatus();
  }
  // The device signs its advertised keys with its SecAgg credential and
  // accepts only neighbours whose credentials the fleet CA signed
  // (secure_agg/identity.h):
  // the coordinator relays the keys and must not be able to swap them.
  std::shared_ptr<const secagg::Signer> signer = options.signer;
  std::shared_ptr<const secagg::IdentityVerifier> verifier = options.verifier;
  if (signer == nullptr || verifier == nullptr) {
    absl::StatusOr<FleetIdentity> loaded = LoadFleetIdentity(options.dir);
    if (!loaded.ok()) {
      audit.outcome =
          absl::StrCat("left: cannot sign secure aggregation keys: ", loaded.status().message());
      return absl::OkStatus();
    }
    signer = std::move(loaded->signer);
    verifier = std::move(loaded->verifier);
  }
  phase("training");
  // Never less noise than this laptop's own share; more, when the
  // coordinator's accounting asks for it, costs the laptop nothing. The
  // discrete Gaussian adds its noise when it encodes, planned here.
  const bool discrete = UsesDiscreteGaussian(task);
  const double noise_added = discrete ? 0.0 : std::max(*noise_stddev, assignment.noise_stddev());
  std::optional<privacy::DdgPlan> ddg;
  if (discrete) {
    // From the task alone (the task's survivor promise, which the policy
    // check above held to the owner's floor), never from the coordinator.
    absl::StatusOr<privacy::DdgPlan> planned = DdgPlanOfTask(
        task, task.cohort.min_survivors, static_cast<int64_t>(model->parameters.size()));
    if (!planned.ok()) {
      audit.outcome = absl::StrCat("refused: ", planned.status().message());
      return absl::OkStatus();
    }
    ddg = *std::move(planned);
  }
  absl::StatusOr<PreparedUpdate> trained =
      Train(task, model_config, *model, assignment, noise_added, options);
  if (!trained.ok()) {
    audit.outcome = absl::StrCat("left: training failed: ", trained.status().message());
    return absl::OkStatus();
  }
  PreparedUpdate update = *std::move(trained);
  if (options.on_trained) options.on_trained(update);
  if (paused()) return absl::OkStatus();
  secagg::ClientConfig client_config;
  client_config.client_id = assignment.client_id();
  client_config.rounding_key = options.rounding_key;
  if (task.secure_agg.compression.type == CompressionType::kRotatedQuantization) {
    // Planned from the task alone, like the discrete Gaussian; the ring the
    // coordinator announces is checked against it before the first key.
    absl::StatusOr<RotatedQuantizationPlan> compression =
        RotatedQuantizationPlanOfTask(task, static_cast<int64_t>(model->parameters.size()));
    if (!compression.ok()) {
      audit.outcome = absl::StrCat("refused: ", compression.status().message());
      return absl::OkStatus();
    }
    std::optional<SeededRounding> seeded;
    if (options.ddg_noise_seed) {
      seeded = SeededRounding{*options.ddg_noise_seed,
                              options.rounding_key.value_or(std::array<uint8_t, 32>{})};
    }
    client_config.input_encoder =
        CompressedInputEncoder(*std::move(compression), DdgRotationSeed(assignment.round_id()),
                               model->parameters.size(), nullptr, seeded);
  }
  if (ddg) {
    std::optional<SeededForSimulation> seeded;
    if (options.ddg_noise_seed) {
      seeded = SeededForSimulation{*options.ddg_noise_seed,
                                   options.rounding_key.value_or(std::array<uint8_t, 32>{})};
    }
    client_config.input_encoder = DdgInputEncoder(*ddg, DdgRotationSeed(assignment.round_id()),
                                                  model->parameters.size(), seeded);
  }
  client_config.signer = std::move(signer);
  client_config.verifier = std::move(verifier);
  absl::StatusOr<std::unique_ptr<secagg::SecAggClient>> created =
      options.make_secagg_client
          ? options.make_secagg_client(std::move(client_config), std::move(update.update),
                                       update.weight)
          : secagg::SecAggClient::Create(std::move(client_config), std::move(update.update),
                                         update.weight);
  if (!created.ok()) {
    audit.outcome =
        absl::StrCat("left: cannot start secure aggregation: ", created.status().message());
    return absl::OkStatus();
  }
  std::unique_ptr<secagg::SecAggClient> client = *std::move(created);

  const double deadline_slack = 30;
  for (uint32_t step = 0; step < static_cast<uint32_t>(secagg::kPhaseCount); ++step) {
    // Written before the long poll: "sent share_keys, waiting for masked_input".
    phase(absl::StrCat(step == 0
                           ? "trained"
                           : absl::StrCat("sent ", secagg::PhaseName(static_cast<int>(step) - 1)),
                       ", waiting for ", secagg::PhaseName(static_cast<int>(step))));
    v1::NextMessageRequest next;
    next.set_session(assignment.session());
    next.set_round_id(assignment.round_id());
    next.set_step(step);
    v1::NextMessageResponse response;
    while (true) {
      if (paused()) return absl::OkStatus();
      auto context = CallContext(task.deadlines.download_train + deadline_slack);
      grpc::Status status = stub.NextMessage(context.get(), next, &response);
      audit.rpc.Count(kRpcNextMessage, static_cast<int64_t>(next.ByteSizeLong()),
                      status.ok() ? static_cast<int64_t>(response.ByteSizeLong()) : 0);
      if (!status.ok()) {
        audit.outcome = absl::StrCat("left: ", FromGrpc(status, "next message").message());
        return absl::OkStatus();
      }
      if (!response.wait()) break;
    }
    if (response.has_round_over()) {
      audit.outcome = absl::StrCat("left: ", response.round_over());
      return absl::OkStatus();
    }
    if (step == 0) {
      // Before this client advertises a key: the cohort and threshold
      // secure aggregation will actually run with.
      const v1::SecAggRoundParameters& parameters = response.message().round_start().parameters();
      absl::Status round_allowed = CheckRoundAgainstPolicy(options.policy, parameters);
      // The ring and cohort the laptop planned from the task: a narrower ring
      // or a bigger cohort could wrap the sum, a wider ring wastes upload.
      if (round_allowed.ok()) {
        round_allowed =
            CheckRoundRing(task, static_cast<int64_t>(model->parameters.size()), parameters);
      }
      if (!round_allowed.ok()) {
        audit.outcome = absl::StrCat("refused: ", round_allowed.message());
        return absl::OkStatus();
      }
    }
    if (static_cast<int>(step) == options.leave_after_step) {
      audit.outcome =
          absl::StrCat("left: stopped answering in ", secagg::PhaseName(static_cast<int>(step)));
      return absl::OkStatus();
    }
    absl::StatusOr<v1::SecAggClientToServer> reply =
        client->HandleServerMessage(response.message());
    if (!reply.ok()) {
      audit.outcome =
          absl::StrCat("left: refused the coordinator's message: ", reply.status().message());
      return absl::OkStatus();
    }
    if (paused()) return absl::OkStatus();
    if (static_cast<int>(step) == static_cast<int>(secagg::Phase::kMaskedInput)) {
      // The noised update is about to leave: on the ledger first (fsync'ed),
      // so no crash or lost reply can leave a release unrecorded.
      std::optional<DdgRecord> ddg_record;
      if (ddg) {
        ddg_record = DdgRecord{ddg->mechanism.gamma, ddg->mechanism.local_variance,
                               ddg->mechanism.dim, ddg->bits};
      }
      const double stddev =
          ddg ? ddg->mechanism.gamma * std::sqrt(ddg->mechanism.local_variance) : noise_added;
      absl::Status recorded = AppendParticipation(
          options.dir, ParticipationOf(task, assignment.round_number(), assignment.round_id(),
                                       assignment.model_version(), stddev, window, ddg_record));
      if (!recorded.ok()) {
        audit.outcome = absl::StrCat("left: cannot record the round in the privacy ledger (",
                                     recorded.message(), "); the update was not sent");
        return absl::OkStatus();
      }
    }
    v1::SubmitRequest submit;
    submit.set_session(assignment.session());
    submit.set_round_id(assignment.round_id());
    *submit.mutable_message() = *std::move(reply);
    const int64_t bytes = static_cast<int64_t>(submit.ByteSizeLong());
    v1::SubmitResponse submitted;
    auto context = CallContext(60);
    grpc::Status status = stub.Submit(context.get(), submit, &submitted);
    // Counted as sent even when the call failed: it may have left.
    audit.rpc.Count(kRpcSubmit, bytes,
                    status.ok() ? static_cast<int64_t>(submitted.ByteSizeLong()) : 0);
    if (!status.ok()) {
      audit.outcome = absl::StrCat("left: ", FromGrpc(status, "submit").message());
      return absl::OkStatus();
    }
    audit.sent.push_back({secagg::PhaseName(static_cast<int>(step)), bytes});
  }
  client.reset();

  phase("awaiting result");
  v1::RoundResultRequest result_request;
  result_request.set_session(assignment.session());
  result_request.set_round_id(assignment.round_id());
  v1::RoundResultResponse result;
  do {
    if (paused()) {
      // Everything of the round was sent; only the result is not asked for.
      absl::StrAppend(&audit.outcome, " (the update had been sent; its result is not asked for)");
      return absl::OkStatus();
    }
    auto context = CallContext(120);
    grpc::Status status = stub.RoundResult(context.get(), result_request, &result);
    audit.rpc.Count(kRpcRoundResult, static_cast<int64_t>(result_request.ByteSizeLong()),
                    status.ok() ? static_cast<int64_t>(result.ByteSizeLong()) : 0);
    if (!status.ok()) {
      audit.outcome = absl::StrCat("sent; result unknown: ", status.error_message());
      return absl::OkStatus();
    }
  } while (result.outcome() == v1::RoundResultResponse::PENDING);
  audit.included = result.included();
  audit.outcome = result.outcome() == v1::RoundResultResponse::COMMITTED
                      ? "committed"
                      : absl::StrCat("abandoned: ", result.reason());
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<AuditEntry> RunAssignedRound(v1::Federation::Stub& stub,
                                            const v1::Assignment& assignment,
                                            const RoundRunnerOptions& options) {
  AuditEntry audit;
  absl::Status run = RunRound(stub, assignment, options, audit);
  if (run.ok()) return audit;
  if (audit.rpc.calls() == 0) return run;  // nothing was exchanged: the caller's refusal
  // Bytes went both ways: the round's line counts them, with the error.
  audit.outcome = absl::StrCat("left: ", run.message());
  return audit;
}

}  // namespace tacit::runtime
