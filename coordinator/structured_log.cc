#include "coordinator/structured_log.h"

#include "spdlog/sinks/stdout_sinks.h"

namespace tacit::coordinator {

std::shared_ptr<spdlog::logger> MakeJsonLogger(const std::string& name,
                                               std::vector<spdlog::sink_ptr> sinks) {
  if (sinks.empty()) sinks.push_back(std::make_shared<spdlog::sinks::stderr_sink_mt>());
  auto logger = std::make_shared<spdlog::logger>(name, sinks.begin(), sinks.end());
  // The message (%v) is the JSON object's remaining members, see LogEvent.
  logger->set_pattern(R"({"time":"%Y-%m-%dT%H:%M:%S.%e%z","level":"%l",%v})");
  return logger;
}

void LogEvent(spdlog::logger& logger, spdlog::level::level_enum level, const std::string& event,
              const nlohmann::json& fields) {
  if (!logger.should_log(level)) return;
  nlohmann::json body = {{"event", event}};
  if (fields.is_object()) {
    for (auto it = fields.begin(); it != fields.end(); ++it) {
      if (it.key() != "time" && it.key() != "level" && it.key() != "event") {
        body[it.key()] = it.value();
      }
    }
  } else if (!fields.is_null()) {
    body["detail"] = fields;
  }
  // Invalid UTF-8 in a field (a device's message) is replaced, never thrown.
  std::string text = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  // Strip the outer braces: the pattern supplies them around time and level.
  logger.log(level, "{}", text.substr(1, text.size() - 2));
}

}  // namespace tacit::coordinator
