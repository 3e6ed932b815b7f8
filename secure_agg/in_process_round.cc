#include "secure_agg/in_process_round.h"

#include <chrono>
#include <map>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace tacit::secagg {
namespace {

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

absl::StatusOr<AggregationResult> RunInProcessRound(SecAggServer& server,
                                                    const ClientFactory& make_client,
                                                    const DropoutPlan& plan, RoundStats* stats) {
  RoundStats local;
  RoundStats& s = stats ? *stats : local;
  s = RoundStats();
  std::map<uint32_t, std::unique_ptr<SecAggClient>> clients;
  for (uint32_t id : server.config().cohort_ids) {
    TACIT_ASSIGN_OR_RETURN(clients[id], make_client(id));
  }
  std::set<uint32_t> gone;
  auto t0 = std::chrono::steady_clock::now();
  TACIT_ASSIGN_OR_RETURN(PhaseOutcome outcome, server.AdvancePhase());
  s.server_total_seconds += SecondsSince(t0);
  for (int phase = 0; phase < kProtocolPhases; ++phase) {
    PhaseStats& ps = s.phases[phase];
    for (uint32_t id : plan.dropped_before[phase]) gone.insert(id);
    for (auto& [id, message] : outcome.messages) {
      if (gone.count(id)) continue;
      const uint64_t down = message.ByteSizeLong();
      auto start = std::chrono::steady_clock::now();
      auto reply = clients.at(id)->HandleServerMessage(message);
      const double client_seconds = SecondsSince(start);
      if (!reply.ok()) {
        ++ps.client_errors;
        gone.insert(id);
        continue;
      }
      ps.client_seconds_max = std::max(ps.client_seconds_max, client_seconds);
      ps.client_seconds_total += client_seconds;
      const uint64_t up = reply->ByteSizeLong();
      ps.bytes_down_max = std::max(ps.bytes_down_max, down);
      ps.bytes_up_max = std::max(ps.bytes_up_max, up);
      ps.bytes_down_total += down;
      ps.bytes_up_total += up;
      ++ps.clients;
      start = std::chrono::steady_clock::now();
      absl::Status accepted = server.HandleClientMessage(id, *reply);
      if (!accepted.ok()) {
        return absl::Status(accepted.code(), absl::StrCat("server rejected client ", id,
                                                          "'s reply: ", accepted.message()));
      }
      ps.server_seconds += SecondsSince(start);
    }
    outcome.messages.clear();
    auto start = std::chrono::steady_clock::now();
    auto next = server.AdvancePhase();
    ps.server_seconds += SecondsSince(start);
    s.server_total_seconds += ps.server_seconds;
    if (!next.ok()) return next.status();
    outcome = std::move(*next);
  }
  if (!outcome.result) return absl::InternalError("the server did not complete after unmasking");
  return std::move(*outcome.result);
}

}  // namespace tacit::secagg
