// The canary test: real tacit-client processes run whole rounds against the
// real coordinator (in-process, mutual TLS on loopback) whose gRPC server
// records every message. One laptop's store holds unique canary strings in
// the fields a privacy filter may pass (apps, shell commands). Nothing the
// coordinator receives may contain them, no request may carry a field
// outside the README's list (nor any field the coordinator's proto does not
// know, which is how device state would reappear), and each laptop's audit
// log must count exactly the bytes the coordinator received from it and
// sent to it, per RPC. No laptop receives another device's id: neighbours'
// keys come with pseudonymous SecAgg credentials, not certificates.

#include <gtest/gtest.h>

#include <filesystem>

#include <set>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "client/runtime/audit_log.h"
#include "client/store/erase_store.h"
#include "client/store/event_store.h"
#include "common/secure_random.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/unknown_field_set.h"
#include "tests/integration/fleet_harness.h"
#include "tests/integration/recorded_coordinator.h"

namespace tacit::testing {
namespace {

const std::map<std::string, std::string> kPurposeOfMethod = {
    {"/tacit.v1.Federation/CheckIn", runtime::kRpcCheckIn},
    {"/tacit.v1.Federation/DownloadModel", runtime::kRpcDownloadModel},
    {"/tacit.v1.Federation/NextMessage", runtime::kRpcNextMessage},
    {"/tacit.v1.Federation/Submit", runtime::kRpcSubmit},
    {"/tacit.v1.Federation/RoundResult", runtime::kRpcRoundResult}};

// The fields each request may set: README.md, "What leaves the laptop".
const std::map<std::string, std::set<std::string>> kAllowedRequestFields = {
    {"tacit.v1.CheckInRequest", {"task_name", "model_version", "layout_hash"}},
    {"tacit.v1.DownloadModelRequest", {"session", "round_id", "model_version", "offset"}},
    {"tacit.v1.NextMessageRequest", {"session", "round_id", "step"}},
    {"tacit.v1.SubmitRequest", {"session", "round_id", "message"}},
    {"tacit.v1.RoundResultRequest", {"session", "round_id"}}};

// Fields the receiver's proto does not know, anywhere in `message`.
int UnknownFields(const google::protobuf::Message& message) {
  const google::protobuf::Reflection* reflection = message.GetReflection();
  int unknown = reflection->GetUnknownFields(message).field_count();
  std::vector<const google::protobuf::FieldDescriptor*> fields;
  reflection->ListFields(message, &fields);
  for (const auto* field : fields) {
    if (field->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE) continue;
    if (field->is_repeated()) {
      for (int i = 0; i < reflection->FieldSize(message, field); ++i) {
        unknown += UnknownFields(reflection->GetRepeatedMessage(message, field, i));
      }
    } else {
      unknown += UnknownFields(reflection->GetMessage(message, field));
    }
  }
  return unknown;
}

std::string Canary(const std::string& what) {
  absl::StatusOr<uint64_t> random = SecureRandomU64();
  EXPECT_TRUE(random.ok());
  const uint64_t value = random.ok() ? *random : 0;
  return absl::StrCat("canary", what,
                      absl::BytesToHexString(
                          absl::string_view(reinterpret_cast<const char*>(&value), sizeof(value))));
}

// Plants canary apps and commands among the device's stored events.
std::vector<std::string> PlantCanaries(const std::string& dir) {
  std::vector<std::string> canaries;
  std::vector<Event> events;
  for (int i = 0; i < 40; ++i) {
    Event app;
    app.time_ms = 1'700'000'000'000 + i * 1000;
    app.kind = EventKind::kAppFocus;
    app.app = canaries.emplace_back(Canary("app"));
    Event command;
    command.time_ms = app.time_ms + 500;
    command.kind = EventKind::kShellCommand;
    command.command = canaries.emplace_back(Canary("cmd"));
    events.push_back(app);
    events.push_back(command);
  }
  auto store = EventStore::OpenInDirectory(dir);
  EXPECT_TRUE(store.ok()) << store.status();
  if (store.ok()) {
    EXPECT_TRUE((*store)->Append(events).ok());
  }
  return canaries;
}

// Bytes per RPC purpose and direction, as the audit log counts them.
struct Counted {
  std::map<std::string, runtime::RpcBytes> by_rpc;
};

Counted FromAudit(const std::string& dir) {
  Counted counted;
  for (const nlohmann::json& line : AuditLines(dir)) {
    for (const auto& [rpc, bytes] : line.at("rpc").items()) {
      runtime::RpcBytes& c = counted.by_rpc[rpc];
      c.up += bytes.at("up").get<int64_t>();
      c.down += bytes.at("down").get<int64_t>();
    }
  }
  return counted;
}

TEST(WireCanary, NothingButTheListedFieldsLeavesAndEveryByteIsCounted) {
  Fleet fleet("canary");
  // Personal models on: each laptop fine-tunes one on its store (canaries
  // included) after its rounds; it must not leave either.
  const std::string task_path =
      fleet.WriteTask({{"rounds", 2}, {"personalization", {{"steps", 5}, {"lr", 0.05}}}});
  // Ids long enough that none appears by chance in model or mask bytes.
  const std::vector<std::string> devices = {"canary", "colleague-two", "colleague-three",
                                            "colleague-four"};
  for (size_t i = 0; i < devices.size(); ++i) {
    fleet.AddDevice(devices[i], static_cast<int>(i), 1200);
  }
  const std::vector<std::string> canaries = PlantCanaries(fleet.ClientDir("canary"));

  RecordedCoordinator coordinator(fleet, task_path);
  ASSERT_NE(coordinator.server(), nullptr);
  std::vector<std::unique_ptr<ChildProcess>> clients;
  for (const std::string& d : devices) clients.push_back(fleet.StartClient(d));
  for (size_t i = 0; i < clients.size(); ++i) {
    EXPECT_EQ(clients[i]->Wait(240), 0) << ReadFile(fleet.LogPath(devices[i]));
  }
  EXPECT_TRUE(coordinator.server()->orchestrator().done());
  coordinator.Stop();
  for (const std::string& device : devices) {
    EXPECT_TRUE(std::filesystem::exists(fleet.ClientDir(device) + "/" + kPersonalModelFile))
        << device << " made no personal model: " << ReadFile(fleet.LogPath(device));
  }

  const auto wire = coordinator.recorder().ByDevice();
  ASSERT_EQ(wire.count("(unauthenticated)"), 0u);
  for (const std::string& device : devices) {
    SCOPED_TRACE(device);
    ASSERT_EQ(wire.count(device), 1u);
    Counted seen;
    int submits = 0;
    for (const WireMessage& m : wire.at(device)) {
      ASSERT_EQ(kPurposeOfMethod.count(m.method), 1u) << m.method;
      runtime::RpcBytes& bytes = seen.by_rpc[kPurposeOfMethod.at(m.method)];
      (m.from_device ? bytes.up : bytes.down) += static_cast<int64_t>(m.bytes.size());
      if (!m.from_device) {
        for (const std::string& other : devices) {
          if (other == device) continue;
          ASSERT_EQ(m.bytes.find(other), std::string::npos)
              << "device id " << other << " sent to " << device << " in " << m.method;
        }
        continue;
      }
      for (const std::string& canary : canaries) {
        ASSERT_EQ(m.bytes.find(canary), std::string::npos) << canary << " in " << m.method;
      }
      ASSERT_NE(m.message, nullptr);
      const std::string type = m.message->GetDescriptor()->full_name();
      ASSERT_EQ(kAllowedRequestFields.count(type), 1u) << type;
      std::vector<const google::protobuf::FieldDescriptor*> fields;
      m.message->GetReflection()->ListFields(*m.message, &fields);
      for (const auto* field : fields) {
        EXPECT_EQ(kAllowedRequestFields.at(type).count(field->name()), 1u)
            << type << "." << field->name() << " is not in README.md's list";
      }
      EXPECT_EQ(UnknownFields(*m.message), 0) << type << ": " << m.message->DebugString();
      submits += type == "tacit.v1.SubmitRequest";
    }
    EXPECT_GT(submits, 0) << "the device never took part in a round";
    // Every byte the coordinator received from the laptop and sent to it is
    // in the laptop's audit log, per RPC.
    const Counted audited = FromAudit(fleet.ClientDir(device));
    for (const auto& [rpc, bytes] : seen.by_rpc) {
      SCOPED_TRACE(rpc);
      ASSERT_EQ(audited.by_rpc.count(rpc), 1u);
      EXPECT_EQ(audited.by_rpc.at(rpc).up, bytes.up);
      EXPECT_EQ(audited.by_rpc.at(rpc).down, bytes.down);
    }
    EXPECT_EQ(audited.by_rpc.size(), seen.by_rpc.size());
  }
}

}  // namespace
}  // namespace tacit::testing
