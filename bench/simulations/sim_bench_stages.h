#pragma once

// sim_bench's two measurements, each recording into the bench report what it
// measured or, when its work did not happen, why (BenchReport::Require): the
// bench never returns early without a report, and exits non-zero then.

#include <vector>

#include "bench/common/report.h"
#include "common/token_stream.h"

namespace tacit::bench {

// (1) Memory per idle simulated person: generates `people` people (tokens
// only) and records figures()["population"]. Returns them; empty when they
// could not be generated (recorded as missing).
std::vector<PersonTokens> MeasureIdlePeople(int people, BenchReport& report);

// (2) The simulator's own overhead per round: `rounds` rounds of `cohort`
// clients with secure aggregation over `fleet`; records figures()["rounds"],
// and as missing a round that did not commit, a simulation that did not run
// (too few people, an error) and a figure not measured.
void MeasureRoundOverhead(std::vector<PersonTokens> fleet, int rounds, int cohort,
                          BenchReport& report);

}  // namespace tacit::bench
