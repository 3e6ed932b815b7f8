#include "coordinator/service/seat_registry.h"

#include "absl/strings/str_cat.h"
#include "common/secure_random.h"
#include "coordinator/service/refusal.h"
#include "secure_agg/crypto.h"

namespace tacit::coordinator {

SessionSource RandomSessions() {
  return []() -> absl::StatusOr<std::string> {
    constexpr size_t kSessionBytes = 16;
    std::string session(kSessionBytes, '\0');
    absl::Status drawn = SecureRandomBytes(
        absl::MakeSpan(reinterpret_cast<uint8_t*>(session.data()), session.size()));
    if (!drawn.ok()) return drawn;
    return session;
  };
}

const Seat* SeatRegistry::Find(const std::string& device) const {
  auto it = by_device_.find(device);
  return it == by_device_.end() ? nullptr : &seats_[it->second];
}

absl::StatusOr<const Seat*> SeatRegistry::Add(const std::string& device) {
  if (by_device_.count(device) != 0) {
    return absl::AlreadyExistsError(absl::StrCat("device '", device, "' is already seated"));
  }
  absl::StatusOr<std::string> session = sessions_();
  if (!session.ok()) return session.status();
  if (session->empty()) {
    return absl::InternalError("the session source returned an empty session token");
  }
  Seat seat;
  seat.device = device;
  seat.client_id = static_cast<uint32_t>(seats_.size() + 1);
  seat.session = *std::move(session);
  by_device_[device] = seats_.size();
  seats_.push_back(std::move(seat));
  return &seats_.back();
}

absl::StatusOr<Seat*> SeatRegistry::Check(const std::string& device, const std::string& session,
                                          uint64_t round_id) {
  auto it = by_device_.find(device);
  if (it == by_device_.end()) {
    return Refusal("not_seated", absl::PermissionDeniedError(absl::StrCat(
                                     "device '", device, "' holds no seat in round ", round_id)));
  }
  Seat& seat = seats_[it->second];
  auto bytes = [](const std::string& s) {
    return absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(s.data()), s.size());
  };
  if (!secagg::ConstantTimeEquals(bytes(session), bytes(seat.session))) {
    return Refusal("bad_session", absl::PermissionDeniedError(absl::StrCat(
                                      "the session does not match device '", device,
                                      "''s seat in round ", round_id, "; check in again")));
  }
  return &seat;
}

Seat* SeatRegistry::ByClientId(uint32_t client_id) {
  return client_id >= 1 && client_id <= seats_.size() ? &seats_[client_id - 1] : nullptr;
}

void SeatRegistry::Drop(uint32_t client_id, const std::string& phase, const std::string& reason) {
  Seat* seat = ByClientId(client_id);
  if (seat == nullptr || seat->out) return;
  seat->out = true;
  seat->drop_phase = phase;
  seat->drop_reason = reason;
}

std::vector<Seat> SeatRegistry::TakeNewDrops() {
  std::vector<Seat> dropped;
  for (Seat& seat : seats_) {
    if (seat.out && !seat.drop_reported) {
      seat.drop_reported = true;
      dropped.push_back(seat);
    }
  }
  return dropped;
}

int SeatRegistry::dropped() const {
  int out = 0;
  for (const Seat& seat : seats_) out += seat.out;
  return out;
}

std::vector<uint32_t> SeatRegistry::client_ids() const {
  std::vector<uint32_t> ids;
  ids.reserve(seats_.size());
  for (const Seat& seat : seats_) ids.push_back(seat.client_id);
  return ids;
}

}  // namespace tacit::coordinator
