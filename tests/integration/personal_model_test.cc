// Personal models on real laptops (task.personalization): the real
// coordinator and real `tacit-client run` daemons over loopback mutual TLS.
// After its round each laptop fine-tunes the global model it downloaded on
// its own store and keeps it; the owner's policy can refuse it;
// `tacit-client predict` uses it without a call; `erase --all` erases it
// with the events it was trained on. That nothing of it leaves the laptop
// is WireCanary's check (its task asks for personal models too).

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "client/runtime/model_cache.h"
#include "client/runtime/personal_model_store.h"
#include "client/store/erase_store.h"
#include "nlohmann/json.hpp"
#include "tests/integration/fleet_harness.h"

namespace tacit::testing {
namespace {

TEST(PersonalModel, FineTunedOnTheLaptopUsedByPredictAndErasedWithTheEvents) {
  Fleet fleet("personal");
  const std::string task =
      fleet.WriteTask({{"rounds", 1}, {"personalization", {{"steps", 10}, {"lr", 0.05}}}});
  const std::vector<std::string> devices = {"p1", "p2", "p3", "refuses"};
  for (size_t i = 0; i < devices.size(); ++i) fleet.AddDevice(devices[i], static_cast<int>(i), 800);
  // The owner of "refuses" turned personal models off.
  {
    nlohmann::json policy = nlohmann::json::parse(runtime::DefaultParticipationPolicyJson());
    policy["personal_model"] = false;
    std::ofstream(fleet.ClientDir("refuses") + "/participation_policy.json") << policy.dump(2);
  }
  auto coordinator = fleet.StartCoordinator(task, /*exit_when_done=*/true);
  ASSERT_TRUE(fleet.WaitServing(30)) << ReadFile(fleet.LogPath("coordinator"));
  std::vector<std::unique_ptr<ChildProcess>> clients;
  for (const auto& d : devices) clients.push_back(fleet.StartClient(d));
  ASSERT_EQ(coordinator->Wait(180), 0) << ReadFile(fleet.LogPath("coordinator"));
  for (size_t i = 0; i < clients.size(); ++i) {
    EXPECT_EQ(clients[i]->Wait(60), 0) << ReadFile(fleet.LogPath(devices[i]));
  }

  for (const std::string device : {"p1", "p2", "p3"}) {
    SCOPED_TRACE(device);
    const std::string dir = fleet.ClientDir(device);
    auto info = runtime::ReadPersonalModelInfo(dir);
    ASSERT_TRUE(info.ok()) << info.status();
    ASSERT_TRUE(info->has_value()) << ReadFile(fleet.LogPath(device));
    const runtime::PersonalModelInfo& p = **info;
    EXPECT_EQ(p.task, "integration");
    EXPECT_EQ(p.base_version, runtime::HeldModelOf(dir).version);
    EXPECT_EQ(p.steps, 10);
    EXPECT_GT(p.train_tokens, 100);
    EXPECT_GT(p.test_predictions, 0);
    EXPECT_GE(p.personal_top1, 0.0);
    EXPECT_LE(p.personal_top1, 1.0);
    EXPECT_TRUE(std::filesystem::exists(dir + "/" + kPersonalModelFile));
    EXPECT_NE(ReadFile(fleet.LogPath(device)).find("personal model fine-tuned from global version"),
              std::string::npos);
  }
  const std::string refuses = fleet.ClientDir("refuses");
  EXPECT_FALSE(std::filesystem::exists(refuses + "/" + kPersonalModelFile));
  EXPECT_NE(ReadFile(fleet.LogPath("refuses")).find("personal models are off"), std::string::npos)
      << ReadFile(fleet.LogPath("refuses"));

  // predict: the personal model, no call (the audit log does not grow).
  const std::string dir = fleet.ClientDir("p1");
  const size_t audit_lines = AuditLines(dir).size();
  std::string out;
  ASSERT_EQ(
      RunTool({ToolPath("tacit-client"), "--dir", dir, "predict", "--top", "4", "--json"}, &out), 0)
      << out;
  const nlohmann::json predicted = nlohmann::json::parse(out, nullptr, false);
  ASSERT_TRUE(predicted.is_object()) << out;
  EXPECT_EQ(predicted.value("model", ""), "personal");
  ASSERT_EQ(predicted["predictions"].size(), 4u) << out;
  double previous = 1.0;
  for (const auto& p : predicted["predictions"]) {
    EXPECT_LE(p.value("probability", 2.0), previous);
    previous = p.value("probability", 2.0);
    EXPECT_FALSE(p.value("feature", "").empty());
  }
  ASSERT_EQ(
      RunTool({ToolPath("tacit-client"), "--dir", dir, "predict", "--global", "--json"}, &out), 0)
      << out;
  EXPECT_EQ(nlohmann::json::parse(out, nullptr, false).value("model", ""), "global") << out;
  ASSERT_EQ(RunTool({ToolPath("tacit-client"), "--dir", dir, "predict"}, &out), 0) << out;
  EXPECT_NE(out.find("nothing was sent"), std::string::npos) << out;
  EXPECT_EQ(AuditLines(dir).size(), audit_lines);
  // The refusing laptop predicts with the global model and says why.
  ASSERT_EQ(RunTool({ToolPath("tacit-client"), "--dir", refuses, "predict", "--json"}, &out), 0)
      << out;
  EXPECT_EQ(nlohmann::json::parse(out, nullptr, false).value("model", ""), "global") << out;

  // status shows it; erase --all erases it with the events.
  ASSERT_EQ(RunTool({ToolPath("tacit-client"), "--dir", dir, "status", "--json"}, &out), 0) << out;
  const nlohmann::json status = nlohmann::json::parse(out, nullptr, false);
  ASSERT_TRUE(status.is_object()) << out;
  EXPECT_TRUE(status["personal_model"].is_object()) << out;
  ASSERT_EQ(RunTool({ToolPath("tacit-client"), "--dir", dir, "erase", "--all"}, &out), 0) << out;
  EXPECT_NE(out.find("personal model"), std::string::npos) << out;
  EXPECT_FALSE(std::filesystem::exists(dir + "/" + kPersonalModelFile));
  EXPECT_FALSE(std::filesystem::exists(dir + "/" + kPersonalModelInfoFile));
  EXPECT_NE(RunTool({ToolPath("tacit-client"), "--dir", dir, "predict"}, &out), 0) << out;
  EXPECT_NE(out.find("no activity stored"), std::string::npos) << out;
}

}  // namespace
}  // namespace tacit::testing
