#include "coordinator/service/coordinator_server.h"

#include <grpcpp/grpcpp.h>
#include <grpcpp/resource_quota.h>
#include <grpcpp/security/server_credentials.h>
#include <openssl/crypto.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <filesystem>
#include <iostream>
#include <limits>
#include <optional>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/file_io.h"
#include "common/status_macros.h"
#include "coordinator/operator_http.h"
#include "coordinator/round/privacy_projection.h"
#include "coordinator/round/secagg_bounds.h"
#include "coordinator/service/call_limits.h"
#include "coordinator/service/federation_service.h"
#include "coordinator/structured_log.h"
#include "secure_agg/identity.h"

namespace tacit::coordinator {
namespace {

std::atomic<bool> g_stop{false};
void OnSignal(int) { g_stop.store(true); }

absl::StatusOr<std::pair<std::string, int>> SplitHostPort(const std::string& address) {
  size_t colon = address.rfind(':');
  if (colon == std::string::npos || colon + 1 == address.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("address '", address, "' must be HOST:PORT (e.g. 127.0.0.1:9464)"));
  }
  int port = 0;
  try {
    port = std::stoi(address.substr(colon + 1));
  } catch (const std::exception&) {
    return absl::InvalidArgumentError(absl::StrCat("address '", address, "' has no numeric port"));
  }
  if (port < 0 || port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("port of '", address, "' is out of range"));
  }
  return std::make_pair(address.substr(0, colon), port);
}

int64_t CountDeviceCertificates(const std::string& pki_dir) {
  std::error_code error;
  int64_t count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(pki_dir + "/devices", error)) {
    count += entry.path().extension() == ".crt";
  }
  return count;
}

// A coordinator holds one connection per selected client (1,000 and more),
// so what an idle connection keeps matters more than per-call speed. After a
// 4 MiB masked input, gRPC's TCP endpoint keeps read buffers sized by its
// estimate of the next read (64 KiB slices) for every connection: ~215 KiB
// each, measured at 200 clients, the largest holder (GRPC_ARG_TCP_*_READ_
// CHUNK_SIZE do not bound them in gRPC 1.51). Under a resource quota gRPC
// reads into small slices once the quota is 80% used and, when it is
// exceeded, frees the idle connections' read buffers first (benign
// reclamation), so the quota bounds them for any number of clients. It is
// never set below what the cohort's uploads need in flight at once
// (TransportQuotaFloorBytes): a smaller quota stalls the masked-input phase.
void LimitTransportMemory(grpc::ServerBuilder& builder, int64_t requested_mib, int64_t floor_bytes,
                          spdlog::logger& log) {
  if (requested_mib <= 0) {
    LogEvent(log, spdlog::level::info, "transport_memory_quota",
             {{"requested_mib", requested_mib}, {"quota_mib", nullptr}});
    return;
  }
  const int64_t floor_mib = (floor_bytes + (1 << 20) - 1) >> 20;
  const int64_t mib = std::max(requested_mib, floor_mib);
  LogEvent(log, mib > requested_mib ? spdlog::level::warn : spdlog::level::info,
           "transport_memory_quota",
           {{"requested_mib", requested_mib},
            {"floor_mib", floor_mib},
            {"quota_mib", mib},
            {"why", mib > requested_mib
                        ? "raised to the floor (TransportQuotaFloorBytes): the cohort's uploads "
                          "in flight at once must fit, or the masked-input phase stalls"
                        : "as requested"}});
  grpc::ResourceQuota quota("tacit-coordinator");
  quota.Resize(static_cast<size_t>(mib) << 20);
  builder.SetResourceQuota(quota);
}

// The same refusal as `check-config`: an override weaker than the targets and
// the automatic choice is served only when forced, and then logged as a warning.
absl::Status CheckSecAggBounds(const TaskConfig& task, bool force, spdlog::logger& log) {
  TACIT_ASSIGN_OR_RETURN(SecAggBoundsReport bounds, EvaluateSecAggBounds(task));
  LogEvent(log, spdlog::level::info, "secure_agg_bounds",
           {{"cohort", bounds.cohort},
            {"threshold", bounds.threshold},
            {"neighbors", bounds.neighbors},
            {"overridden", bounds.overridden},
            {"log2_privacy_failure", bounds.log2_privacy_failure},
            {"log2_round_failure", bounds.log2_correctness_failure},
            {"min_survivors", bounds.min_survivors},
            {"max_dropouts", bounds.max_dropouts}});
  absl::Status weak = RefuseWeakOverrides(bounds);
  if (weak.ok()) return weak;
  if (!force) return weak;
  LogEvent(log, spdlog::level::warn, "weak_secure_agg_forced", {{"reason", weak.message()}});
  return absl::OkStatus();
}

