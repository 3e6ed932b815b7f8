#pragma once

// Who pairs with whom. The complete graph is the original protocol; SecAgg+
// (Bell et al. 2020) uses a random k-regular graph: the Harary graph H(k, n)
// (each node joined to the k/2 nearest on either side of a ring) over a random
// permutation of the cohort drawn from a seed, so each client pairs with, and
// shares its secrets among, only k others.

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "secure_agg/crypto.h"

namespace tacit::secagg {

class NeighborGraph {
 public:
  // k = 0 or k >= n - 1 gives the complete graph; otherwise k must be even and >= 2.
  static absl::StatusOr<NeighborGraph> Create(absl::Span<const uint32_t> cohort_ids, uint32_t k,
                                              const SecretKey& seed);

  bool complete() const { return complete_; }
  // Sorted neighbour ids of `id` (without `id`); empty for unknown ids.
  std::vector<uint32_t> NeighborsOf(uint32_t id) const;
  bool AreNeighbors(uint32_t a, uint32_t b) const;
  const std::vector<uint32_t>& ids() const { return sorted_ids_; }

 private:
  bool complete_ = true;
  uint32_t k_ = 0;
  std::vector<uint32_t> sorted_ids_;
  std::vector<uint32_t> ring_;      // permuted ids: ring position -> id
  std::vector<uint32_t> position_;  // index in sorted_ids_ -> ring position
  int64_t IndexOf(uint32_t id) const;
};

}  // namespace tacit::secagg
