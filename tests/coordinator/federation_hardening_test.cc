// A real coordinator (CoordinatorServer) on loopback, reached over real
// mutual TLS with certificates from a real PKI folder: a revoked device is
// refused on every method (also on a connection opened before the
// revocation), a re-issued certificate works; a message above the task's
// computed max size is refused by gRPC; a flood of calls from one device is
// rate limited per method.

#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>

#include "common/file_io.h"
#include "coordinator/pki.h"
#include "coordinator/pki_revocation.h"
#include "coordinator/service/call_limits.h"
#include "coordinator/service/coordinator_server.h"
#include "coordinator/service/federation_service.h"
#include "coordinator/structured_log.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "spdlog/sinks/null_sink.h"
#include "tacit/v1/federation.grpc.pb.h"

namespace tacit::coordinator {
namespace {

using ::testing::HasSubstr;

TaskConfig SmallTask() {
  nlohmann::json json = {
      {"name", "hardening-test"},
      {"model",
       {{"name", "gru"},
        {"hyperparameters", {{"embedding_dim", 4}, {"hidden_dim", 4}, {"window", 4}}}}},
      {"vocab", {{"size", 16}, {"salt", "s"}}},
      {"rounds", 1},
      {"cohort", {{"size", 3}, {"over_selection", 1.0}, {"min_survivors", 3}}},
      {"deadlines", {{"check_in", 60}}},
      {"secure_agg", {{"clip_range", 0.5}}}};
  auto task = ParseTaskConfig(json);
  EXPECT_TRUE(task.ok()) << task.status();
  return *task;
}

class FederationHardeningTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/hardening_" + std::to_string(::getpid());
    std::filesystem::remove_all(dir_);
    pki_ = dir_ + "/pki";
    ASSERT_TRUE(InitPkiFolder(pki_, {"localhost", "127.0.0.1"}).ok());
    ASSERT_TRUE(IssueDeviceInFolder(pki_, "laptop-1", 30).ok());
    CoordinatorServerConfig config;
    config.task = SmallTask();
    config.state_dir = dir_ + "/state";
    config.ca_pem = *ReadFileToString(pki_ + "/ca.crt");
    config.server_cert_pem = *ReadFileToString(pki_ + "/server.crt");
    config.server_key_pem = *ReadFileToString(pki_ + "/server.key");
    config.revocation_dir = pki_;
    config.logger = MakeJsonLogger("test", {std::make_shared<spdlog::sinks::null_sink_mt>()});
    auto server = CoordinatorServer::Start(std::move(config));
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
  }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }

  // A fresh channel (its own TLS connection) with the device's files as they are now.
  std::unique_ptr<v1::Federation::Stub> Stub(const std::string& device) {
    grpc::SslCredentialsOptions tls;
    tls.pem_root_certs = *ReadFileToString(pki_ + "/ca.crt");
    tls.pem_cert_chain = *ReadFileToString(pki_ + "/devices/" + device + ".crt");
    tls.pem_private_key = *ReadFileToString(pki_ + "/devices/" + device + ".key");
    grpc::ChannelArguments args;
    args.SetSslTargetNameOverride("localhost");
    args.SetMaxSendMessageSize(512 << 20);
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    return v1::Federation::NewStub(
        grpc::CreateCustomChannel(server_->grpc_address(), grpc::SslCredentials(tls), args));
  }

  static grpc::Status CheckIn(v1::Federation::Stub& stub, v1::CheckInResponse* response = nullptr) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    v1::CheckInRequest request;
    request.set_model_version(-1);
    v1::CheckInResponse ignored;
    return stub.CheckIn(&context, request, response ? response : &ignored);
  }

  static grpc::Status NextMessage(v1::Federation::Stub& stub) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    v1::NextMessageRequest request;
    request.set_session("not-a-session");
    v1::NextMessageResponse response;
    return stub.NextMessage(&context, request, &response);
  }

  std::string dir_;
  std::string pki_;
  std::unique_ptr<CoordinatorServer> server_;
};