// The epsilon the schedule will have spent, logged at start; a large one
// (or none) also loudly on stderr, where an operator starting `serve` looks.
absl::Status ReportPrivacyProjection(const TaskConfig& task, spdlog::logger& log) {
  TACIT_ASSIGN_OR_RETURN(PrivacyProjection projection, ProjectPrivacy(task));
  LogEvent(log, projection.Large() ? spdlog::level::warn : spdlog::level::info,
           "privacy_projection",
           {{"rounds", projection.rounds},
            {"projected_epsilon", projection.epsilon},
            {"delta", projection.delta},
            {"dp_noise", projection.noise}});
  if (projection.Large()) std::cerr << "tacit-coordinator serve: " << projection.Describe();
  return absl::OkStatus();
}

}  // namespace

// Destruction order matters: the gRPC server stops before the service it
// calls, the service before the orchestrator it drives.
class CoordinatorServer::Parts {
 public:
  std::shared_ptr<spdlog::logger> log;
  MetricsRegistry registry;
  std::unique_ptr<RoundOrchestrator> orchestrator;
  std::unique_ptr<FederationService> service;
  std::unique_ptr<OperatorHttpServer> http;
  std::unique_ptr<grpc::Server> server;
};

CoordinatorServer::CoordinatorServer() : parts_(std::make_unique<Parts>()) {}
CoordinatorServer::~CoordinatorServer() { Shutdown(); }

