// model_bench: tacit's local training against the same GRU trained by PyTorch
// from Python, in one run: tokens/s of both and their ratio, peak RSS of both.
//
//   build/bench/model_bench [--steps 30] [--warmup 3] [--batch-size 32] [--json FILE]
//
// tacit: TrainLocally (1 thread) on a synthetic token stream, `--warmup` steps
// in one call, then `--steps` timed in a second call; each model runs in a
// forked child so its peak RSS (wait4's ru_maxrss) is its own. The GRU runs
// twice: as shipped ("gru": the head's products with bf16 inputs where the
// CPU multiplies bf16 natively) and with every product in fp32
// ("gru_fp32_head", the peer's arithmetic); "ratios" and "ratios_fp32_head"
// compare each with the peer. The peer
// (bench/models/pytorch_reference.py, python3-torch) trains the same GRU on the
// same batch, window, thread count and steps, twice: as shipped, and with
// glibc malloc tuned as tacit tunes it in-process (MALLOC_MMAP_THRESHOLD_,
// MALLOC_TRIM_THRESHOLD_), the like-for-like comparison. Targets (issue 16):
// tokens/s >= 1.2x the peer's, peak RSS <= 0.5x the peer's and < 200 MiB at
// batch 32. Also the output layer's three products alone (the floor under any
// fp32 step of this model on this BLAS) and the ratio bound it sets. One JSON
// object on stdout (bench/common); exits 1 when a measurement did not happen
// (pass --no-peer to measure tacit alone).
#include <dlfcn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <ctime>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bench/common/flags.h"
#include "bench/common/report.h"
#include "common/json_parse.h"
#include "models/blas_kernels.h"
#include "models/parameter_layout.h"
#include "models/training.h"

