#include "coordinator/service/refusal.h"

#include "absl/strings/cord.h"

namespace tacit::coordinator {
namespace {
constexpr char kReasonUrl[] = "tacit.dev/refusal-reason";
}  // namespace

absl::Status Refusal(const std::string& reason, absl::Status status) {
  status.SetPayload(kReasonUrl, absl::Cord(reason));
  return status;
}

std::string RefusalReason(const absl::Status& status) {
  auto reason = status.GetPayload(kReasonUrl);
  return reason ? std::string(*reason) : absl::StatusCodeToString(status.code());
}

}  // namespace tacit::coordinator
