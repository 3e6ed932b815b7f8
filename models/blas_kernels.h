#pragma once

#include <string>
#include <vector>

namespace tacit {

// OpenBLAS kernels for the CPU the program runs on (library tacit_models).
//
// OpenBLAS (DYNAMIC_ARCH) picks its kernel set ("core type") once, when it
// loads, from the CPU model it knows. On a CPU newer than its table it falls
// back to generic SSE3 kernels ("Prescott"): 4x slower matrix products for
// tacit's GRU than its AVX-512 kernels on the same machine (docs/model.md).
// OPENBLAS_CORETYPE overrides the choice but is read only at load time, so a
// program that wants better kernels must set it and start again.

// The best OpenBLAS core type this CPU's feature flags (as /proc/cpuinfo
// lists them) can run: "Cooperlake" (AVX-512 with BF16), "SkylakeX"
// (AVX-512 F/CD/BW/DQ/VL), "Haswell" (AVX2 and FMA), or "" (nothing beyond
// what OpenBLAS detects anyway).
std::string BestOpenBlasCore(const std::vector<std::string>& cpu_flags);

// Whether running `wanted` kernels instead of the `loaded` ones (an
// openblas_get_corename() value) is an upgrade: generic SSE kernels < AVX2
// (Haswell, Zen) < AVX-512 (SkylakeX) < AVX-512 BF16 (Cooperlake,
// SapphireRapids). Case-insensitive; an unknown `loaded` core counts as generic.
bool IsOpenBlasUpgrade(const std::string& wanted, const std::string& loaded);

// The core type to re-start with, or "" to keep going: when the user left
// OPENBLAS_CORETYPE unset (`env_coretype` null) and the loaded OpenBLAS
// picked kernels below what the CPU runs. An explicit OPENBLAS_CORETYPE is
// always respected.
std::string OpenBlasCoreToRestartWith(const char* env_coretype, const std::string& loaded_core,
                                      const std::vector<std::string>& cpu_flags);

// Set to "1" beside OPENBLAS_CORETYPE by UseBestBlasKernels's re-exec: the
// restarted process probes nothing, and an OPENBLAS_CORETYPE set without it
// is the user's.
inline constexpr const char* kBlasReexecVariable = "TACIT_BLAS_REEXEC";

// First thing in main() of a program that trains (tacit-sim, tacit-central,
// model_bench), or as tacit-client's `run` is parsed (its other subcommands
// do not train and skip the probe and the restart), before any thread
// starts: when OpenBlasCoreToRestartWith(...) names a core, sets
// OPENBLAS_CORETYPE to it and kBlasReexecVariable, and re-executes
// /proc/self/exe with the same arguments (once: the restarted process sees
// kBlasReexecVariable and returns at once). Returns when nothing needed
// doing, without OpenBLAS, or when the exec failed (a warning on stderr;
// training then runs, slower).
void UseBestBlasKernels(char** argv);

// The CPU's feature flags from /proc/cpuinfo (empty if unreadable).
std::vector<std::string> CpuFlags();

}  // namespace tacit
