#include "common/blas_info.h"

#include <dlfcn.h>

#include <climits>
#include <cstdlib>

namespace tacit {

BlasInfo DescribeLoadedBlas() {
  BlasInfo info;
  if (void* sgemm = dlsym(RTLD_DEFAULT, "sgemm_")) {
    info.loaded = true;
    Dl_info where;
    if (dladdr(sgemm, &where) != 0 && where.dli_fname != nullptr) {
      char resolved[PATH_MAX];
      info.library = realpath(where.dli_fname, resolved) != nullptr ? resolved : where.dli_fname;
    }
  }
  using GetText = char* (*)();
  using GetInt = int (*)();
  auto config = reinterpret_cast<GetText>(dlsym(RTLD_DEFAULT, "openblas_get_config"));
  if (config == nullptr) return info;
  info.openblas = true;
  info.config = config();
  if (auto core = reinterpret_cast<GetText>(dlsym(RTLD_DEFAULT, "openblas_get_corename"))) {
    info.core = core();
  }
  if (auto threads = reinterpret_cast<GetInt>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads"))) {
    info.threads = threads();
  }
  return info;
}

}  // namespace tacit