absl::StatusOr<std::unique_ptr<CoordinatorServer>> CoordinatorServer::Start(
    CoordinatorServerConfig config) {
  std::unique_ptr<CoordinatorServer> self(new CoordinatorServer());
  Parts& p = *self->parts_;
  p.log = config.logger ? config.logger : MakeJsonLogger("tacit-coordinator");
  TACIT_ASSIGN_OR_RETURN(std::unique_ptr<StateStore> store, StateStore::Open(config.state_dir));
  OrchestratorOptions orchestration;
  orchestration.population = config.population;
  orchestration.initial_seed = config.initial_seed;
  // The devices sign their advertised keys with their SecAgg credentials
  // (the fleet CA's, secure_agg/credential.h); the coordinator drops a device
  // whose credential or signature fails, as its neighbours do.
  TACIT_ASSIGN_OR_RETURN(orchestration.identity_verifier,
                         secagg::CredentialVerifier::FromPem(config.ca_pem));
  TACIT_ASSIGN_OR_RETURN(p.orchestrator,
                         RoundOrchestrator::Create(config.task, std::move(store), orchestration,
                                                   &p.registry, p.log, SteadyClock::now()));
  self->orchestrator_ = p.orchestrator.get();

  FederationServiceOptions service_options;
  service_options.check_ins_per_minute = config.check_ins_per_minute;
  service_options.revocation_dir = config.revocation_dir;
  service_options.max_submit_bytes =
      MaxSubmitBytes(config.task, p.orchestrator->global_parameters().size());
  self->max_receive_message_bytes_ = service_options.max_submit_bytes;
  service_options.long_poll_seconds = config.long_poll_seconds;
  p.service =
      std::make_unique<FederationService>(p.orchestrator.get(), config.ca_pem, service_options);
  FederationService* service = p.service.get();
  p.orchestrator->SetOnChange([service] { service->long_polls().Wake(); });

  grpc::SslServerCredentialsOptions tls(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  tls.pem_root_certs = config.ca_pem;
  tls.pem_key_cert_pairs.push_back({config.server_key_pem, config.server_cert_pem});
  OPENSSL_cleanse(config.server_key_pem.data(), config.server_key_pem.size());
  grpc::ServerBuilder builder;
  int grpc_port = 0;
  builder.AddListeningPort(config.listen, grpc::SslServerCredentials(tls), &grpc_port);
  OPENSSL_cleanse(tls.pem_key_cert_pairs[0].private_key.data(),
                  tls.pem_key_cert_pairs[0].private_key.size());
  builder.RegisterService(p.service.get());
  // The largest legitimate message of this task (a masked input); gRPC
  // refuses a larger one from its length prefix with RESOURCE_EXHAUSTED.
  builder.SetMaxReceiveMessageSize(static_cast<int>(
      std::min<int64_t>(self->max_receive_message_bytes_, std::numeric_limits<int>::max())));
  LimitTransportMemory(
      builder, config.grpc_memory_mib,
      TransportQuotaFloorBytes(config.task, p.orchestrator->global_parameters().size()), *p.log);
  if (config.interceptors) builder.experimental().SetInterceptorCreators(config.interceptors());
  p.server = builder.BuildAndStart();
  if (!p.server || grpc_port == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", config.listen, " (address in use or not local?)"));
  }
  TACIT_ASSIGN_OR_RETURN(auto grpc_host, SplitHostPort(config.listen));
  self->grpc_address_ = absl::StrCat(grpc_host.first, ":", grpc_port);

  if (!config.metrics_listen.empty()) {
    RoundOrchestrator* orchestrator = p.orchestrator.get();
    p.http = std::make_unique<OperatorHttpServer>(
        &p.registry, [orchestrator] { return orchestrator->StatusJson(); });
    TACIT_ASSIGN_OR_RETURN(auto metrics_host, SplitHostPort(config.metrics_listen));
    TACIT_ASSIGN_OR_RETURN(int port, p.http->Start(metrics_host.first, metrics_host.second));
    self->metrics_address_ = absl::StrCat(metrics_host.first, ":", port);
  }
  return self;
}

void CoordinatorServer::Tick(SteadyClock::time_point now) {
  if (stopped_) return;
  parts_->orchestrator->Tick(now);
  parts_->service->long_polls().Expire(now);
}

void CoordinatorServer::Shutdown() {
  if (stopped_ || !parts_->server) return;
  stopped_ = true;
  LogEvent(*parts_->log, spdlog::level::info, "stopping",
           {{"model_version", orchestrator_->model_version()}, {"done", orchestrator_->done()}});
  // Parked long-polls must be answered for the server to drain, including
  // ones that arrive while it shuts down.
  std::atomic<bool> drained{false};
  FederationService* service = parts_->service.get();
  std::thread drain([&drained, service] {
    while (!drained.load()) {
      service->long_polls().ExpireAll();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  parts_->server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  drained.store(true);
  drain.join();
  if (parts_->http) parts_->http->Stop();
  parts_->log->flush();
}

absl::Status Serve(const ServeOptions& options) {
  CoordinatorServerConfig config;
  TACIT_ASSIGN_OR_RETURN(config.task, LoadTaskConfigFile(options.config_path));
  auto log = MakeJsonLogger("tacit-coordinator");
  TACIT_RETURN_IF_ERROR(CheckSecAggBounds(config.task, options.force_weak_secure_agg, *log));
  TACIT_RETURN_IF_ERROR(ReportPrivacyProjection(config.task, *log));
  TACIT_ASSIGN_OR_RETURN(config.ca_pem, ReadFileToString(options.pki_dir + "/ca.crt"));
  config.revocation_dir = options.pki_dir;
  TACIT_ASSIGN_OR_RETURN(config.server_cert_pem, ReadFileToString(options.pki_dir + "/server.crt"));
  TACIT_ASSIGN_OR_RETURN(config.server_key_pem, ReadFileToString(options.pki_dir + "/server.key"));
  config.state_dir = options.state_dir;
  config.listen = options.listen;
  config.metrics_listen = options.metrics_listen;
  config.population = options.population > 0
                          ? options.population
                          : std::max<int64_t>(CountDeviceCertificates(options.pki_dir),
                                              config.task.SelectedPerRound());
  config.check_ins_per_minute = options.check_ins_per_minute;
  config.long_poll_seconds = options.long_poll_seconds;
  config.grpc_memory_mib = options.grpc_memory_mib;
  config.logger = log;
  TACIT_ASSIGN_OR_RETURN(std::unique_ptr<CoordinatorServer> server,
                         CoordinatorServer::Start(std::move(config)));
  nlohmann::json endpoint = {{"grpc", server->grpc_address()}};
  if (!server->metrics_address().empty()) endpoint["metrics"] = server->metrics_address();
  TACIT_RETURN_IF_ERROR(
      WriteFileAtomically(options.state_dir + "/endpoint.json", endpoint.dump() + "\n"));
  LogEvent(*log, spdlog::level::info, "serving", endpoint);

  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  std::optional<SteadyClock::time_point> done_at;
  while (!g_stop.load()) {
    const auto now = SteadyClock::now();
    server->Tick(now);
    if (server->orchestrator().done() && options.exit_when_done) {
      if (!done_at) done_at = now;
      if (now - *done_at > std::chrono::duration<double>(options.linger_seconds)) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  server->Shutdown();
  return absl::OkStatus();
}

}  // namespace tacit::coordinator
