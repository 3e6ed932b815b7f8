#include "models/blas_kernels.h"

#include <dlfcn.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace tacit {
namespace {

bool Has(const std::vector<std::string>& flags, const char* flag) {
  return std::find(flags.begin(), flags.end(), flag) != flags.end();
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// 0 generic (SSE), 1 AVX2, 2 AVX-512, 3 AVX-512 with BF16.
int KernelRank(const std::string& core) {
  const std::string c = Lower(core);
  if (c == "cooperlake" || c == "sapphirerapids") return 3;
  if (c == "skylakex") return 2;
  if (c == "haswell" || c == "zen") return 1;
  return 0;
}

}  // namespace

std::string BestOpenBlasCore(const std::vector<std::string>& cpu_flags) {
  // The kernel's flags already leave out what the OS does not enable (XSAVE state).
  const bool avx512 = Has(cpu_flags, "avx512f") && Has(cpu_flags, "avx512cd") &&
                      Has(cpu_flags, "avx512bw") && Has(cpu_flags, "avx512dq") &&
                      Has(cpu_flags, "avx512vl");
  if (avx512 && Has(cpu_flags, "avx512_bf16")) return "Cooperlake";
  if (avx512) return "SkylakeX";
  if (Has(cpu_flags, "avx2") && Has(cpu_flags, "fma")) return "Haswell";
  return "";
}

bool IsOpenBlasUpgrade(const std::string& wanted, const std::string& loaded) {
  return !wanted.empty() && KernelRank(wanted) > KernelRank(loaded);
}

std::string OpenBlasCoreToRestartWith(const char* env_coretype, const std::string& loaded_core,
                                      const std::vector<std::string>& cpu_flags) {
  if (env_coretype != nullptr) return "";
  const std::string best = BestOpenBlasCore(cpu_flags);
  return IsOpenBlasUpgrade(best, loaded_core) ? best : "";
}

std::vector<std::string> CpuFlags() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("flags", 0) != 0) continue;
    std::istringstream words(line.substr(line.find(':') + 1));
    std::vector<std::string> flags;
    for (std::string w; words >> w;) flags.push_back(w);
    return flags;
  }
  return {};
}

void UseBestBlasKernels(char** argv) {
  // The process this one re-executed: the core is chosen, nothing to probe.
  if (std::getenv(kBlasReexecVariable) != nullptr) return;
  using GetCorename = char* (*)();
  auto corename = reinterpret_cast<GetCorename>(dlsym(RTLD_DEFAULT, "openblas_get_corename"));
  if (corename == nullptr || argv == nullptr || argv[0] == nullptr) return;
  const std::string loaded = corename() != nullptr ? corename() : "";
  const std::string core =
      OpenBlasCoreToRestartWith(std::getenv("OPENBLAS_CORETYPE"), loaded, CpuFlags());
  if (core.empty()) return;
  if (setenv("OPENBLAS_CORETYPE", core.c_str(), 1) != 0) return;
  if (setenv(kBlasReexecVariable, "1", 1) != 0) return;
  execv("/proc/self/exe", argv);
  std::fprintf(stderr,
               "warning: OpenBLAS runs its %s kernels; restarting with "
               "OPENBLAS_CORETYPE=%s for this CPU failed (%s): training runs slower\n",
               loaded.c_str(), core.c_str(), std::strerror(errno));
}

}  // namespace tacit