namespace {

struct RunFigures {
  double seconds = 0.0;      // wall time of the timed steps
  double cpu_seconds = 0.0;  // process CPU time of the timed steps
  int steps = 0;
  double loss = 0.0;
  bool ok = false;
};

// A Zipf-distributed stream with habits.
std::vector<int32_t> SyntheticTokens(size_t n, uint32_t vocab) {
  std::mt19937_64 rng(7);
  std::vector<int32_t> out(n);
  for (size_t i = 0; i < n; ++i) {
    const double u = std::uniform_real_distribution<double>(0.0, 1.0)(rng);
    out[i] = 1 + static_cast<int32_t>(std::pow(u, 3.0) * (vocab - 2));
    if (i > 0 && rng() % 2) out[i] = out[i - 1] % 50 + 1;
  }
  return out;
}

double ProcessCpuSeconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

// In the child: warm-up steps, then the timed steps (one call each).
RunFigures Train(const tacit::ModelConfig& config, int warmup, int steps, int batch) {
  RunFigures f;
  // Exactly warmup + steps full batches of non-overlapping windows.
  const auto tokens = SyntheticTokens(
      static_cast<size_t>(warmup + steps) * batch * config.window + 1, config.vocab_size);
  auto global = tacit::InitialParameters(config, 1);
  if (!global.ok()) return f;
  tacit::TrainOptions options;
  options.batch_size = batch;
  options.threads = 1;
  if (warmup > 0) {
    options.max_steps = warmup;
    if (!tacit::TrainLocally(config, *global, tokens, options).ok()) return f;
  }
  options.max_steps = steps;
  const double cpu = ProcessCpuSeconds();
  auto update = tacit::TrainLocally(config, *global, tokens, options);
  f.cpu_seconds = ProcessCpuSeconds() - cpu;
  if (!update.ok()) {
    std::fprintf(stderr, "%s: %s\n", config.name.c_str(),
                 std::string(update.status().message()).c_str());
    return f;
  }
  f.seconds = update->seconds;
  f.steps = update->steps;
  f.loss = update->train_loss;
  f.ok = update->steps == steps && std::isfinite(update->train_loss);
  return f;
}

// Runs `config`'s training in a forked child (LibTorch's thread pools must not
// exist in the parent, which forks again). Null when it failed.
nlohmann::json MeasureTacit(const tacit::ModelConfig& config, int warmup, int steps, int batch,
                            bool fp32_head = false) {
  int fds[2];
  if (pipe(fds) != 0) return nullptr;
  const pid_t child = fork();
  if (child == 0) {
    close(fds[0]);
    if (fp32_head) tacit::UseFp32HeadProducts();
    RunFigures f = Train(config, warmup, steps, batch);
    (void)!write(fds[1], &f, sizeof(f));
    _exit(f.ok ? 0 : 1);
  }
  close(fds[1]);
  RunFigures f;
  const bool got = read(fds[0], &f, sizeof(f)) == static_cast<ssize_t>(sizeof(f));
  close(fds[0]);
  int status = 0;
  struct rusage usage {};
  if (child < 0 || wait4(child, &status, 0, &usage) != child || !got || !f.ok ||
      !(f.seconds > 0.0) || usage.ru_maxrss <= 0) {
    return nullptr;
  }
  const double tokens = static_cast<double>(steps) * batch * config.window;
  return {{"parameters", tacit::LayoutOf(config)->total_size},
          {"steps", f.steps},
          {"seconds", f.seconds},
          {"cpu_seconds", f.cpu_seconds},
          {"tokens_per_s", tokens / f.seconds},
          {"tokens_per_cpu_s", tokens / f.cpu_seconds},
          {"last_loss", f.loss},
          {"peak_rss_mib", static_cast<double>(usage.ru_maxrss) / 1024.0}};
}

// The three products of the output layer every fp32 training step of this
// GRU must make, whoever writes the step: logits [rows x hidden]x[hidden x
// vocab], the hidden gradient [rows x vocab]x[vocab x hidden] and the weight
// gradient [vocab x rows]x[rows x hidden], rows = batch x window. Timed
// alone through the BLAS that serves LibTorch in this process (sgemm_, one
// thread, in a forked child): a floor under both tacit's and the peer's step,
// so the peer's step time over it bounds the ratio any step on this BLAS can
// reach against that peer. CPU seconds per step; null without a BLAS.
nlohmann::json MeasureHeadGemmFloor(const tacit::ModelConfig& config, int batch, int steps) {
  using Sgemm = void (*)(const char*, const char*, const int*, const int*, const int*, const float*,
                         const float*, const int*, const float*, const int*, const float*, float*,
                         const int*);
  auto sgemm = reinterpret_cast<Sgemm>(dlsym(RTLD_DEFAULT, "sgemm_"));
  if (sgemm == nullptr) return nullptr;
  int fds[2];
  if (pipe(fds) != 0) return nullptr;
  const pid_t child = fork();
  if (child == 0) {
    close(fds[0]);
    using SetThreads = void (*)(int);
    if (auto set = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) {
      set(1);
    }
    const int rows = batch * config.window, hidden = config.hidden_dim;
    const int vocab = static_cast<int>(config.vocab_size);
    std::vector<float> h(static_cast<size_t>(rows) * hidden, 0.01f);
    std::vector<float> w(static_cast<size_t>(vocab) * hidden, 0.02f);
    std::vector<float> g(static_cast<size_t>(rows) * vocab, 0.0f);
    std::vector<float> dh(h.size()), dw(w.size());
    const float one = 1.0f, zero = 0.0f;
    auto step = [&] {
      // Column-major views of the row-major matrices.
      sgemm("T", "N", &vocab, &rows, &hidden, &one, w.data(), &hidden, h.data(), &hidden, &zero,
            g.data(), &vocab);  // logits
      sgemm("N", "N", &hidden, &rows, &vocab, &one, w.data(), &hidden, g.data(), &vocab, &zero,
            dh.data(), &hidden);  // d hidden
      sgemm("N", "T", &hidden, &vocab, &rows, &one, h.data(), &hidden, g.data(), &vocab, &zero,
            dw.data(), &hidden);  // d weight
    };
    step();  // warm-up
    const double cpu = ProcessCpuSeconds();
    for (int i = 0; i < steps; ++i) step();
    double per_step = (ProcessCpuSeconds() - cpu) / steps;
    (void)!write(fds[1], &per_step, sizeof(per_step));
    _exit(0);
  }
  close(fds[1]);
  double per_step = 0.0;
  const bool got = read(fds[0], &per_step, sizeof(per_step)) == sizeof(per_step);
  close(fds[0]);
  int status = 0;
  if (child < 0 || waitpid(child, &status, 0) != child || !got || !(per_step > 0.0)) {
    return nullptr;
  }
  const double flops = 3.0 * 2.0 * batch * config.window * config.hidden_dim *
                       static_cast<double>(config.vocab_size);
  return {{"cpu_seconds_per_step", per_step}, {"gflops", flops / per_step * 1e-9}};
}

// Runs the Python peer and returns its JSON, or the reason it is missing.
absl::StatusOr<nlohmann::json> MeasurePeer(const std::string& python, const std::string& script,
                                           const std::vector<std::string>& flags,
                                           bool malloc_tuned) {
  int fds[2];
  if (pipe(fds) != 0) return absl::InternalError("pipe failed");
  const pid_t child = fork();
  if (child == 0) {
    close(fds[0]);
    dup2(fds[1], STDOUT_FILENO);
    if (malloc_tuned) {
      setenv("MALLOC_MMAP_THRESHOLD_", "268435456", 1);  // tacit's mallopt values
      setenv("MALLOC_TRIM_THRESHOLD_", "536870912", 1);
    }
    std::vector<char*> argv = {const_cast<char*>(python.c_str()),
                               const_cast<char*>(script.c_str())};
    for (const auto& f : flags) argv.push_back(const_cast<char*>(f.c_str()));
    argv.push_back(nullptr);
    execv(python.c_str(), argv.data());
    _exit(127);
  }
  close(fds[1]);
  std::string out;
  char buffer[4096];
  for (ssize_t n; (n = read(fds[0], buffer, sizeof(buffer))) > 0;) out.append(buffer, n);
  close(fds[0]);
  int status = 0;
  if (child < 0 || waitpid(child, &status, 0) != child || !WIFEXITED(status)) {
    return absl::InternalError(absl::StrCat(script, " did not finish"));
  }
  if (WEXITSTATUS(status) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat(script, " exited ", WEXITSTATUS(status),
                     WEXITSTATUS(status) == 2 ? " (python3-torch missing or bad flags)" : ""));
  }
  return tacit::ParseJson(out, script);
}

}  // namespace

