#include "bench/coordinator/load_fleet.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <thread>

#include "client/runtime/backoff.h"
#include "client/runtime/check_in_jitter.h"
#include "client/runtime/model_cache.h"
#include "common/counting_semaphore.h"

namespace tacit::bench {
namespace {

using Clock = std::chrono::steady_clock;

using TrainingSlots = CountingSemaphore;

double UnitRandom() {
  absl::StatusOr<double> unit = runtime::SecureUnitRandom();
  return unit.ok() ? *unit : 1.0;
}

void SleepFor(double seconds) {
  std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000)));
}

// The daemon's check-in loop (client/runtime/daemon.cc) without its
// eligibility and jitter waits: a failed call backs off with BackoffSeconds, a
// retry-after waits as the coordinator says (capped, +-10%).
bool CheckIn(LoadClient& client, const RetryPolicy& retry, v1::Assignment* assignment,
             ClientRound* round) {
  const auto give_up =
      Clock::now() + std::chrono::milliseconds(static_cast<int64_t>(retry.give_up_seconds * 1000));
  int failures = 0;
  while (Clock::now() < give_up) {
    v1::CheckInRequest request;
    const runtime::HeldModel held = runtime::HeldModelOf(client.dir);
    request.set_model_version(held.version);
    request.set_layout_hash(held.layout_hash);
    v1::CheckInResponse response;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(15));
    const grpc::Status rpc = client.stub->CheckIn(&context, request, &response);
    ++round->check_in_calls;
    round->bytes_up += static_cast<int64_t>(request.ByteSizeLong());
    if (!rpc.ok()) {
      ++round->failed_check_ins;
      SleepFor(runtime::BackoffSeconds(++failures, retry.max_backoff_seconds, UnitRandom()));
      continue;
    }
    failures = 0;
    round->bytes_down += static_cast<int64_t>(response.ByteSizeLong());
    if (response.has_assignment()) {
      *assignment = response.assignment();
      return true;
    }
    if (response.retry_after().task_complete()) return false;
    SleepFor(std::min(retry.max_retry_seconds, response.retry_after().seconds()) *
             (0.9 + 0.2 * UnitRandom()));
  }
  return false;
}

ClientRound RunClient(LoadClient& client, TrainingSlots& slots, const RetryPolicy& retry) {
  ClientRound round;
  v1::Assignment assignment;
  if (!CheckIn(client, retry, &assignment, &round)) {
    round.outcome = "not seated: no assignment before giving up";
    return round;
  }
  round.seated = true;
  runtime::RoundRunnerOptions options;
  options.dir = client.dir;
  options.device_id = client.device;
  options.threads = 1;
  options.tokens = &client.tokens;
  options.signer = client.signer;
  options.verifier = client.verifier;
  // Every simulated laptop answers its assignment: no random check-in coin.
  options.enforce_random_check_in = false;
  bool holds_slot = false;
  options.on_phase = [&](const std::string& phase) {
    if (phase == "training") {
      slots.Acquire();
      holds_slot = true;
    } else if (holds_slot) {
      slots.Release();
      holds_slot = false;
    }
  };
  absl::StatusOr<runtime::AuditEntry> audit =
      runtime::RunAssignedRound(*client.stub, assignment, options);
  if (holds_slot) slots.Release();
  if (!audit.ok()) {
    round.outcome = "refused: " + std::string(audit.status().message());
    return round;
  }
  round.outcome = audit->outcome;
  round.bytes_up += audit->rpc.up();
  round.bytes_down += audit->rpc.down();
  // Nothing is kept between rounds: the next one downloads its model afresh,
  // and a thousand clients' models do not fill the disk.
  std::error_code ignored;
  std::filesystem::remove_all(client.dir + "/model", ignored);
  return round;
}

}  // namespace

std::vector<ClientRound> RunFleetRound(std::vector<LoadClient>& clients, int training_slots,
                                       const RetryPolicy& retry) {
  TrainingSlots slots(training_slots);
  std::vector<ClientRound> rounds(clients.size());
  std::vector<std::thread> threads;
  threads.reserve(clients.size());
  for (size_t i = 0; i < clients.size(); ++i) {
    threads.emplace_back([&, i] { rounds[i] = RunClient(clients[i], slots, retry); });
  }
  for (std::thread& t : threads) t.join();
  return rounds;
}

}  // namespace tacit::bench
