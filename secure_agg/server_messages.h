#pragma once

// The messages the server sends when a phase opens, one per client still in
// the round, held in as few bytes as the protocol allows until every client
// has fetched its own. The outbox of every transport holds one of these:
// PhaseOutcome::messages, the round driver's steps, InProcessDelivery, the
// coordinator's RoundAttempt and the MPI simulation's delivery.
//
// Four ways a phase's messages are held (the wire bytes are the same as
// one SecAggServerToClient object per client; tests/secure_agg/
// pinned_secagg_plus_round_test.cc pins them):
//   - each client's own message, serialized (round start, unmasking
//     requests): about half the heap of a protobuf object, whose strings and
//     repeated fields each allocate;
//   - the share deliveries, as where each recipient's run of 128-byte
//     records (HeldShare) starts in a file with no name (ShareSpool) and how
//     long it is: 12 bytes per client in memory, whatever the degree;
//   - the key broadcast, built when a client's message is taken from the one
//     key map and the neighbour graph the server holds anyway, instead of
//     k + 1 copied SecAggPublicKeys per client;
//   - the consistency check, whose survivor list is the same for every
//     client: held once, not once per client (N copies of 4 x N bytes);
//   - the unmasking requests, built when taken from the graph, the sets of
//     clients that shared keys and that survived, and each signer's
//     signature held once (a serialized request carried a copy of every
//     neighbour's: k x ~70 bytes per client with credentials, 2.8 KiB at
//     k = 40).
// Taking a message (Get, CopyTo, ForEach) builds it; const methods may be
// called from several threads at once (InProcessDelivery does).

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "secure_agg/crypto.h"
#include "secure_agg/neighbor_graph.h"
#include "secure_agg/share_spool.h"
#include "tacit/v1/secagg.pb.h"

namespace tacit::secagg {

// Advertised public keys by client id, held once by the server for the round.
using PublicKeyMap = std::map<uint32_t, v1::SecAggPublicKeys>;
using SharedKeys = std::shared_ptr<const PublicKeyMap>;

class ServerMessages {
 public:
  ServerMessages() = default;  // no messages

  // The key broadcast of advertise_keys: every client in `keys` gets
  // `envelope` with its own keys, then those of its neighbours in `graph`
  // that are in `keys`, in the graph's order.
  static ServerMessages KeyBroadcast(v1::SecAggServerToClient envelope, SharedKeys keys,
                                     std::shared_ptr<const NeighborGraph> graph);
  // The share deliveries of share_keys: each client added with AddShares
  // gets `envelope` with its shares from `senders` (strictly increasing: the
  // clients that completed the phase), read back from `spool` when fetched
  // (held until then as one run of records: 12 bytes a client, where a
  // record is 128 bytes, a serialized share ~138 and an object several
  // times that).
  static ServerMessages ShareDeliveries(v1::SecAggServerToClient envelope,
                                        std::shared_ptr<const ShareSpool> spool,
                                        std::vector<uint32_t> senders);
  // The consistency check: every one of `survivors` (strictly increasing)
  // gets `envelope` with the whole list.
  static ServerMessages ConsistencyCheck(v1::SecAggServerToClient envelope,
                                         std::vector<uint32_t> survivors);

  // The unmasking requests: each of `askees` (the clients that signed the
  // survivor list, U4) gets `envelope` asking for the self-mask shares of
  // itself and its neighbours in `survivors` (U3) and the masking-key shares
  // of its neighbours in `shared` (U2) but not in `survivors`, each list
  // increasing, with the signatures in `signatures` of those neighbours
  // (non-empty ones, in the graph's order). `shared`, `survivors`: strictly
  // increasing.
  static ServerMessages UnmaskingRequests(v1::SecAggServerToClient envelope,
                                          std::shared_ptr<const NeighborGraph> graph,
                                          std::vector<uint32_t> askees,
                                          std::vector<uint32_t> shared,
                                          std::vector<uint32_t> survivors,
                                          std::map<uint32_t, std::string> signatures);

  // A message of its own for `id`, held serialized (replaces one held before).
  // Only on an outbox of per-client messages (default-constructed).
  void Add(uint32_t id, const v1::SecAggServerToClient& message);
  // The same, already serialized (the MPI ranks forward these bytes).
  void AddSerialized(uint32_t id, std::string bytes);
  // `id`'s share delivery: the spool's `count` records from `first`, in this
  // order, each a share for `id` (only on a ShareDeliveries outbox); those
  // of a sender not in the outbox's `senders` are left out.
  void AddShares(uint32_t id, uint64_t first, uint32_t count);

  size_t size() const { return held_.size(); }
  bool empty() const { return held_.empty(); }
  bool contains(uint32_t id) const { return held_.count(id) > 0; }
  // Every recipient, increasing.
  std::vector<uint32_t> recipients() const;

  // `id`'s message; NotFound when it has none.
  absl::StatusOr<v1::SecAggServerToClient> Get(uint32_t id) const;
  // The same into `out` (a response's field); NotFound when it has none.
  absl::Status CopyTo(uint32_t id, v1::SecAggServerToClient* out) const;
  // `id`'s message as it goes on the wire; NotFound when it has none.
  absl::StatusOr<std::string> Serialized(uint32_t id) const;
  // Every message in recipient order, built one at a time; stops at the
  // first error `fn` returns.
  absl::Status ForEach(
      const std::function<absl::Status(uint32_t, const v1::SecAggServerToClient&)>& fn) const;
  // Every message as an object (tests and small rounds: this is the N
  // objects the outbox exists to avoid).
  std::map<uint32_t, v1::SecAggServerToClient> ToMap() const;

  // A client that has fetched or answered its message: its bytes are freed.
  void Erase(uint32_t id) { held_.erase(id); }
  void Clear();

  // Heap bytes this outbox holds of its own (approximate: the map nodes, the
  // serialized messages, the shared envelope and survivor list). The key
  // map and the graph are the server's, held for the round anyway.
  size_t HeldBytes() const;

 private:
  enum class Kind { kEach, kKeyBroadcast, kShareDeliveries, kConsistencyCheck, kUnmaskingRequests };
  // What every message of a lazily built phase draws on.
  struct Shared {
    v1::SecAggServerToClient envelope;
    SharedKeys keys;
    std::shared_ptr<const NeighborGraph> graph;
    std::vector<uint32_t> survivors;
    std::shared_ptr<const ShareSpool> spool;
    std::vector<uint32_t> senders;
    std::vector<uint32_t> shared;                // kUnmaskingRequests: U2
    std::map<uint32_t, std::string> signatures;  // kUnmaskingRequests: by signer
  };

  Kind kind_ = Kind::kEach;
  std::shared_ptr<const Shared> shared_;  // null for kEach
  // kEach: the serialized message; kShareDeliveries: the run's first record
  // (uint64_t) and length (uint32_t);
  // the other kinds: empty (the id is the recipient).
  std::map<uint32_t, std::string> held_;
};

}  // namespace tacit::secagg
