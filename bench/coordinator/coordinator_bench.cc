// Costs of the coordinator core per round, at model sizes of the issue's
// target (1 M parameters) and the model range's top (4 M):
//   server optimizer step, checkpoint commit (fsync'ed), privacy accounting,
//   and a client's DP noise share.
// Run: build/bench/coordinator_bench [--json FILE] [--benchmark_filter=...]
// main() is bench/common/gbench_main.cc: one JSON report with the machine,
// unknown flags exit 2, a benchmark that errors exits 1.

#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "common/dp_noise.h"
#include "coordinator/server_optimizer.h"
#include "coordinator/state_store.h"
#include "privacy/rdp_accountant.h"

namespace tacit::coordinator {
namespace {

void BM_ServerOptimizerApply(benchmark::State& state) {
  ServerOptimizerConfig config;
  config.type = static_cast<ServerOptimizerType>(state.range(0));
  const size_t dim = static_cast<size_t>(state.range(1));
  auto opt = ServerOptimizer::Create(config, dim);
  std::vector<float> model(dim, 0.5f), update(dim, 0.01f);
  for (auto _ : state) {
    if (!opt->Apply(update, absl::MakeSpan(model)).ok()) state.SkipWithError("apply failed");
    benchmark::DoNotOptimize(model.data());
  }
  state.SetLabel(ServerOptimizerName(config.type));
  state.SetBytesProcessed(state.iterations() * dim * sizeof(float));
}
BENCHMARK(BM_ServerOptimizerApply)
    ->ArgsProduct({{0, 1, 2}, {1 << 20, 4 << 20}})
    ->Unit(benchmark::kMillisecond);

void BM_CommitRound(benchmark::State& state) {
  const size_t dim = static_cast<size_t>(state.range(0));
  std::string dir = "/tmp/tacit_commit_bench_" + std::to_string(::getpid());
  std::filesystem::remove_all(dir);
  {
    auto store = StateStore::Open(dir);
    if (!store.ok()) {
      state.SkipWithError(std::string(store.status().message()).c_str());
      return;
    }
    int64_t task = *(*store)->UpsertTask("bench", nlohmann::json::object());
    Checkpoint c;
    c.task_id = task;
    c.model.assign(dim, 0.25f);
    c.optimizer_state.assign(2 * dim * sizeof(float), '\0');  // FedAdam's m and v
    int64_t round = 1;
    for (auto _ : state) {
      auto r = (*store)->BeginRound(task, round);
      c.version = round++;
      if (!r.ok() ||
          !(*store)->CommitRound(r->id, c, RoundPrivacy{1, 1}, {{"accuracy", 0.5}}).ok()) {
        state.SkipWithError("commit failed");
        break;
      }
    }
    state.SetBytesProcessed(state.iterations() * 3 * dim * sizeof(float));
  }
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_CommitRound)->Arg(1 << 20)->Arg(4 << 20)->Unit(benchmark::kMillisecond);

void BM_AccountOneRound(benchmark::State& state) {
  tacit::privacy::RdpAccountant accountant;
  for (auto _ : state) {
    auto spent = accountant.ComposeSampledGaussian(0.01, 1.1, 1).ok()
                     ? accountant.Spent(1e-5)
                     : absl::StatusOr<tacit::privacy::PrivacySpent>(absl::InternalError("compose"));
    if (!spent.ok()) {
      state.SkipWithError("accounting failed");
      break;
    }
    benchmark::DoNotOptimize(spent->epsilon);
  }
}
BENCHMARK(BM_AccountOneRound)->Unit(benchmark::kMicrosecond);

void BM_ClientNoiseShare(benchmark::State& state) {
  auto noise = GaussianNoise::FromOsEntropy();
  std::vector<float> update(static_cast<size_t>(state.range(0)), 0.0f);
  for (auto _ : state) {
    noise->Add(absl::MakeSpan(update), 0.1);
    benchmark::DoNotOptimize(update.data());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_ClientNoiseShare)->Arg(1 << 20)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace tacit::coordinator
