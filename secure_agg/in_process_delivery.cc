#include "secure_agg/in_process_delivery.h"

#include <algorithm>
#include <chrono>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/parallel_for.h"

namespace tacit::secagg {
namespace {

using Clock = std::chrono::steady_clock;

}  // namespace

InProcessDelivery::InProcessDelivery(std::map<uint32_t, std::unique_ptr<SecAggClient>> clients,
                                     Options options)
    : clients_(std::move(clients)), options_(std::move(options)) {}

absl::Status InProcessDelivery::Deliver(Phase phase, const ServerMessages& messages,
                                        const ReplySink& reply) {
  if (options_.on_phase) options_.on_phase(phase);
  const std::set<uint32_t>& vanishing = options_.dropouts.dropped_before[PhaseIndex(phase)];
  // Who answers this phase: has a client, got a message, has not vanished.
  std::vector<uint32_t> answering;
  for (uint32_t id : messages.recipients()) {
    auto client = clients_.find(id);
    if (client == clients_.end()) continue;
    if (vanishing.count(id) > 0) {
      clients_.erase(client);  // gone: frees its state like a closed laptop
      continue;
    }
    answering.push_back(id);
  }
  std::vector<absl::StatusOr<v1::SecAggClientToServer>> replies(answering.size(),
                                                                absl::UnknownError("not run"));
  std::vector<double> seconds(answering.size(), 0.0);
  std::vector<absl::Status> built(answering.size());
  ParallelFor(answering.size(), options_.workers, [&](size_t i) {
    // Built here, one per worker at a time: the outbox holds it compactly.
    absl::StatusOr<v1::SecAggServerToClient> message = messages.Get(answering[i]);
    if (!message.ok()) {
      built[i] = message.status();
      return;
    }
    const auto start = Clock::now();
    replies[i] = clients_.at(answering[i])->HandleServerMessage(*message);
    seconds[i] = std::chrono::duration<double>(Clock::now() - start).count();
  });
  ClientPhaseStats& stats = stats_[PhaseIndex(phase)];
  for (size_t i = 0; i < answering.size(); ++i) {
    const uint32_t id = answering[i];
    if (!built[i].ok()) return built[i];  // the outbox cannot build its message: a bug
    stats.seconds_max = std::max(stats.seconds_max, seconds[i]);
    stats.seconds_total += seconds[i];
    if (!replies[i].ok()) {
      // A client that refuses (an unsafe threshold, a bad message) just stops.
      ++stats.refused;
      clients_.erase(id);
      continue;
    }
    ++stats.answered;
    absl::Status accepted = reply(id, *replies[i]);
    if (!accepted.ok()) {
      return absl::Status(accepted.code(),
                          absl::StrCat("the server rejected client ", id, "'s ", PhaseName(phase),
                                       " reply in memory (a bug): ", accepted.message()));
    }
  }
  return absl::OkStatus();
}

}  // namespace tacit::secagg
