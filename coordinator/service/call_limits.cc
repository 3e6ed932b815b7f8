#include "coordinator/service/call_limits.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "secure_agg/bit_packing.h"
#include "task/ddg_task.h"
#include "task/federated_evaluation.h"
#include "task/ring_bits.h"
#include "task/rotated_quantization.h"

namespace tacit::coordinator {
namespace {

// An encrypted share (ids, 12-byte nonce, two Shamir shares of five 64-bit
// limbs sealed with a 16-byte tag) or an unmasking key share, with framing.
constexpr int64_t kBytesPerShareHolder = 512;
constexpr int64_t kEnvelopeBytes = 64 * 1024;

int Index(FederationMethod method) { return static_cast<int>(method); }

}  // namespace

const char* MethodName(FederationMethod method) {
  switch (method) {
    case FederationMethod::kCheckIn:
      return "CheckIn";
    case FederationMethod::kDownloadModel:
      return "DownloadModel";
    case FederationMethod::kNextMessage:
      return "NextMessage";
    case FederationMethod::kSubmit:
      return "Submit";
    case FederationMethod::kRoundResult:
      break;
  }
  return "RoundResult";
}

namespace {

// The model delta's coordinates in the masked input: padded to the rotation's
// blocks with compression, to the next power of two with the discrete Gaussian.
uint64_t EncodedModelLength(const TaskConfig& task, uint64_t model_length) {
  if (task.secure_agg.compression.type == CompressionType::kRotatedQuantization) {
    uint64_t encoded = 0;
    for (size_t block : RotationBlocks(model_length)) encoded += block;
    return encoded;
  }
  if (UsesDiscreteGaussian(task)) {
    uint64_t padded = 1;
    while (padded < model_length) padded *= 2;
    return padded;
  }
  return model_length;
}

}  // namespace

int64_t MaxSubmitBytes(const TaskConfig& task, uint64_t model_length) {
  const uint64_t elements = EncodedModelLength(task, model_length) + kEvaluationCoordinates + 1;
  // A task whose ring cannot be planned never opens a round; the widest ring
  // keeps the cap an upper bound for it.
  const absl::StatusOr<int> bits = RingBitsOfTask(task, static_cast<int64_t>(model_length));
  const auto masked_input = static_cast<int64_t>(
      secagg::PackedBytes(elements, static_cast<uint32_t>(bits.ok() ? *bits : kMaxRingBits)));
  const int64_t shares = int64_t{task.SelectedPerRound()} * kBytesPerShareHolder;
  return std::max(masked_input, shares) + kEnvelopeBytes;
}

int64_t TransportQuotaFloorBytes(const TaskConfig& task, uint64_t model_length) {
  const int64_t in_flight = int64_t{task.SelectedPerRound()} * MaxSubmitBytes(task, model_length);
  return in_flight / 4 * 5 + (int64_t{32} << 20);
}

double CallLimits::CallsPerCheckIn(FederationMethod method) {
  switch (method) {
    case FederationMethod::kCheckIn:
      return 1;
    case FederationMethod::kDownloadModel:
      return 4;  // one download, resumed after interruptions
    case FederationMethod::kNextMessage:
      return 16;  // four steps, re-asked after each long-poll timeout
    case FederationMethod::kSubmit:
      return 6;  // four replies
    case FederationMethod::kRoundResult:
      break;
  }
  return 8;  // one long-poll, re-asked until the round ends
}

CallLimits::CallLimits(const CallLimitOptions& o)
    : max_submit_bytes_(o.max_submit_bytes),
      limiters_{
          {o.check_ins_per_minute * CallsPerCheckIn(FederationMethod::kCheckIn),
           o.check_in_burst * CallsPerCheckIn(FederationMethod::kCheckIn)},
          {o.check_ins_per_minute * CallsPerCheckIn(FederationMethod::kDownloadModel),
           o.check_in_burst * CallsPerCheckIn(FederationMethod::kDownloadModel)},
          {o.check_ins_per_minute * CallsPerCheckIn(FederationMethod::kNextMessage),
           o.check_in_burst * CallsPerCheckIn(FederationMethod::kNextMessage)},
          {o.check_ins_per_minute * CallsPerCheckIn(FederationMethod::kSubmit),
           o.check_in_burst * CallsPerCheckIn(FederationMethod::kSubmit)},
          {o.check_ins_per_minute * CallsPerCheckIn(FederationMethod::kRoundResult),
           o.check_in_burst * CallsPerCheckIn(FederationMethod::kRoundResult)},
      } {}

CheckInLimiter& CallLimits::LimiterOf(FederationMethod method) { return limiters_[Index(method)]; }

absl::Status CallLimits::CheckSize(FederationMethod method, size_t request_bytes) const {
  const int64_t cap =
      method == FederationMethod::kSubmit ? max_submit_bytes_ : kMaxSmallRequestBytes;
  if (static_cast<int64_t>(request_bytes) <= cap) return absl::OkStatus();
  return absl::ResourceExhaustedError(absl::StrCat(
      MethodName(method), " request of ", request_bytes, " bytes exceeds its limit of ", cap,
      " bytes for this task; a client sending it is broken or hostile"));
}

bool CallLimits::AllowRate(FederationMethod method, const std::string& device,
                           Clock::time_point now, double* retry_seconds) {
  return LimiterOf(method).Allow(device, now, retry_seconds);
}

absl::Status CallLimits::Admit(FederationMethod method, const std::string& device,
                               size_t request_bytes, Clock::time_point now) {
  if (absl::Status size = CheckSize(method, request_bytes); !size.ok()) return size;
  double retry = 0;
  if (AllowRate(method, device, now, &retry)) return absl::OkStatus();
  return absl::ResourceExhaustedError(absl::StrFormat(
      "rate limit: too many %s calls from device '%s' (at most %.0f per check-in allowed); "
      "retry in %.1f s",
      MethodName(method), device, CallsPerCheckIn(method), retry));
}

}  // namespace tacit::coordinator
