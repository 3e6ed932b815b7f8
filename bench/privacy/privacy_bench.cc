// Exact discrete Gaussian noise for one update of `dim` coordinates from the
// production source (OpenSSL RAND_bytes). items_per_second = samples/second.
#include <cstdint>
#include <vector>

#include "benchmark/benchmark.h"
#include "privacy/discrete_gaussian.h"
#include "privacy/random_bits.h"

namespace {

void BM_DiscreteGaussianUpdate(benchmark::State& state) {
  const size_t dim = 100000;
  const double sigma = static_cast<double>(state.range(0));
  auto sampler =
      tacit::privacy::DiscreteGaussianSampler::Create(*tacit::privacy::Rational::FromDouble(sigma * sigma));
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

}  // namespace
