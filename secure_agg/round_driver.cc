#include "secure_agg/round_driver.h"

#include <algorithm>
#include <chrono>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace tacit::secagg {
namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

absl::StatusOr<std::unique_ptr<RoundDriver>> RoundDriver::Create(ServerConfig config) {
  TACIT_ASSIGN_OR_RETURN(std::unique_ptr<SecAggServer> server,
                         SecAggServer::Create(std::move(config)));
  return std::make_unique<RoundDriver>(std::move(server));
}

RoundDriver::RoundDriver(std::unique_ptr<SecAggServer> server) : server_(std::move(server)) {}

void RoundDriver::CountSent(Phase phase, const ServerMessages& messages) {
  PhaseRecord& record = phases_[PhaseIndex(phase)];
  record.expected = static_cast<int>(messages.size());
  // Builds each lazily held message once, one at a time, to count its bytes.
  absl::Status counted =
      messages.ForEach([&record](uint32_t, const v1::SecAggServerToClient& message) {
        const uint64_t bytes = message.ByteSizeLong();
        record.bytes_down_total += bytes;
        record.bytes_down_max = std::max(record.bytes_down_max, bytes);
        return absl::OkStatus();
      });
  (void)counted;  // the callback never fails; a message that cannot be built is not counted
}

absl::StatusOr<ServerMessages> RoundDriver::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (open_ != -1 || server_->phase() != ServerPhase::kNotStarted) {
    return absl::FailedPreconditionError(
        absl::StrCat("round ", server_->config().round_id, " was already started"));
  }
  const auto start = Clock::now();
  TACIT_ASSIGN_OR_RETURN(PhaseOutcome outcome, server_->AdvancePhase());
  start_seconds_ = SecondsSince(start);
  open_ = 0;
  CountSent(Phase::kAdvertiseKeys, outcome.messages);
  return std::move(outcome.messages);
}

absl::Status RoundDriver::Receive(uint32_t client_id, const v1::SecAggClientToServer& message) {
  // Held across the server call so a reply is counted in the phase that took
  // it, even when another thread ends the phase meanwhile.
  std::lock_guard<std::mutex> lock(mu_);
  const auto start = Clock::now();
  TACIT_RETURN_IF_ERROR(server_->HandleClientMessage(client_id, message));
  const double seconds = SecondsSince(start);
  const uint64_t bytes = message.ByteSizeLong();
  if (open_ < 0 || open_ >= kPhaseCount) return absl::OkStatus();  // the server took no phase
  PhaseRecord& record = phases_[open_];
  ++record.answered;
  record.bytes_up_total += bytes;
  record.bytes_up_max = std::max(record.bytes_up_max, bytes);
  record.server_seconds += seconds;
  return absl::OkStatus();
}

absl::StatusOr<RoundDriver::Step> RoundDriver::EndPhase() {
  std::lock_guard<std::mutex> lock(mu_);
  if (open_ < 0 || open_ >= kPhaseCount) {
    return absl::FailedPreconditionError(
        absl::StrCat("round ", server_->config().round_id, " has no open phase to end"));
  }
  const int ended = open_;
  PhaseRecord& record = phases_[ended];
  record.dropped += static_cast<int>(server_->PendingClients().size());
  const auto start = Clock::now();
  absl::StatusOr<PhaseOutcome> outcome = server_->AdvancePhase();
  record.server_seconds += SecondsSince(start);
  if (!outcome.ok()) {
    // The server's error already names the round and the phase.
    open_ = kPhaseCount;
    return outcome.status();
  }
  Step step;
  step.messages = std::move(outcome->messages);
  step.result = std::move(outcome->result);
  if (step.result.has_value() || ended + 1 >= kPhaseCount) {
    open_ = kPhaseCount;
    if (!step.result.has_value()) {
      return absl::InternalError(absl::StrCat("round ", server_->config().round_id,
                                              ": the server did not complete after unmasking"));
    }
  } else {
    open_ = ended + 1;
    CountSent(kAllPhases[open_], step.messages);
  }
  return step;
}

std::optional<Phase> RoundDriver::open_phase() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (open_ < 0 || open_ >= kPhaseCount) return std::nullopt;
  return kAllPhases[open_];
}

bool RoundDriver::AllAnswered() const { return server_->PendingClients().empty(); }

std::vector<uint32_t> RoundDriver::PendingClients() const { return server_->PendingClients(); }

std::array<PhaseRecord, kPhaseCount> RoundDriver::phases() const {
  std::lock_guard<std::mutex> lock(mu_);
  return phases_;
}

std::array<int, kPhaseCount> RoundDriver::dropouts_per_phase() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::array<int, kPhaseCount> dropped{};
  for (int p = 0; p < kPhaseCount; ++p) dropped[p] = phases_[p].dropped;
  return dropped;
}

int64_t RoundDriver::bytes_sent() const {
  std::lock_guard<std::mutex> lock(mu_);
  uint64_t total = 0;
  for (const PhaseRecord& r : phases_) total += r.bytes_down_total;
  return static_cast<int64_t>(total);
}

int64_t RoundDriver::bytes_received() const {
  std::lock_guard<std::mutex> lock(mu_);
  uint64_t total = 0;
  for (const PhaseRecord& r : phases_) total += r.bytes_up_total;
  return static_cast<int64_t>(total);
}

double RoundDriver::server_seconds() const {
  std::lock_guard<std::mutex> lock(mu_);
  double total = start_seconds_;
  for (const PhaseRecord& r : phases_) total += r.server_seconds;
  return total;
}

absl::StatusOr<AggregationResult> RunRound(RoundDriver& driver, Delivery& delivery) {
  TACIT_ASSIGN_OR_RETURN(auto messages, driver.Start());
  for (Phase phase : kAllPhases) {
    TACIT_RETURN_IF_ERROR(delivery.Deliver(
        phase, messages, [&driver](uint32_t id, const v1::SecAggClientToServer& reply) {
          return driver.Receive(id, reply);
        }));
    TACIT_ASSIGN_OR_RETURN(RoundDriver::Step step, driver.EndPhase());
    if (step.result.has_value()) return std::move(*step.result);
    messages = std::move(step.messages);
  }
  return absl::InternalError("the round did not complete after its last phase");
}

}  // namespace tacit::secagg
