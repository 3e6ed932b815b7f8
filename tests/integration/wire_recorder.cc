#include "tests/integration/wire_recorder.h"

#include <grpcpp/support/byte_buffer.h>

#include "coordinator/service/peer_identity.h"

namespace tacit::testing {
namespace {

using grpc::experimental::InterceptionHookPoints;

class RecordingInterceptor : public grpc::experimental::Interceptor {
 public:
  RecordingInterceptor(grpc::experimental::ServerRpcInfo* info, WireRecorder* recorder)
      : info_(info), recorder_(recorder), identity_(recorder->ca_pem()) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_MESSAGE)) {
      const auto* received =
          static_cast<const google::protobuf::Message*>(methods->GetRecvMessage());
      if (received != nullptr) Keep(*received, /*from_device=*/true);
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_MESSAGE)) {
      const auto* sent = static_cast<const google::protobuf::Message*>(methods->GetSendMessage());
      if (sent != nullptr) {
        Keep(*sent, /*from_device=*/false);
      } else if (grpc::ByteBuffer* buffer = methods->GetSerializedSendMessage()) {
        std::vector<grpc::Slice> slices;
        std::string bytes;
        if (buffer->Dump(&slices).ok()) {
          for (const grpc::Slice& slice : slices) {
            bytes.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
          }
        }
        recorder_->Record(Device(), {info_->method(), false, std::move(bytes), nullptr});
      }
    }
    methods->Proceed();
  }

 private:
  std::string Device() {
    absl::StatusOr<std::string> device = identity_.DeviceOf(*info_->server_context());
    return device.ok() ? *device : "(unauthenticated)";
  }
  void Keep(const google::protobuf::Message& message, bool from_device) {
    std::shared_ptr<google::protobuf::Message> copy(message.New());
    copy->CopyFrom(message);
    recorder_->Record(Device(),
                      {info_->method(), from_device, message.SerializeAsString(), std::move(copy)});
  }

  grpc::experimental::ServerRpcInfo* info_;
  WireRecorder* recorder_;
  coordinator::PeerIdentity identity_;
};

class RecordingFactory : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit RecordingFactory(WireRecorder* recorder) : recorder_(recorder) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new RecordingInterceptor(info, recorder_);
  }

 private:
  WireRecorder* recorder_;
};

}  // namespace

std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
WireRecorder::Creators() {
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> creators;
  creators.push_back(std::make_unique<RecordingFactory>(this));
  return creators;
}

void WireRecorder::Record(const std::string& device, WireMessage message) {
  std::lock_guard<std::mutex> lock(mu_);
  by_device_[device].push_back(std::move(message));
}

std::map<std::string, std::vector<WireMessage>> WireRecorder::ByDevice() const {
  std::lock_guard<std::mutex> lock(mu_);
  return by_device_;
}

}  // namespace tacit::testing
