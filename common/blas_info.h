#pragma once

#include <string>

namespace tacit {

// The BLAS library that serves matrix products in this process, found at run
// time with dlsym: nothing is loaded or linked for it. A process that links no
// BLAS (the coordinator, most benchmarks) reports loaded = false.
struct BlasInfo {
  bool loaded = false;    // some library defines sgemm_ in this process
  std::string library;    // its file, symlinks resolved ("" when not loaded)
  bool openblas = false;  // it is OpenBLAS: the fields below are filled
  std::string config;     // openblas_get_config(), e.g. "OpenBLAS 0.3.21 DYNAMIC_ARCH ..."
  std::string core;       // openblas_get_corename(): the kernels it picked, e.g. "Haswell"
  int threads = 0;        // openblas_get_num_threads()
};

BlasInfo DescribeLoadedBlas();

}  // namespace tacit
