#include "secure_agg/protocol.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"

namespace tacit::secagg {
namespace {

constexpr char kSessionLabel[] = "tacit.secagg.v1.session";
constexpr char kPairMaskLabel[] = "tacit.secagg.v1.pairwise-mask";
constexpr char kShareKeyLabel[] = "tacit.secagg.v1.share-key";
constexpr char kAdvertiseLabel[] = "tacit secagg advertise v1";
constexpr char kSurvivorsLabel[] = "tacit secagg survivors v1";
constexpr size_t kShareValuesBytes = kShamirChunks * sizeof(uint64_t);

void AppendU64(Bytes& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
uint64_t ReadU64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= uint64_t{p[i]} << (8 * i);
  return v;
}
// One length-prefixed field: 8-byte little-endian length, then the bytes.
void AppendField(Bytes& out, absl::Span<const uint8_t> field) {
  AppendU64(out, field.size());
  out.insert(out.end(), field.begin(), field.end());
}
void AppendField(Bytes& out, const std::string& field) {
  AppendField(out,
              absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(field.data()), field.size()));
}
void AppendFieldU64(Bytes& out, uint64_t v) {
  Bytes b;
  AppendU64(b, v);
  AppendField(out, b);
}
void AppendFieldDouble(Bytes& out, double d) {
  uint64_t bits;
  std::memcpy(&bits, &d, sizeof(bits));
  AppendFieldU64(out, bits);
}
// The parameters every client of the round receives alike (not its
// neighbour list), each a fixed-width or length-prefixed field.
void AppendCommonParameters(Bytes& transcript, const v1::SecAggRoundParameters& params) {
  AppendFieldU64(transcript, params.round_id());
  AppendFieldU64(transcript, params.threshold());
  AppendFieldU64(transcript, params.bits());
  AppendFieldDouble(transcript, params.clip_bound());
  AppendFieldDouble(transcript, params.scale());
  AppendFieldDouble(transcript, params.max_weight());
  AppendFieldU64(transcript, params.vector_length());
  AppendFieldU64(transcript, params.cohort_size());
  AppendFieldU64(transcript, params.neighbors());
  AppendField(transcript, params.graph_seed());
}

Bytes Label(const char* label, uint64_t round_id) {
  Bytes info;
  AppendField(info, std::string(label));
  AppendFieldU64(info, round_id);
  return info;
}

template <typename Message>
std::string Describe(const Message& message) {
  const auto step = message.step_case();
  if (step == Message::STEP_NOT_SET) return "an empty message";
  const google::protobuf::FieldDescriptor* field =
      Message::descriptor()->FindFieldByNumber(static_cast<int>(step));
  std::optional<Phase> phase = PhaseOf(step);
  return absl::StrCat(field != nullptr ? field->name() : "unknown step", " (",
                      phase ? PhaseName(*phase) : "no phase", ")");
}

}  // namespace

std::optional<Phase> PhaseOf(v1::SecAggServerToClient::StepCase step) {
  switch (step) {
    case v1::SecAggServerToClient::kRoundStart:
      return Phase::kAdvertiseKeys;
    case v1::SecAggServerToClient::kKeysBroadcast:
      return Phase::kShareKeys;
    case v1::SecAggServerToClient::kSharesDelivery:
      return Phase::kMaskedInput;
    case v1::SecAggServerToClient::kConsistencyCheck:
      return Phase::kConsistencyCheck;
    case v1::SecAggServerToClient::kUnmaskingRequest:
      return Phase::kUnmasking;
    default:
      return std::nullopt;
  }
}

std::optional<Phase> PhaseOf(v1::SecAggClientToServer::StepCase step) {
  switch (step) {
    case v1::SecAggClientToServer::kAdvertiseKeys:
      return Phase::kAdvertiseKeys;
    case v1::SecAggClientToServer::kShareKeys:
      return Phase::kShareKeys;
    case v1::SecAggClientToServer::kMaskedInput:
      return Phase::kMaskedInput;
    case v1::SecAggClientToServer::kConsistencyResponse:
      return Phase::kConsistencyCheck;
    case v1::SecAggClientToServer::kUnmaskingResponse:
      return Phase::kUnmasking;
    default:
      return std::nullopt;
  }
}

v1::SecAggServerToClient::StepCase ServerStepOf(Phase phase) {
  switch (phase) {
    case Phase::kAdvertiseKeys:
      return v1::SecAggServerToClient::kRoundStart;
    case Phase::kShareKeys:
      return v1::SecAggServerToClient::kKeysBroadcast;
    case Phase::kMaskedInput:
      return v1::SecAggServerToClient::kSharesDelivery;
    case Phase::kConsistencyCheck:
      return v1::SecAggServerToClient::kConsistencyCheck;
    case Phase::kUnmasking:
      return v1::SecAggServerToClient::kUnmaskingRequest;
  }
  return v1::SecAggServerToClient::STEP_NOT_SET;
}

