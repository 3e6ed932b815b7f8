#pragma once

// sim_bench's two measurements, each recording into the bench report what it
// measured or, when its work did not happen, why (BenchReport::Require): the
// bench never returns early without a report, and exits non-zero then.

#include <vector>

#include "bench/common/report.h"
#include "common/token_stream.h"

namespace tacit::bench {

// (1) Memory per idle simulated person: opens a generated population of
// `people` people (population_source.h: people are generated when selected)
// and records figures()["population"]: resident and heap growth divided by
// the people, and the time to materialise one person; missing when the
// population could not be made or its last person not generated.
void MeasureIdlePeople(int people, BenchReport& report);

// The fleet generator's first `people` people as tokens (seed 1, the bench's
// vocabulary), for MeasureRoundOverhead; empty on error (recorded missing).
std::vector<PersonTokens> BenchFleet(int people, BenchReport& report);

// (2) The simulator's own overhead per round and its throughput: `rounds`
// rounds of `cohort` clients with secure aggregation over `fleet`, trained
// with all cores; records figures()["rounds"] (with client updates per second
// per core: updates trained / parallel training wall time / cores),
// and as missing a round that did not commit, a simulation that did not run
// (too few people, an error) and a figure not measured.
void MeasureRoundOverhead(std::vector<PersonTokens> fleet, int rounds, int cohort,
                          BenchReport& report);

}  // namespace tacit::bench
