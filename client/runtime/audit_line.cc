#include "client/runtime/audit_line.h"

#include "client/runtime/audit_log.h"
#include "common/json_parse.h"

namespace tacit::runtime {
namespace {

int64_t Calls(const nlohmann::json& line, const char* rpc) {
  if (!line.contains("rpc") || !line["rpc"].is_object() || !line["rpc"].contains(rpc)) return 0;
  return IntOr(line["rpc"][rpc], "calls", 0);
}

}  // namespace

AuditLineCounts CountAuditLine(const nlohmann::json& line) {
  AuditLineCounts counts;
  counts.round = StringOr(line, "kind", line.contains("round") ? "round" : "") == "round";
  counts.time = StringOr(line, "time", "");
  counts.bytes_up = IntOr(line, "bytes_up", 0);
  counts.bytes_down = IntOr(line, "bytes_down", 0);
  counts.check_ins = Calls(line, kRpcCheckIn);
  counts.downloads = Calls(line, kRpcDownloadModel);
  if (!counts.round) return counts;
  counts.task = StringOr(line, "task", "(unknown task)");
  counts.joined = line.contains("sent") && line["sent"].is_array() && !line["sent"].empty();
  const std::string outcome = StringOr(line, "outcome", "");
  counts.declined =
      !counts.joined && (outcome.rfind("refused: ", 0) == 0 || outcome.rfind("paused: ", 0) == 0);
  if (line.contains("noise_multiplier") && line["noise_multiplier"].is_number()) {
    counts.noise_multiplier = line["noise_multiplier"].get<double>();
  }
  return counts;
}

}  // namespace tacit::runtime
