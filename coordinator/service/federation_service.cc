#include "coordinator/service/federation_service.h"

#include <algorithm>

namespace tacit::coordinator {
namespace {

// Streams the encoded model from the requested offset, one chunk per write.
class ModelWriter final : public grpc::ServerWriteReactor<v1::ModelChunk> {
 public:
  ModelWriter(absl::StatusOr<ModelDownload> download, int64_t offset, int64_t chunk_bytes)
      : offset_(offset), chunk_bytes_(chunk_bytes) {
    if (!download.ok()) {
      Finish(ToGrpcStatus(download.status()));
      return;
    }
    download_ = *std::move(download);
    WriteNext();
  }
  void OnWriteDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status(grpc::StatusCode::CANCELLED, "the client stopped the download"));
      return;
    }
    WriteNext();
  }
  void OnDone() override { delete this; }

 private:
  void WriteNext() {
    const int64_t total = static_cast<int64_t>(download_.bytes->size());
    if (offset_ >= total) {
      Finish(grpc::Status::OK);
      return;
    }
    const int64_t n = std::min(chunk_bytes_, total - offset_);
    chunk_.Clear();
    chunk_.set_model_version(download_.version);
    chunk_.set_offset(offset_);
    chunk_.set_total_bytes(total);
    chunk_.set_sha256_hex(download_.sha256_hex);
    chunk_.set_data(download_.bytes->substr(static_cast<size_t>(offset_), static_cast<size_t>(n)));
    offset_ += n;
    StartWrite(&chunk_);
  }

  ModelDownload download_;
  int64_t offset_;
  const int64_t chunk_bytes_;
  v1::ModelChunk chunk_;
};

}  // namespace

grpc::Status ToGrpcStatus(const absl::Status& status) {
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

FederationService::FederationService(RoundOrchestrator* orchestrator, std::string ca_cert_pem,
                                     FederationServiceOptions options)
    : orchestrator_(orchestrator),
      identity_(std::move(ca_cert_pem), options.revocation_dir),
      limits_(CallLimitOptions{options.check_ins_per_minute, options.check_in_burst,
                               options.max_submit_bytes}),
      options_(options) {}

absl::StatusOr<std::string> FederationService::Admit(const grpc::CallbackServerContext& context,
                                                     FederationMethod method,
                                                     size_t request_bytes) {
  absl::StatusOr<std::string> device = identity_.DeviceOf(context);
  if (!device.ok()) return device.status();
  absl::Status admitted =
      limits_.Admit(method, *device, request_bytes, std::chrono::steady_clock::now());
  if (!admitted.ok()) return admitted;
  return device;
}

std::chrono::steady_clock::time_point FederationService::PollDeadline() const {
  return std::chrono::steady_clock::now() +
         std::chrono::duration_cast<std::chrono::steady_clock::duration>(
             std::chrono::duration<double>(options_.long_poll_seconds));
}

grpc::ServerUnaryReactor* FederationService::CheckIn(grpc::CallbackServerContext* context,
                                                     const v1::CheckInRequest* request,
                                                     v1::CheckInResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<std::string> device = identity_.DeviceOf(*context);
  absl::Status size = device.ok()
                          ? limits_.CheckSize(FederationMethod::kCheckIn, request->ByteSizeLong())
                          : device.status();
  if (!size.ok()) {
    reactor->Finish(ToGrpcStatus(size));
    return reactor;
  }
  const auto now = std::chrono::steady_clock::now();
  double retry = 0;
  if (!limits_.AllowRate(FederationMethod::kCheckIn, *device, now, &retry)) {
    response->mutable_retry_after()->set_seconds(retry);
    response->mutable_retry_after()->set_reason("check-in rate limit: too many check-ins");
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
  *response = orchestrator_->CheckIn(*device, *request, now);
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerWriteReactor<v1::ModelChunk>* FederationService::DownloadModel(
    grpc::CallbackServerContext* context, const v1::DownloadModelRequest* request) {
  absl::StatusOr<std::string> device =
      Admit(*context, FederationMethod::kDownloadModel, request->ByteSizeLong());
  absl::StatusOr<ModelDownload> download =
      device.ok() ? orchestrator_->Download(*device, *request) : device.status();
  return new ModelWriter(std::move(download), request->offset(), options_.download_chunk_bytes);
}

grpc::ServerUnaryReactor* FederationService::NextMessage(grpc::CallbackServerContext* context,
                                                         const v1::NextMessageRequest* request,
                                                         v1::NextMessageResponse* response) {
  return LongPoll(
      context, FederationMethod::kNextMessage, request->ByteSizeLong(), response,
      [this, request](const std::string& device) {
        return orchestrator_->TryNextMessage(device, *request, std::chrono::steady_clock::now());
      },
      [](v1::NextMessageResponse* r) { r->set_wait(true); });
}

grpc::ServerUnaryReactor* FederationService::Submit(grpc::CallbackServerContext* context,
                                                    const v1::SubmitRequest* request,
                                                    v1::SubmitResponse* /*response*/) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<std::string> device =
      Admit(*context, FederationMethod::kSubmit, request->ByteSizeLong());
  absl::Status status =
      device.ok() ? orchestrator_->Submit(*device, *request, std::chrono::steady_clock::now())
                  : device.status();
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

grpc::ServerUnaryReactor* FederationService::RoundResult(grpc::CallbackServerContext* context,
                                                         const v1::RoundResultRequest* request,
                                                         v1::RoundResultResponse* response) {
  return LongPoll(
      context, FederationMethod::kRoundResult, request->ByteSizeLong(), response,
      [this, request](const std::string& device) {
        return orchestrator_->TryRoundResult(device, *request, std::chrono::steady_clock::now());
      },
      [](v1::RoundResultResponse* r) { r->set_outcome(v1::RoundResultResponse::PENDING); });
}

}  // namespace tacit::coordinator
