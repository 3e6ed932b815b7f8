#include "secure_agg/server/share_keys_state.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "secure_agg/server/masked_input_state.h"

namespace tacit::secagg {

ServerShareKeysState::ServerShareKeysState(std::shared_ptr<const ServerRound> round,
                                           std::set<uint32_t> expected, Bytes session_id,
                                           SharedKeys keys, std::shared_ptr<ShareSpool> spool)
    : ServerState(std::move(round), std::move(expected), std::move(session_id)),
      keys_(std::move(keys)),
      spool_(std::move(spool)),
      slots_(std::max<uint64_t>(
          1, round_->graph.complete() ? round_->graph.ids().size() - 1 : round_->config.neighbors)),
      received_(round_->graph.ids().size(), 0) {}

int64_t ServerShareKeysState::RowOf(uint32_t recipient) const {
  const std::vector<uint32_t>& ids = round_->graph.ids();
  auto it = std::lower_bound(ids.begin(), ids.end(), recipient);
  return it == ids.end() || *it != recipient ? -1 : it - ids.begin();
}

absl::Status ServerShareKeysState::HandlePhaseMessage(uint32_t id,
                                                      const v1::SecAggClientToServer& message) {
  const v1::SecAggShareKeys& m = message.share_keys();
  // Every advertised neighbour must get exactly one share.
  std::set<uint32_t> want;
  for (uint32_t n : round_->graph.NeighborsOf(id)) {
    if (expected_.count(n)) want.insert(n);
  }
  std::set<uint32_t> seen;
  for (const auto& share : m.shares()) {
    if (share.sender_id() != id) {
      return absl::InvalidArgumentError(
          absl::StrCat("client ", id, " sent a share claiming sender ", share.sender_id()));
    }
    if (!want.count(share.recipient_id()) || !seen.insert(share.recipient_id()).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("client ", id, " sent a share for ", share.recipient_id(),
                       ", which is not an advertised neighbour or was already addressed"));
    }
    if (share.nonce().size() != kGcmNonceBytes ||
        share.ciphertext().size() != kShareCiphertextBytes) {
      return absl::InvalidArgumentError(
          absl::StrCat("client ", id, "'s share for ", share.recipient_id(),
                       " has the wrong nonce or ciphertext size (", share.nonce().size(), " and ",
                       share.ciphertext().size(), " bytes, want ", kGcmNonceBytes, " and ",
                       kShareCiphertextBytes, ")"));
    }
  }
  if (seen.size() != want.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("client ", id, " shared with ", seen.size(), " of its ", want.size(),
                     " advertised neighbours; it must share with all"));
  }
  // Every share goes to the next free slot of its recipient's row; the
  // counts move only once all are written, so a failed write changes nothing.
  HeldShare held;
  held.sender = id;
  for (const auto& share : m.shares()) {
    const int64_t row = RowOf(share.recipient_id());
    if (row < 0 || received_[static_cast<size_t>(row)] >= slots_) {
      return absl::InternalError(absl::StrCat("no slot for a share to ", share.recipient_id(),
                                              " (a bug: it was checked as a neighbour)"));
    }
    std::copy(share.nonce().begin(), share.nonce().end(), held.nonce.begin());
    std::copy(share.ciphertext().begin(), share.ciphertext().end(), held.ciphertext.begin());
    TACIT_RETURN_IF_ERROR(
        spool_->WriteAt(static_cast<uint64_t>(row) * slots_ + received_[static_cast<size_t>(row)],
                        absl::MakeConstSpan(&held, 1)));
  }
  for (const auto& share : m.shares()) {
    ++received_[static_cast<size_t>(RowOf(share.recipient_id()))];
  }
  return absl::OkStatus();
}

size_t ServerShareKeysState::HeldSharesFor(uint32_t recipient) const {
  const int64_t row = RowOf(recipient);
  return row < 0 || received_.empty() ? 0 : received_[static_cast<size_t>(row)];
}

absl::StatusOr<ServerState::Transition> ServerShareKeysState::Advance() {
  TACIT_RETURN_IF_ERROR(CheckSurvivors());
  Transition out;
  // Only shares from clients that completed this phase count: the outbox
  // leaves out any other sender's when it builds a delivery.
  out.outcome.messages = ServerMessages::ShareDeliveries(
      Envelope(), spool_, std::vector<uint32_t>(responded_.begin(), responded_.end()));
  for (uint32_t id : responded_) {
    const auto row = static_cast<size_t>(RowOf(id));
    out.outcome.messages.AddShares(id, row * slots_, received_[row]);
  }
  std::vector<uint32_t>().swap(received_);  // the outbox holds the runs now
  // The clients that shared are both the next phase's expected clients and
  // the set whose shares are held (U2).
  std::set<uint32_t> shared = responded_;
  out.next = std::make_unique<ServerMaskedInputState>(
      round_, std::move(responded_), std::move(session_id_), std::move(keys_), std::move(shared));
  return out;
}

}  // namespace tacit::secagg
