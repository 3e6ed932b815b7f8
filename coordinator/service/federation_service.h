#pragma once

// The Federation gRPC service (proto/tacit/v1/federation.proto) on the
// callback API: no thread per call; long-polls park in LongPolls until the
// orchestrator has something for them. Every call is attributed to the
// device of its TLS client certificate (refused when revoked) before anything
// else happens, then held to its method's size and rate limits (call_limits.h).

#include <chrono>
#include <memory>

#include "coordinator/service/call_limits.h"
#include "coordinator/service/long_polls.h"
#include "coordinator/service/peer_identity.h"
#include "coordinator/service/round_orchestrator.h"
#include "tacit/v1/federation.grpc.pb.h"

namespace tacit::coordinator {

struct FederationServiceOptions {
  double long_poll_seconds = 10;  // a parked call is answered "ask again" after this
  double check_ins_per_minute = 60;
  double check_in_burst = 10;
  // The largest Submit accepted (MaxSubmitBytes of the task); the server's
  // gRPC max receive size is set to the same.
  int64_t max_submit_bytes = 256 << 20;
  int64_t download_chunk_bytes = 256 * 1024;
  std::string revocation_dir;  // PKI folder with revoked.txt; empty: no denylist
};

grpc::Status ToGrpcStatus(const absl::Status& status);

class FederationService final : public v1::Federation::CallbackService {
 public:
  FederationService(RoundOrchestrator* orchestrator, std::string ca_cert_pem,
                    FederationServiceOptions options);

  grpc::ServerUnaryReactor* CheckIn(grpc::CallbackServerContext* context,
                                    const v1::CheckInRequest* request,
                                    v1::CheckInResponse* response) override;
  grpc::ServerWriteReactor<v1::ModelChunk>* DownloadModel(
      grpc::CallbackServerContext* context, const v1::DownloadModelRequest* request) override;
  grpc::ServerUnaryReactor* NextMessage(grpc::CallbackServerContext* context,
                                        const v1::NextMessageRequest* request,
                                        v1::NextMessageResponse* response) override;
  grpc::ServerUnaryReactor* Submit(grpc::CallbackServerContext* context,
                                   const v1::SubmitRequest* request,
                                   v1::SubmitResponse* response) override;
  grpc::ServerUnaryReactor* RoundResult(grpc::CallbackServerContext* context,
                                        const v1::RoundResultRequest* request,
                                        v1::RoundResultResponse* response) override;

  LongPolls& long_polls() { return polls_; }

 private:
  std::chrono::steady_clock::time_point PollDeadline() const;
  // The caller's device, once its certificate, the request's size and the
  // method's rate limit allow the call.
  absl::StatusOr<std::string> Admit(const grpc::CallbackServerContext& context,
                                    FederationMethod method, size_t request_bytes);

  // A long-poll: `attempt(device)` answers (StatusOr<optional<Response>>)
  // or says "not yet"; parked until it answers or the poll times out, when
  // `on_timeout` fills the "ask again" response.
  template <typename Response, typename Attempt, typename OnTimeout>
  grpc::ServerUnaryReactor* LongPoll(grpc::CallbackServerContext* context, FederationMethod method,
                                     size_t request_bytes, Response* response, Attempt attempt,
                                     OnTimeout on_timeout) {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    absl::StatusOr<std::string> device = Admit(*context, method, request_bytes);
    if (!device.ok()) {
      reactor->Finish(ToGrpcStatus(device.status()));
      return reactor;
    }
    polls_.Park(PollDeadline(),
                [reactor, response, attempt, on_timeout, device = *device](bool timed_out) {
                  auto answer = attempt(device);
                  if (!answer.ok()) {
                    reactor->Finish(ToGrpcStatus(answer.status()));
                  } else if (answer->has_value()) {
                    *response = **std::move(answer);
                    reactor->Finish(grpc::Status::OK);
                  } else if (timed_out) {
                    on_timeout(response);
                    reactor->Finish(grpc::Status::OK);
                  } else {
                    return false;
                  }
                  return true;
                });
    return reactor;
  }

  RoundOrchestrator* orchestrator_;
  PeerIdentity identity_;
  CallLimits limits_;
  FederationServiceOptions options_;
  LongPolls polls_;
};

}  // namespace tacit::coordinator
