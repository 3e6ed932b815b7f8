#include "bench/common/report.h"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>

#include "bench/common/flags.h"
#include "bench/common/machine.h"

namespace tacit::bench {

BenchReport::BenchReport(std::string bench) : bench_(std::move(bench)) {}

bool BenchReport::Require(bool happened, const std::string& what) {
  if (!happened) missing_.push_back(what);
  return happened;
}

bool BenchReport::RequireFigure(const std::string& pointer) {
  std::string problem;
  try {
    const nlohmann::json::json_pointer where(pointer);
    if (!figures_.contains(where)) {
      problem = "absent";
    } else if (const nlohmann::json& value = figures_.at(where); !value.is_number()) {
      problem = "not a number (" + value.dump() + ")";
    } else if (const double x = value.get<double>(); !std::isfinite(x) || x < 0) {
      problem = "not measured (" + value.dump() + ")";
    }
  } catch (const nlohmann::json::exception& e) {
    problem = std::string("not a valid JSON pointer: ") + e.what();
  }
  return Require(problem.empty(), "figure " + pointer + " " + problem);
}

int BenchReport::Finish(const std::string& json_path, int threads_used) {
  const nlohmann::json report = {{"bench", bench_},
                                 {"machine", DescribeMachine(threads_used)},
                                 {"figures", figures_},
                                 {"missing", missing_}};
  // Non-finite doubles would be written as null; replace keeps invalid UTF-8
  // (a device name, a path) from throwing.
  const std::string text = report.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
  bool written = true;
  if (json_path.empty()) {
    std::cout << text << std::endl;
  } else {
    std::ofstream out(json_path);
    out << text << "\n";
    out.close();
    written = static_cast<bool>(out);
    if (!written) std::fprintf(stderr, "%s: cannot write %s\n", bench_.c_str(), json_path.c_str());
  }
  for (const std::string& what : missing_) {
    std::fprintf(stderr, "%s: FAILED: did not happen: %s\n", bench_.c_str(), what.c_str());
  }
  return missing_.empty() && written ? kExitOk : kExitWorkMissing;
}

}  // namespace tacit::bench
