#include "secure_agg/server_messages.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <type_traits>
#include <utility>

#include "absl/strings/str_cat.h"

namespace tacit::secagg {
namespace {

static_assert(std::is_trivially_copyable_v<HeldShare>, "held shares are copied as bytes");

// A std::map node's own bytes beside its value (libstdc++: colour, parent,
// left, right), plus malloc's header.
constexpr size_t kMapNodeOverhead = 32 + 16;

// Heap bytes of a std::string beyond its object: none within the small
// string buffer, else its capacity and malloc's header.
size_t StringHeapBytes(const std::string& s) {
  return s.capacity() > 15 ? s.capacity() + 1 + 16 : 0;
}

}  // namespace

ServerMessages ServerMessages::KeyBroadcast(v1::SecAggServerToClient envelope, SharedKeys keys,
                                            std::shared_ptr<const NeighborGraph> graph) {
  ServerMessages out;
  out.kind_ = Kind::kKeyBroadcast;
  for (const auto& [id, unused] : *keys) out.held_.emplace_hint(out.held_.end(), id, "");
  out.shared_ = std::make_shared<const Shared>(
      Shared{std::move(envelope), std::move(keys), std::move(graph), {}, nullptr, {}, {}, {}});
  return out;
}

ServerMessages ServerMessages::ShareDeliveries(v1::SecAggServerToClient envelope,
                                               std::shared_ptr<const ShareSpool> spool,
                                               std::vector<uint32_t> senders) {
  ServerMessages out;
  out.kind_ = Kind::kShareDeliveries;
  out.shared_ = std::make_shared<const Shared>(Shared{
      std::move(envelope), nullptr, nullptr, {}, std::move(spool), std::move(senders), {}, {}});
  return out;
}

ServerMessages ServerMessages::ConsistencyCheck(v1::SecAggServerToClient envelope,
                                                std::vector<uint32_t> survivors) {
  ServerMessages out;
  out.kind_ = Kind::kConsistencyCheck;
  for (uint32_t id : survivors) out.held_.emplace_hint(out.held_.end(), id, "");
  out.shared_ = std::make_shared<const Shared>(
      Shared{std::move(envelope), nullptr, nullptr, std::move(survivors), nullptr, {}, {}, {}});
  return out;
}

ServerMessages ServerMessages::UnmaskingRequests(v1::SecAggServerToClient envelope,
                                                 std::shared_ptr<const NeighborGraph> graph,
                                                 std::vector<uint32_t> askees,
                                                 std::vector<uint32_t> shared,
                                                 std::vector<uint32_t> survivors,
                                                 std::map<uint32_t, std::string> signatures) {
  ServerMessages out;
  out.kind_ = Kind::kUnmaskingRequests;
  for (uint32_t id : askees) out.held_.emplace_hint(out.held_.end(), id, "");
  out.shared_ = std::make_shared<const Shared>(Shared{std::move(envelope),
                                                      nullptr,
                                                      std::move(graph),
                                                      std::move(survivors),
                                                      nullptr,
                                                      {},
                                                      std::move(shared),
                                                      std::move(signatures)});
  return out;
}

void ServerMessages::Add(uint32_t id, const v1::SecAggServerToClient& message) {
  AddSerialized(id, message.SerializeAsString());
}

void ServerMessages::AddSerialized(uint32_t id, std::string bytes) {
  // Mixing kinds would give some clients a message built from the wrong
  // phase's shared state: only the server's states build outboxes, so this
  // is a bug, not an input to report.
  if (kind_ != Kind::kEach) std::abort();
  held_[id] = std::move(bytes);
}

void ServerMessages::AddShares(uint32_t id, uint64_t first, uint32_t count) {
  if (kind_ != Kind::kShareDeliveries) std::abort();  // as AddSerialized
  std::string& run = held_[id];                       // 12 bytes: within the string's own buffer
  run.resize(sizeof(first) + sizeof(count));
  std::memcpy(run.data(), &first, sizeof(first));
  std::memcpy(run.data() + sizeof(first), &count, sizeof(count));
}

std::vector<uint32_t> ServerMessages::recipients() const {
  std::vector<uint32_t> ids;
  ids.reserve(held_.size());
  for (const auto& [id, unused] : held_) ids.push_back(id);
  return ids;
}

absl::StatusOr<v1::SecAggServerToClient> ServerMessages::Get(uint32_t id) const {
  v1::SecAggServerToClient message;
  absl::Status copied = CopyTo(id, &message);
  if (!copied.ok()) return copied;
  return message;
}

absl::Status ServerMessages::CopyTo(uint32_t id, v1::SecAggServerToClient* out) const {
  auto held = held_.find(id);
  if (held == held_.end()) {
    return absl::NotFoundError(absl::StrCat("no message for client ", id, " in this phase"));
  }
  switch (kind_) {
    case Kind::kEach:
      if (!out->ParseFromString(held->second)) {
        return absl::InternalError(
            absl::StrCat("the held message for client ", id, " does not parse (a bug)"));
      }
      return absl::OkStatus();
    case Kind::kKeyBroadcast: {
      *out = shared_->envelope;
      const PublicKeyMap& keys = *shared_->keys;
      auto* broadcast = out->mutable_keys_broadcast();
      *broadcast->add_keys() = keys.at(id);
      for (uint32_t n : shared_->graph->NeighborsOf(id)) {
        if (auto key = keys.find(n); key != keys.end()) *broadcast->add_keys() = key->second;
      }
      return absl::OkStatus();
    }
    case Kind::kShareDeliveries: {
      uint64_t first = 0;
      uint32_t count = 0;
      std::memcpy(&first, held->second.data(), sizeof(first));
      std::memcpy(&count, held->second.data() + sizeof(first), sizeof(count));
      std::vector<HeldShare> shares;
      if (absl::Status read = shared_->spool->ReadRun(first, count, &shares); !read.ok()) {
        return read;
      }
      *out = shared_->envelope;
      auto* delivery = out->mutable_shares_delivery();
      const std::vector<uint32_t>& senders = shared_->senders;
      for (const HeldShare& held_share : shares) {
        // Only shares from clients that completed the phase count.
        if (!std::binary_search(senders.begin(), senders.end(), held_share.sender)) continue;
        v1::SecAggEncryptedShare* share = delivery->add_shares();
        share->set_sender_id(held_share.sender);
        share->set_recipient_id(id);
        share->set_nonce(held_share.nonce.data(), held_share.nonce.size());
        share->set_ciphertext(held_share.ciphertext.data(), held_share.ciphertext.size());
      }
      return absl::OkStatus();
    }
    case Kind::kUnmaskingRequests: {
      *out = shared_->envelope;
      auto* request = out->mutable_unmasking_request();
      const std::vector<uint32_t>& shared = shared_->shared;
      const std::vector<uint32_t>& survivors = shared_->survivors;
      std::vector<uint32_t> ask_survivors = {id}, ask_dropped;
      for (uint32_t n : shared_->graph->NeighborsOf(id)) {
        if (!std::binary_search(shared.begin(), shared.end(), n)) continue;  // id holds no share
        (std::binary_search(survivors.begin(), survivors.end(), n) ? ask_survivors : ask_dropped)
            .push_back(n);
        // An unsigned round (no identities) has nothing to forward.
        if (auto signed_by = shared_->signatures.find(n);
            signed_by != shared_->signatures.end() && !signed_by->second.empty()) {
          auto* forwarded = request->add_survivor_signatures();
          forwarded->set_client_id(n);
          forwarded->set_signature(signed_by->second);
        }
      }
      // Neighbours are distinct and never the client itself: sorting gives
      // strictly increasing lists, in the order the request carries them.
      std::sort(ask_survivors.begin(), ask_survivors.end());
      for (uint32_t s : ask_survivors) request->add_survivor_ids(s);
      for (uint32_t d : ask_dropped) request->add_dropped_ids(d);
      return absl::OkStatus();
    }
    case Kind::kConsistencyCheck: {
      *out = shared_->envelope;
      out->mutable_consistency_check()->mutable_survivor_ids()->Add(shared_->survivors.begin(),
                                                                    shared_->survivors.end());
      return absl::OkStatus();
    }
  }
  return absl::InternalError("unknown outbox kind");
}

absl::StatusOr<std::string> ServerMessages::Serialized(uint32_t id) const {
  if (kind_ == Kind::kEach) {
    auto held = held_.find(id);
    if (held == held_.end()) {
      return absl::NotFoundError(absl::StrCat("no message for client ", id, " in this phase"));
    }
    return held->second;
  }
  absl::StatusOr<v1::SecAggServerToClient> message = Get(id);
  if (!message.ok()) return message.status();
  return message->SerializeAsString();
}

absl::Status ServerMessages::ForEach(
    const std::function<absl::Status(uint32_t, const v1::SecAggServerToClient&)>& fn) const {
  for (const auto& [id, unused] : held_) {
    absl::StatusOr<v1::SecAggServerToClient> message = Get(id);
    if (!message.ok()) return message.status();
    absl::Status done = fn(id, *message);
    if (!done.ok()) return done;
  }
  return absl::OkStatus();
}

std::map<uint32_t, v1::SecAggServerToClient> ServerMessages::ToMap() const {
  std::map<uint32_t, v1::SecAggServerToClient> out;
  for (const auto& [id, unused] : held_) {
    absl::StatusOr<v1::SecAggServerToClient> message = Get(id);
    if (message.ok()) out.emplace(id, *std::move(message));
  }
  return out;
}

void ServerMessages::Clear() {
  held_.clear();
  shared_.reset();
  kind_ = Kind::kEach;
}

size_t ServerMessages::HeldBytes() const {
  size_t bytes = 0;
  for (const auto& [id, message] : held_) {
    bytes += kMapNodeOverhead + sizeof(std::pair<const uint32_t, std::string>) +
             StringHeapBytes(message);
  }
  if (shared_ != nullptr) {
    bytes +=
        sizeof(Shared) + shared_->envelope.SpaceUsedLong() +
        (shared_->survivors.capacity() + shared_->senders.capacity() + shared_->shared.capacity()) *
            sizeof(uint32_t);
    for (const auto& [signer, signature] : shared_->signatures) {
      bytes += kMapNodeOverhead + sizeof(std::pair<const uint32_t, std::string>) +
               StringHeapBytes(signature);
    }
  }
  return bytes;
}

}  // namespace tacit::secagg
