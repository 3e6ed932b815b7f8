#pragma once

// Structured logs: one JSON object per line,
//   {"time":"2026-11-25T11:58:01.123+00:00","level":"info","event":"round_committed",...}
// through spdlog, so operators can grep by event and ship lines to any log
// store. Field values are JSON-escaped; "time", "level" and "event" are
// reserved.

#include <memory>
#include <string>
#include <vector>

#include "nlohmann/json.hpp"
#include "spdlog/spdlog.h"

namespace tacit::coordinator {

// A logger writing JSON lines to `sinks` (stderr when empty).
std::shared_ptr<spdlog::logger> MakeJsonLogger(const std::string& name,
                                               std::vector<spdlog::sink_ptr> sinks = {});

void LogEvent(spdlog::logger& logger, spdlog::level::level_enum level, const std::string& event,
              const nlohmann::json& fields = nlohmann::json::object());

}  // namespace tacit::coordinator
