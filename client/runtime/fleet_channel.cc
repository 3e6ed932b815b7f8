#include "client/runtime/fleet_channel.h"

namespace tacit::runtime {

std::shared_ptr<grpc::Channel> OpenFleetChannel(const Enrollment& enrollment) {
  grpc::SslCredentialsOptions tls;
  tls.pem_root_certs = enrollment.ca_pem;
  tls.pem_cert_chain = enrollment.cert_pem;
  tls.pem_private_key = enrollment.key_pem;
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
  return grpc::CreateCustomChannel(enrollment.coordinator, grpc::SslCredentials(tls), args);
}

}  // namespace tacit::runtime