int main(int argc, char** argv) {
  tacit::UseBestBlasKernels(argv);  // before any thread: it may restart the program
  CLI::App app{"model_bench: tacit's local training vs the same GRU in PyTorch from Python",
               "model_bench"};
  tacit::bench::CommonFlags common;
  tacit::bench::AddCommonFlags(app, &common);
  int steps = 30, warmup = 3, batch = 32;
  std::string python = "/usr/bin/python3", script = TACIT_PYTORCH_REFERENCE;
  bool no_peer = false;
  app.add_option("--steps", steps, "timed optimizer steps")->check(CLI::PositiveNumber);
  app.add_option("--warmup", warmup, "untimed steps first")->check(CLI::NonNegativeNumber);
  app.add_option("--batch-size", batch, "windows per step")->check(CLI::PositiveNumber);
  app.add_option("--python", python, "Python with python3-torch (Debian's /usr/bin/python3)");
  app.add_option("--peer-script", script, "the PyTorch peer")->check(CLI::ExistingFile);
  app.add_flag("--no-peer", no_peer, "measure tacit only");
  if (auto code = tacit::bench::ParseFlags(app, argc, argv)) return *code;

  tacit::bench::BenchReport report("model_bench");
  auto& figures = report.figures();
  figures["batch"] = batch;
  figures["steps"] = steps;
  figures["warmup_steps"] = warmup;
  figures["threads"] = 1;
  figures["blas"] = tacit::BlasDescription();  // dlsym only: no LibTorch threads before fork
  std::fprintf(stderr, "BLAS: %s\n", tacit::BlasDescription().c_str());
  const tacit::ModelConfig gru = tacit::DefaultGruConfig();
  // "gru" runs as shipped (bf16 head products where the CPU has them
  // natively); "gru_fp32_head" is the same step with every product in fp32,
  // the arithmetic the peer does.
  struct Variant {
    std::string name;
    tacit::ModelConfig config;
    bool fp32_head;
  };
  const std::vector<Variant> variants = {{"gru", gru, false},
                                         {"gru_fp32_head", gru, true},
                                         {"transformer", tacit::DefaultTransformerConfig(), false}};
  for (const Variant& v : variants) {
    figures["tacit"][v.name] = MeasureTacit(v.config, warmup, steps, batch, v.fp32_head);
    if (report.RequireFigure("/tacit/" + v.name + "/tokens_per_s")) {
      const auto& t = figures["tacit"][v.name];
      std::fprintf(stderr, "tacit %-13s %8.0f tokens/s (%8.0f per CPU s), peak RSS %4.0f MiB\n",
                   v.name.c_str(), t["tokens_per_s"].get<double>(),
                   t["tokens_per_cpu_s"].get<double>(), t["peak_rss_mib"].get<double>());
    }
  }
  figures["head_gemm_floor"] = MeasureHeadGemmFloor(gru, batch, steps);
  if (report.RequireFigure("/head_gemm_floor/cpu_seconds_per_step") &&
      !figures["tacit"]["gru_fp32_head"].is_null()) {
    const auto& t = figures["tacit"]["gru_fp32_head"];  // the floor is of an fp32 step
    const double floor = figures["head_gemm_floor"]["cpu_seconds_per_step"].get<double>();
    const double tacit_step = t["cpu_seconds"].get<double>() / t["steps"].get<double>();
    figures["head_gemm_floor"]["share_of_tacit_step"] = floor / tacit_step;
    std::fprintf(stderr,
                 "head GEMMs alone (OpenBLAS fp32) %6.1f ms CPU per step (%.0f GFLOP/s): %.0f%% of "
                 "tacit's fp32 step, %.1f ms\n",
                 floor * 1e3, figures["head_gemm_floor"]["gflops"].get<double>(),
                 100.0 * floor / tacit_step, tacit_step * 1e3);
  }
  if (!no_peer) {
    const std::vector<std::string> flags = {"--steps",     std::to_string(steps),
                                            "--warmup",    std::to_string(warmup),
                                            "--batch",     std::to_string(batch),
                                            "--window",    std::to_string(gru.window),
                                            "--vocab",     std::to_string(gru.vocab_size),
                                            "--embedding", std::to_string(gru.embedding_dim),
                                            "--hidden",    std::to_string(gru.hidden_dim),
                                            "--threads",   "1"};
    for (const bool tuned : {false, true}) {
      const std::string key = tuned ? "pytorch_malloc_tuned" : "pytorch";
      auto peer = MeasurePeer(python, script, flags, tuned);
      if (!report.Require(peer.ok(),
                          absl::StrCat(key, " peer: ", peer.ok() ? "" : peer.status().message(),
                                       " (pass --no-peer to skip it)"))) {
        continue;
      }
      figures[key] = *peer;
      if (!report.RequireFigure("/" + key + "/tokens_per_s")) continue;
      const double peer_tokens_per_cpu_s = (*peer)["steps"].get<double>() * batch * gru.window /
                                           (*peer)["cpu_seconds"].get<double>();
      if (!figures["head_gemm_floor"].is_null()) {
        // The best tokens-per-CPU-s ratio an fp32 step doing nothing but the
        // head's products on OpenBLAS would reach against this peer.
        figures["head_gemm_floor"]["bound_on_ratio_vs_" + key] =
            (*peer)["cpu_seconds"].get<double>() / (*peer)["steps"].get<double>() /
            figures["head_gemm_floor"]["cpu_seconds_per_step"].get<double>();
      }
      for (const std::string ours_name : {"gru", "gru_fp32_head"}) {
        const auto& ours = figures["tacit"][ours_name];
        if (ours.is_null()) continue;
        const double wall =
            ours["tokens_per_s"].get<double>() / (*peer)["tokens_per_s"].get<double>();
        const double cpu = ours["tokens_per_cpu_s"].get<double>() / peer_tokens_per_cpu_s;
        const double rss =
            ours["peak_rss_mib"].get<double>() / (*peer)["peak_rss_mib"].get<double>();
        // "ratios" compares tacit as shipped; "ratios_fp32_head" the fp32 step.
        const std::string table = ours_name == "gru" ? "ratios" : "ratios_fp32_head";
        figures[table][key] = {{"tokens_per_s", wall},
                               {"tokens_per_cpu_s", cpu},
                               {"peak_rss", rss},
                               {"speed_target_met", wall >= 1.2},
                               {"rss_target_met", rss <= 0.5 && ours["peak_rss_mib"] < 200.0}};
        std::fprintf(stderr,
                     "%-20s %8.0f tokens/s, peak RSS %4.0f MiB: tacit %s/peer tokens/s %.2fx "
                     "(per CPU s %.2fx), RSS %.2fx\n",
                     key.c_str(), (*peer)["tokens_per_s"].get<double>(),
                     (*peer)["peak_rss_mib"].get<double>(), ours_name.c_str(), wall, cpu, rss);
      }
    }
  }
  return report.Finish(common.json_path, 1);
}
