#include "bench/common/machine.h"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "common/blas_info.h"

namespace tacit::bench {
namespace {

std::string_view Trim(std::string_view s) {
  const size_t first = s.find_first_not_of(" \t\r");
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(" \t\r") - first + 1);
}

// The value of a "key<tabs>: value" line when the line names `key`.
bool ValueOf(std::string_view line, std::string_view key, std::string* value) {
  if (line.substr(0, key.size()) != key) return false;
  const size_t colon = line.find(':', key.size());
  if (colon == std::string_view::npos) return false;
  if (!Trim(line.substr(key.size(), colon - key.size())).empty()) return false;
  *value = std::string(Trim(line.substr(colon + 1)));
  return true;
}

nlohmann::json BlasJson() {
  const BlasInfo blas = DescribeLoadedBlas();
  if (!blas.loaded && !blas.openblas) return {{"loaded", false}};
  nlohmann::json out = {{"loaded", true}, {"library", blas.library}, {"openblas", blas.openblas}};
  if (blas.openblas) {
    out["config"] = blas.config;
    out["core"] = blas.core;
    out["threads"] = blas.threads;
  }
  return out;
}

}  // namespace

CpuInfo ParseCpuInfo(std::string_view cpuinfo) {
  CpuInfo info;
  std::istringstream in{std::string(cpuinfo)};
  for (std::string line; std::getline(in, line);) {
    std::string value;
    if (info.model.empty() && ValueOf(line, "model name", &value)) info.model = value;
    if (info.vendor.empty() && ValueOf(line, "vendor_id", &value)) info.vendor = value;
    if (!info.model.empty() && !info.vendor.empty()) break;
  }
  return info;
}

nlohmann::json DescribeMachine(int threads_used) {
  std::ifstream file("/proc/cpuinfo");
  std::stringstream text;
  text << file.rdbuf();
  const CpuInfo cpu = ParseCpuInfo(text.str());
  const char* coretype = std::getenv("OPENBLAS_CORETYPE");
  return {{"cpu_model", cpu.model},
          {"cpu_vendor", cpu.vendor},
          {"logical_cores", ::sysconf(_SC_NPROCESSORS_ONLN)},
          {"threads_used", threads_used},
          {"blas", BlasJson()},
          {"openblas_coretype", coretype != nullptr ? nlohmann::json(coretype) : nullptr}};
}

}  // namespace tacit::bench