v1::SecAggClientToServer::StepCase ClientStepOf(Phase phase) {
  switch (phase) {
    case Phase::kAdvertiseKeys:
      return v1::SecAggClientToServer::kAdvertiseKeys;
    case Phase::kShareKeys:
      return v1::SecAggClientToServer::kShareKeys;
    case Phase::kMaskedInput:
      return v1::SecAggClientToServer::kMaskedInput;
    case Phase::kConsistencyCheck:
      return v1::SecAggClientToServer::kConsistencyResponse;
    case Phase::kUnmasking:
      return v1::SecAggClientToServer::kUnmaskingResponse;
  }
  return v1::SecAggClientToServer::STEP_NOT_SET;
}

std::string DescribeStep(const v1::SecAggServerToClient& message) { return Describe(message); }
std::string DescribeStep(const v1::SecAggClientToServer& message) { return Describe(message); }

Bytes AdvertisementSigningInput(const v1::SecAggRoundParameters& params, uint32_t client_id,
                                const std::string& encryption_public_key,
                                const std::string& masking_public_key) {
  Bytes transcript;
  AppendField(transcript, std::string(kAdvertiseLabel));
  AppendCommonParameters(transcript, params);
  AppendFieldU64(transcript, client_id);
  AppendField(transcript, encryption_public_key);
  AppendField(transcript, masking_public_key);
  return transcript;
}

Bytes SurvivorListSigningInput(absl::Span<const uint8_t> session_id, uint64_t round_id,
                               absl::Span<const uint32_t> survivor_ids) {
  Bytes transcript;
  AppendField(transcript, std::string(kSurvivorsLabel));
  AppendField(transcript, session_id);
  AppendFieldU64(transcript, round_id);
  AppendFieldU64(transcript, survivor_ids.size());
  for (uint32_t id : survivor_ids) AppendFieldU64(transcript, id);
  return transcript;
}

absl::StatusOr<Bytes> ComputeSessionId(const v1::SecAggRoundParameters& params,
                                       absl::Span<const v1::SecAggPublicKeys> sorted_keys) {
  Bytes transcript;
  AppendField(transcript, std::string(kSessionLabel));
  AppendCommonParameters(transcript, params);
  AppendFieldU64(transcript, sorted_keys.size());
  for (size_t i = 0; i < sorted_keys.size(); ++i) {
    if (i > 0 && sorted_keys[i].client_id() <= sorted_keys[i - 1].client_id()) {
      return absl::InvalidArgumentError("advertised keys must be sorted by distinct client id");
    }
    AppendFieldU64(transcript, sorted_keys[i].client_id());
    AppendField(transcript, sorted_keys[i].encryption_public_key());
    AppendField(transcript, sorted_keys[i].masking_public_key());
  }
  return Sha256(transcript);
}

absl::StatusOr<SecretKey> PairwiseMaskSeed(const SecretKey& agreed_secret,
                                           absl::Span<const uint8_t> session_id,
                                           uint64_t round_id) {
  return HkdfSha256Key(agreed_secret.span(), session_id, Label(kPairMaskLabel, round_id));
}

absl::StatusOr<SecretKey> ShareEncryptionKey(const SecretKey& agreed_secret,
                                             absl::Span<const uint8_t> session_id,
                                             uint64_t round_id, uint32_t sender,
                                             uint32_t recipient) {
  Bytes info = Label(kShareKeyLabel, round_id);
  AppendFieldU64(info, sender);
  AppendFieldU64(info, recipient);
  return HkdfSha256Key(agreed_secret.span(), session_id, info);
}

Bytes ShareAssociatedData(absl::Span<const uint8_t> session_id, uint64_t round_id, uint32_t sender,
                          uint32_t recipient) {
  Bytes aad;
  AppendField(aad, session_id);
  AppendFieldU64(aad, round_id);
  AppendFieldU64(aad, sender);
  AppendFieldU64(aad, recipient);
  return aad;
}

Bytes EncodeSharePlaintext(uint32_t sender, uint32_t recipient, const ShamirShare& self_mask,
                           const ShamirShare& masking_key) {
  Bytes out;
  out.reserve(16 + 2 * kShareValuesBytes);
  AppendU64(out, sender);
  AppendU64(out, recipient);
  for (uint64_t v : self_mask.values) AppendU64(out, v);
  for (uint64_t v : masking_key.values) AppendU64(out, v);
  return out;
}

absl::StatusOr<DecodedShares> DecodeSharePlaintext(absl::Span<const uint8_t> plaintext,
                                                   uint32_t expected_sender,
                                                   uint32_t expected_recipient) {
  if (plaintext.size() != 16 + 2 * kShareValuesBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "share plaintext has ", plaintext.size(), " bytes, expected ", 16 + 2 * kShareValuesBytes));
  }
  if (ReadU64(plaintext.data()) != expected_sender ||
      ReadU64(plaintext.data() + 8) != expected_recipient) {
    return absl::InvalidArgumentError("share plaintext names another sender or recipient");
  }
  DecodedShares out;
  out.self_mask.holder_id = expected_recipient;
  out.masking_key.holder_id = expected_recipient;
  const uint8_t* p = plaintext.data() + 16;
  for (size_t i = 0; i < kShamirChunks; ++i, p += 8) out.self_mask.values.push_back(ReadU64(p));
  for (size_t i = 0; i < kShamirChunks; ++i, p += 8) out.masking_key.values.push_back(ReadU64(p));
  return out;
}

}  // namespace tacit::secagg
