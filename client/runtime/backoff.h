#pragma once

namespace tacit::runtime {

// Delay before the next attempt after `failures` consecutive failures:
// 1 s * 2^failures scaled by a uniform factor in [0.5, 1.5), so a fleet that
// lost its coordinator does not reconnect in lockstep, and never more than
// `max_seconds`: the operator's cap is a promise, jitter included.
// `unit_random` is uniform in [0, 1).
double BackoffSeconds(int failures, double max_seconds, double unit_random);

}  // namespace tacit::runtime
