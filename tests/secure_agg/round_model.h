#pragma once

// Test helpers: random cohorts and an independent model of which dropout
// patterns a round must survive.

#include <map>
#include <random>
#include <set>
#include <vector>

#include "secure_agg/in_process_delivery.h"
#include "secure_agg/neighbor_graph.h"

namespace tacit::secagg::testing {

// Neighbour sets of the server's graph, read back from the round-start messages.
using Neighbors = std::map<uint32_t, std::set<uint32_t>>;

struct ModelOutcome {
  bool succeeds = false;
  std::set<uint32_t> survivors;  // U3: inputs in the sum
};

// Follows the protocol's rules: clients drop per plan, a client aborts when it
// has fewer than t share holders (key broadcast) or fewer than t - 1 sharing
// neighbours (share delivery) or fewer than t share holders on the survivor
// list (consistency check), the server fails below t in a phase or when a
// needed secret has fewer than t shares.
inline ModelOutcome ModelRound(const std::vector<uint32_t>& cohort, const Neighbors& nb, uint32_t t,
                               const DropoutPlan& plan) {
  auto count_in = [](const std::set<uint32_t>& a, const std::set<uint32_t>& b) {
    uint32_t c = 0;
    for (uint32_t x : a) c += b.count(x);
    return c;
  };
  auto minus = [](std::set<uint32_t> a, const std::set<uint32_t>& b) {
    for (uint32_t x : b) a.erase(x);
    return a;
  };
  ModelOutcome out;
  std::set<uint32_t> u1 = minus({cohort.begin(), cohort.end()}, plan.dropped_before[0]);
  if (u1.size() < t) return out;
  std::set<uint32_t> u1ok;
  for (uint32_t u : u1) {
    if (1 + count_in(nb.at(u), u1) >= t) u1ok.insert(u);
  }
  std::set<uint32_t> u2 = minus(u1ok, plan.dropped_before[1]);
  if (u2.size() < t) return out;
  std::set<uint32_t> u2ok;
  for (uint32_t u : u2) {
    if (1 + count_in(nb.at(u), u2) >= t) u2ok.insert(u);
  }
  std::set<uint32_t> u3 = minus(u2ok, plan.dropped_before[2]);
  if (u3.size() < t) return out;
  // Consistency check: a client signs only when at least t of its share
  // holders (itself and its neighbours) are on the survivor list.
  std::set<uint32_t> u4;
  for (uint32_t u : minus(u3, plan.dropped_before[3])) {
    if (1 + count_in(nb.at(u), u3) >= t) u4.insert(u);
  }
  if (u4.size() < t) return out;
  std::set<uint32_t> u5 = minus(u4, plan.dropped_before[4]);
  if (u5.size() < t) return out;
  for (uint32_t u : u3) {
    if (u5.count(u) + count_in(nb.at(u), u5) < t) return out;
  }
  for (uint32_t d : minus(u2, u3)) {
    if (count_in(nb.at(d), u3) > 0 && count_in(nb.at(d), u5) < t) return out;
  }
  out.succeeds = true;
  out.survivors = u3;
  return out;
}

}  // namespace tacit::secagg::testing