TEST_F(FederationHardeningTest, RevokedDeviceIsRefusedAndAReissuedOneWorks) {
  std::unique_ptr<v1::Federation::Stub> before = Stub("laptop-1");
  ASSERT_TRUE(CheckIn(*before).ok());

  ASSERT_TRUE(RevokeDeviceInFolder(pki_, "laptop-1").ok());
  // The connection opened before the revocation and a new one: both refused,
  // on every method, with the reason and nothing else.
  std::unique_ptr<v1::Federation::Stub> after = Stub("laptop-1");
  for (v1::Federation::Stub* stub : {before.get(), after.get()}) {
    v1::CheckInResponse response;
    grpc::Status refused = CheckIn(*stub, &response);
    EXPECT_EQ(refused.error_code(), grpc::StatusCode::PERMISSION_DENIED);
    EXPECT_THAT(refused.error_message(), HasSubstr("was revoked by the fleet operator"));
    EXPECT_FALSE(response.has_assignment());
    EXPECT_EQ(NextMessage(*stub).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  }

  // `pki issue --replace`: the new certificate works, the old stays revoked.
  const std::string old_cert = *ReadFileToString(pki_ + "/devices/laptop-1.crt");
  ASSERT_TRUE(IssueDeviceInFolder(pki_, "laptop-1", 30, /*replace=*/true).ok());
  EXPECT_TRUE(CheckIn(*Stub("laptop-1")).ok());
  EXPECT_EQ(CheckIn(*before).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_NE(old_cert, *ReadFileToString(pki_ + "/devices/laptop-1.crt"));
}

TEST_F(FederationHardeningTest, ReplacingACertificateRevokesTheOldOneOnTheWire) {
  std::unique_ptr<v1::Federation::Stub> old_stub = Stub("laptop-1");
  ASSERT_TRUE(CheckIn(*old_stub).ok());
  ASSERT_TRUE(IssueDeviceInFolder(pki_, "laptop-1", 30, /*replace=*/true).ok());
  EXPECT_EQ(CheckIn(*old_stub).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(CheckIn(*Stub("laptop-1")).ok());
}

TEST_F(FederationHardeningTest, MaxReceiveSizeIsTheTasksLargestMessageAndGrpcRefusesMore) {
  const TaskConfig task = SmallTask();
  const uint64_t model_length = server_->orchestrator().global_parameters().size();
  ASSERT_GT(model_length, 0u);
  EXPECT_EQ(server_->max_receive_message_bytes(), MaxSubmitBytes(task, model_length));
  EXPECT_LT(server_->max_receive_message_bytes(), 256 << 20);

  std::unique_ptr<v1::Federation::Stub> stub = Stub("laptop-1");
  auto submit = [&](size_t packed_bytes) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    v1::SubmitRequest request;
    request.set_session("s");
    request.mutable_message()->mutable_masked_input()->set_packed(std::string(packed_bytes, 'x'));
    v1::SubmitResponse response;
    return stub->Submit(&context, request, &response);
  };
  const size_t limit = static_cast<size_t>(server_->max_receive_message_bytes());
  grpc::Status over = submit(limit + 1);
  EXPECT_EQ(over.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << over.error_message();
  // Within the limit the request reaches the service (and is refused there:
  // there is no such session), not the size check.
  grpc::Status within = submit(limit / 2);
  EXPECT_NE(within.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << within.error_message();

  // A small method's cap is checked in the handler.
  grpc::ClientContext context;
  v1::CheckInRequest big;
  big.set_task_name(std::string(kMaxSmallRequestBytes + 1, 'r'));
  v1::CheckInResponse response;
  grpc::Status refused = stub->CheckIn(&context, big, &response);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(refused.error_message(), HasSubstr("CheckIn request of"));
}

TEST_F(FederationHardeningTest, AFloodOfNextMessageCallsFromOneDeviceIsLimited) {
  ASSERT_TRUE(IssueDeviceInFolder(pki_, "laptop-2", 30).ok());
  std::unique_ptr<v1::Federation::Stub> flood = Stub("laptop-1");
  const int burst = static_cast<int>(FederationServiceOptions().check_in_burst *
                                     CallLimits::CallsPerCheckIn(FederationMethod::kNextMessage));
  const double per_second = FederationServiceOptions().check_ins_per_minute / 60 *
                            CallLimits::CallsPerCheckIn(FederationMethod::kNextMessage);
  const auto start = std::chrono::steady_clock::now();
  int served = 0;
  grpc::Status last;
  for (int i = 0; i < 10 * burst; ++i) {
    last = NextMessage(*flood);
    if (last.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) break;
    ++served;
  }
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_EQ(last.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << "never limited";
  EXPECT_THAT(last.error_message(), HasSubstr("too many NextMessage calls"));
  // The burst, plus what refilled while the calls ran.
  EXPECT_GE(served, burst);
  EXPECT_LE(served, burst + static_cast<int>(elapsed * per_second) + 1);
  // Another device is not affected.
  EXPECT_NE(NextMessage(*Stub("laptop-2")).error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
}

}  // namespace
}  // namespace tacit::coordinator
