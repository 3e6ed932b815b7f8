#pragma once

// A gRPC server interceptor for the real coordinator that keeps a copy of
// every message it receives from and sends to each device (named by its TLS
// certificate, as the service names it): the laptop's wire as the
// employer's coordinator sees it.

#include <grpcpp/support/server_interceptor.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "google/protobuf/message.h"

namespace tacit::testing {

struct WireMessage {
  std::string method;  // "/tacit.v1.Federation/CheckIn"
  bool from_device = false;
  std::string bytes;                                   // serialized
  std::shared_ptr<google::protobuf::Message> message;  // null when only bytes were seen
};

class WireRecorder {
 public:
  explicit WireRecorder(std::string ca_pem) : ca_pem_(std::move(ca_pem)) {}
  // Creators for CoordinatorServerConfig::interceptors.
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> Creators();

  void Record(const std::string& device, WireMessage message);
  std::map<std::string, std::vector<WireMessage>> ByDevice() const;
  const std::string& ca_pem() const { return ca_pem_; }

 private:
  const std::string ca_pem_;
  mutable std::mutex mu_;
  std::map<std::string, std::vector<WireMessage>> by_device_;
};

}  // namespace tacit::testing
