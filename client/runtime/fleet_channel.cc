#include "client/runtime/fleet_channel.h"

#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_certificate_verifier.h>
#include <grpcpp/security/tls_credentials_options.h>

#include <chrono>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"

namespace tacit::runtime {
namespace {

// Runs in every TLS handshake, after gRPC verified the chain to the fleet CA
// and before the connection is used: the laptop's check of the leaf
// certificate (coordinator_pin.h). Synchronous; it never waits.
class CoordinatorVerifier : public grpc::experimental::ExternalCertificateVerifier {
 public:
  CoordinatorVerifier(Enrollment enrollment, std::shared_ptr<CoordinatorHandshakes> handshakes)
      : enrollment_(std::move(enrollment)), handshakes_(std::move(handshakes)) {
    // The key is not needed to check the coordinator.
    enrollment_.key_pem.clear();
  }

  bool Verify(grpc::experimental::TlsCustomVerificationCheckRequest* request,
              std::function<void(grpc::Status)> /*callback*/, grpc::Status* sync_status) override {
    const std::string presented(request->peer_cert().data(), request->peer_cert().size());
    absl::Status checked = CheckPresentedCoordinator(enrollment_, presented);
    if (checked.ok()) {
      handshakes_->Accepted(presented);
      *sync_status = grpc::Status::OK;
    } else {
      handshakes_->Refused(checked);
      *sync_status =
          grpc::Status(grpc::StatusCode::PERMISSION_DENIED, std::string(checked.message()));
    }
    return true;
  }

  void Cancel(grpc::experimental::TlsCustomVerificationCheckRequest* /*request*/) override {}

 private:
  Enrollment enrollment_;
  std::shared_ptr<CoordinatorHandshakes> handshakes_;
};

}  // namespace

std::shared_ptr<grpc::Channel> OpenFleetChannel(const Enrollment& enrollment,
                                                std::shared_ptr<CoordinatorHandshakes> handshakes) {
  if (handshakes == nullptr) handshakes = std::make_shared<CoordinatorHandshakes>();
  using grpc::experimental::IdentityKeyCertPair;
  grpc::experimental::TlsChannelCredentialsOptions tls;
  // The fleet CA is the only root (not the system's), the device's
  // certificate and key its identity.
  tls.set_certificate_provider(std::make_shared<grpc::experimental::StaticDataCertificateProvider>(
      enrollment.ca_pem,
      std::vector<IdentityKeyCertPair>{{enrollment.key_pem, enrollment.cert_pem}}));
  tls.watch_root_certs();
  tls.watch_identity_key_cert_pairs();
  tls.set_verify_server_certs(true);
  // Replaces gRPC's own host name check, so CheckPresentedCoordinator does it.
  tls.set_certificate_verifier(
      grpc::experimental::ExternalCertificateVerifier::Create<CoordinatorVerifier>(
          enrollment, std::move(handshakes)));
  grpc::ChannelArguments args;
  if (!enrollment.server_name.empty()) args.SetSslTargetNameOverride(enrollment.server_name);
  args.SetMaxReceiveMessageSize(256 << 20);
  args.SetMaxSendMessageSize(256 << 20);
  // Reconnect quickly after a coordinator restart: the daemon's waits end
  // when the channel is ready again (channel_wait.h), so these bound how long
  // after the port is up a laptop notices. The daemon's own backoff spaces
  // out the calls.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 250);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 2000);
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(enrollment.coordinator, grpc::experimental::TlsCredentials(tls),
                                   args);
}

absl::StatusOr<std::string> FetchCoordinatorCertificate(const Enrollment& enrollment,
                                                        double timeout_seconds) {
  Enrollment unpinned = enrollment;
  unpinned.server_sha256.clear();
  auto handshakes = std::make_shared<CoordinatorHandshakes>();
  std::shared_ptr<grpc::Channel> channel = OpenFleetChannel(unpinned, handshakes);
  const auto deadline = std::chrono::system_clock::now() +
                        std::chrono::milliseconds(static_cast<int64_t>(timeout_seconds * 1000));
  // One connection attempt, as an owner expects of `enroll`: it ends at the
  // first READY or TRANSIENT_FAILURE (refused, no TLS, a refused handshake),
  // or at the deadline.
  grpc_connectivity_state state = channel->GetState(/*try_to_connect=*/true);
  while (state != GRPC_CHANNEL_READY && state != GRPC_CHANNEL_TRANSIENT_FAILURE &&
         channel->WaitForStateChange(state, deadline)) {
    state = channel->GetState(/*try_to_connect=*/true);
  }
  if (state == GRPC_CHANNEL_READY && !handshakes->last_accepted().empty()) {
    return handshakes->last_accepted();
  }
  if (absl::Status refused = handshakes->latest_refusal(); !refused.ok()) return refused;
  return absl::UnavailableError(absl::StrCat(
      "no coordinator completed a TLS handshake at ", enrollment.coordinator,
      state == GRPC_CHANNEL_TRANSIENT_FAILURE ? ""
                                              : absl::StrCat(" within ", timeout_seconds, " s"),
      ": check the address and that it is serving; if it is, its certificate must come from "
      "the fleet CA given with --ca, and it must accept this device's certificate"));
}

}  // namespace tacit::runtime
