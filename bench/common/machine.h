#pragma once

// The machine a figure was measured on, for every bench's JSON report: a
// tokens/s or a round time means little without the CPU, the BLAS kernels and
// the threads behind it.

#include <string>
#include <string_view>

#include "nlohmann/json.hpp"

namespace tacit::bench {

struct CpuInfo {
  std::string model;   // "model name" of the first processor ("" when absent)
  std::string vendor;  // "vendor_id" of the first processor
};

// Reads the first "model name" and "vendor_id" lines of /proc/cpuinfo text.
CpuInfo ParseCpuInfo(std::string_view cpuinfo);

// {"cpu_model", "cpu_vendor", "logical_cores", "threads_used", "blas": {...},
//  "openblas_coretype"}: "blas" says which library serves sgemm in this
// process and, for OpenBLAS, its configuration and the core type its kernels
// were built for; "openblas_coretype" is OPENBLAS_CORETYPE when set, else null.
nlohmann::json DescribeMachine(int threads_used);

}  // namespace tacit::bench
