// Exact discrete Gaussian noise for one update of 100k coordinates from the
// production source (OpenSSL RAND_bytes), items_per_second = samples/second;
// the whole client encoding (clip, rotate, round, noise, reduce) of such an
// update; the PLD accountant on the DP-SGD example.
// main() is bench/common/gbench_main.cc: one JSON report with the machine,
// unknown flags exit 2, a benchmark that errors exits 1.
#include <cstdint>
#include <vector>

#include "benchmark/benchmark.h"
#include "privacy/ddg_encoding.h"
#include "privacy/ddg_planner.h"
#include "privacy/discrete_gaussian.h"
#include "privacy/pld_accountant.h"
#include "privacy/random_bits.h"

namespace {

void BM_DiscreteGaussianUpdate(benchmark::State& state) {
  const size_t dim = 100000;
  const double sigma = static_cast<double>(state.range(0));
  auto sampler = tacit::privacy::DiscreteGaussianSampler::Create(
      *tacit::privacy::Rational::FromDouble(sigma * sigma));
  tacit::privacy::OsBitSource source;
  tacit::privacy::RandomDraws draws(source);
  std::vector<int64_t> noise(dim);
  for (auto _ : state) {
    if (!sampler->SampleInto(absl::MakeSpan(noise), draws).ok()) {
      state.SkipWithError("sampling failed");
      break;
    }
    benchmark::DoNotOptimize(noise.data());
  }
  state.SetItemsProcessed(state.iterations() * dim);
}
BENCHMARK(BM_DiscreteGaussianUpdate)
    ->Arg(1)
    ->Arg(10)
    ->Arg(100)
    ->Arg(10000)
    ->Unit(benchmark::kMillisecond);

void BM_EncodeDdgUpdate(benchmark::State& state) {
  tacit::privacy::DdgPlanRequest request;
  request.epsilon = 4.0;
  request.delta = 1e-6;
  request.rounds = 200;
  request.min_clients = 100;
  request.max_clients = 150;
  request.dim = 100000;
  request.clip = 1.0;
  auto plan = tacit::privacy::PlanDdgForBits(request, 20);
  if (!plan.ok()) {
    state.SkipWithError("planning failed");
    return;
  }
  std::vector<double> update(request.dim, 1e-3);
  tacit::privacy::OsBitSource source;
  tacit::privacy::RandomDraws draws(source);
  uint64_t seed = 1;
  for (auto _ : state) {
    auto encoded = tacit::privacy::EncodeDdgUpdate(update, *plan, seed++, draws);
    if (!encoded.ok()) {
      state.SkipWithError("encoding failed");
      break;
    }
    benchmark::DoNotOptimize(encoded->data());
  }
  state.SetItemsProcessed(state.iterations() * request.dim);
}
BENCHMARK(BM_EncodeDdgUpdate)->Unit(benchmark::kMillisecond);

void BM_PldDpSgdExample(benchmark::State& state) {
  for (auto _ : state) {
    tacit::privacy::PldAccountant accountant;
    if (!accountant.ComposeSampledGaussian(256.0 / 60000, 1.1, 60 * 60000 / 256).ok()) {
      state.SkipWithError("composition failed");
      break;
    }
    benchmark::DoNotOptimize(*accountant.Epsilon(1e-5));
  }
}
BENCHMARK(BM_PldDpSgdExample)->Unit(benchmark::kMillisecond);

}  // namespace
