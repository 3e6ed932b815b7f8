#include "secure_agg/neighbor_graph.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace tacit::secagg {

absl::StatusOr<NeighborGraph> NeighborGraph::Create(absl::Span<const uint32_t> cohort_ids,
                                                    uint32_t k, const SecretKey& seed) {
  NeighborGraph graph;
  graph.sorted_ids_.assign(cohort_ids.begin(), cohort_ids.end());
  std::sort(graph.sorted_ids_.begin(), graph.sorted_ids_.end());
  if (std::adjacent_find(graph.sorted_ids_.begin(), graph.sorted_ids_.end()) !=
      graph.sorted_ids_.end()) {
    return absl::InvalidArgumentError("cohort ids must be distinct");
  }
  const size_t n = graph.sorted_ids_.size();
  graph.complete_ = k == 0 || k + 1 >= n;
  if (graph.complete_) return graph;
  if (k < 2 || k % 2 != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("SecAgg+ degree k must be even and >= 2 (the Harary graph), got ", k));
  }
  graph.k_ = k;
  // Fisher-Yates shuffle of ring positions driven by AES-CTR keyed by the seed.
  graph.ring_ = graph.sorted_ids_;
  auto stream = AesCtrStream::Create(seed);
  if (!stream.ok()) return stream.status();
  std::vector<uint64_t> random(n);
  absl::Status st = stream->Generate(
      absl::MakeSpan(reinterpret_cast<uint8_t*>(random.data()), random.size() * sizeof(uint64_t)));
  if (!st.ok()) return st;
  for (size_t i = n - 1; i > 0; --i) {
    // Modulo bias is below 2^-40 for cohorts under 2^24: irrelevant for a graph.
    std::swap(graph.ring_[i], graph.ring_[random[i] % (i + 1)]);
  }
  graph.position_.assign(n, 0);
  for (size_t p = 0; p < n; ++p) {
    graph.position_[graph.IndexOf(graph.ring_[p])] = static_cast<uint32_t>(p);
  }
  return graph;
}

int64_t NeighborGraph::IndexOf(uint32_t id) const {
  auto it = std::lower_bound(sorted_ids_.begin(), sorted_ids_.end(), id);
  if (it == sorted_ids_.end() || *it != id) return -1;
  return it - sorted_ids_.begin();
}

std::vector<uint32_t> NeighborGraph::NeighborsOf(uint32_t id) const {
  const int64_t index = IndexOf(id);
  if (index < 0) return {};
  std::vector<uint32_t> out;
  if (complete_) {
    out.reserve(sorted_ids_.size() - 1);
    for (uint32_t other : sorted_ids_) {
      if (other != id) out.push_back(other);
    }
    return out;
  }
  const size_t n = ring_.size();
  const size_t p = position_[index];
  for (size_t d = 1; d <= k_ / 2; ++d) {
    out.push_back(ring_[(p + d) % n]);
    out.push_back(ring_[(p + n - d) % n]);
  }
  std::sort(out.begin(), out.end());
  return out;
}

bool NeighborGraph::AreNeighbors(uint32_t a, uint32_t b) const {
  const int64_t ia = IndexOf(a);
  const int64_t ib = IndexOf(b);
  if (ia < 0 || ib < 0 || a == b) return false;
  if (complete_) return true;
  const size_t n = ring_.size();
  const size_t pa = position_[ia];
  const size_t pb = position_[ib];
  const size_t dist = std::min((pa + n - pb) % n, (pb + n - pa) % n);
  return dist >= 1 && dist <= k_ / 2;
}

}  // namespace tacit::secagg
