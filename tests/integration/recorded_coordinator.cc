#include "tests/integration/recorded_coordinator.h"

#include <gtest/gtest.h>

#include <chrono>

#include "task/task_config.h"

namespace tacit::testing {

RecordedCoordinator::RecordedCoordinator(Fleet& fleet, const std::string& task_path)
    : recorder_(std::make_unique<WireRecorder>(ReadFile(fleet.pki() + "/ca.crt"))) {
  absl::StatusOr<TaskConfig> task = ParseTaskConfig(nlohmann::json::parse(ReadFile(task_path)));
  if (!task.ok()) {
    ADD_FAILURE() << task.status();
    return;
  }
  coordinator::CoordinatorServerConfig config;
  config.task = *task;
  config.state_dir = fleet.state();
  config.ca_pem = recorder_->ca_pem();
  config.server_cert_pem = ReadFile(fleet.pki() + "/server.crt");
  config.server_key_pem = ReadFile(fleet.pki() + "/server.key");
  config.listen = fleet.address();
  config.long_poll_seconds = 2;
  config.check_ins_per_minute = 600;
  WireRecorder* recorder = recorder_.get();
  config.interceptors = [recorder] { return recorder->Creators(); };
  absl::StatusOr<std::unique_ptr<coordinator::CoordinatorServer>> server =
      coordinator::CoordinatorServer::Start(std::move(config));
  if (!server.ok()) {
    ADD_FAILURE() << server.status();
    return;
  }
  server_ = *std::move(server);
  driver_ = std::thread([this] {
    while (!stop_.load()) {
      server_->Tick(coordinator::SteadyClock::now());
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
}

RecordedCoordinator::~RecordedCoordinator() { Stop(); }

void RecordedCoordinator::Stop() {
  stop_.store(true);
  if (driver_.joinable()) driver_.join();
  if (server_) server_->Shutdown();
}

}  // namespace tacit::testing
