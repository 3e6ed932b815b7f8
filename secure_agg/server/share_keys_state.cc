#include "secure_agg/server/share_keys_state.h"

#include <algorithm>
#include <iterator>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "secure_agg/server/masked_input_state.h"

namespace tacit::secagg {

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
  std::vector<HeldShare> records(static_cast<size_t>(m.shares_size()));
  for (int i = 0; i < m.shares_size(); ++i) {
    const auto& share = m.shares(i);
    HeldShare& held = records[static_cast<size_t>(i)];
    held.sender = id;
    std::copy(share.nonce().begin(), share.nonce().end(), held.nonce.begin());
    std::copy(share.ciphertext().begin(), share.ciphertext().end(), held.ciphertext.begin());
  }
  TACIT_ASSIGN_OR_RETURN(const uint32_t first, spool_->Append(records));
  senders_.emplace_back(first, id);
  for (int i = 0; i < m.shares_size(); ++i) {
    std::vector<uint32_t>& box = inbox_[m.shares(i).recipient_id()];
    if (box.empty()) box.reserve(round_->graph.NeighborsOf(m.shares(i).recipient_id()).size());
    box.push_back(first + static_cast<uint32_t>(i));
  }
  return absl::OkStatus();
}

uint32_t ServerShareKeysState::SenderOf(uint32_t record) const {
  auto after = std::upper_bound(
      senders_.begin(), senders_.end(), record,
      [](uint32_t r, const std::pair<uint32_t, uint32_t>& run) { return r < run.first; });
  return std::prev(after)->second;
}

size_t ServerShareKeysState::HeldSharesFor(uint32_t recipient) const {
  auto it = inbox_.find(recipient);
  return it == inbox_.end() ? 0 : it->second.size();
}

absl::StatusOr<ServerState::Transition> ServerShareKeysState::Advance() {
  TACIT_RETURN_IF_ERROR(CheckSurvivors());
  Transition out;
  out.outcome.messages = ServerMessages::ShareDeliveries(Envelope(), spool_);
  for (uint32_t id : responded_) {
    std::vector<uint32_t>& box = inbox_[id];
    // Only shares from clients that completed this phase count.
    box.erase(
        std::remove_if(box.begin(), box.end(),
                       [this](uint32_t record) { return responded_.count(SenderOf(record)) == 0; }),
        box.end());
    out.outcome.messages.AddShares(id, box);
    std::vector<uint32_t>().swap(box);  // freed as the deliveries are held
  }
  inbox_.clear();
  std::vector<std::pair<uint32_t, uint32_t>>().swap(senders_);
  // The clients that shared are both the next phase's expected clients and
  // the set whose shares are held (U2).
  std::set<uint32_t> shared = responded_;
  out.next = std::make_unique<ServerMaskedInputState>(
      round_, std::move(responded_), std::move(session_id_), std::move(keys_), std::move(shared));
  return out;
}

}  // namespace tacit::secagg
