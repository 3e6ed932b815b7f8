#include "secure_agg/credential.h"

#include <cstring>

#include "absl/strings/str_cat.h"

namespace tacit::secagg {
namespace {

constexpr size_t kNotAfterOffset = 1;
constexpr size_t kKeyOffset = kNotAfterOffset + 8;
constexpr size_t kSignatureOffset = kKeyOffset + kP256CompressedKeyBytes;

void AppendBigEndian64(uint64_t value, Bytes* out) {
  for (int shift = 56; shift >= 0; shift -= 8) out->push_back(static_cast<uint8_t>(value >> shift));
}

uint64_t ReadBigEndian64(const uint8_t* in) {
  uint64_t value = 0;
  for (int i = 0; i < 8; ++i) value = (value << 8) | in[i];
  return value;
}

}  // namespace

Bytes CredentialSigningInput(uint64_t not_after, ByteSpan public_key) {
  Bytes input(kCredentialDomain, kCredentialDomain + sizeof(kCredentialDomain) - 1);
  input.push_back(kCredentialVersion);
  AppendBigEndian64(not_after, &input);
  input.insert(input.end(), public_key.begin(), public_key.end());
  return input;
}

Bytes EncodeCredential(const Credential& credential) {
  Bytes out;
  out.reserve(kCredentialBytes);
  out.push_back(kCredentialVersion);
  AppendBigEndian64(credential.not_after, &out);
  out.insert(out.end(), credential.public_key.begin(), credential.public_key.end());
  out.insert(out.end(), credential.ca_signature.begin(), credential.ca_signature.end());
  return out;
}

absl::StatusOr<Credential> ParseCredential(ByteSpan bytes) {
  if (bytes.size() != kCredentialBytes || bytes[0] != kCredentialVersion) {
    return absl::UnauthenticatedError(absl::StrCat(
        "the identity is not a version-", kCredentialVersion, " SecAgg credential (",
        kCredentialBytes, " bytes starting 0x01; got ", bytes.size(), " bytes",
        bytes.empty() ? "" : absl::StrCat(" starting 0x", absl::Hex(bytes[0], absl::kZeroPad2)),
        ")"));
  }
  Credential credential;
  credential.not_after = ReadBigEndian64(bytes.data() + kNotAfterOffset);
  credential.public_key.assign(bytes.begin() + kKeyOffset, bytes.begin() + kSignatureOffset);
  credential.ca_signature.assign(bytes.begin() + kSignatureOffset, bytes.end());
  return credential;
}

absl::StatusOr<Bytes> IssueCredential(EVP_PKEY* ca_key, EVP_PKEY* device_key, uint64_t not_after) {
  Credential credential;
  credential.not_after = not_after;
  absl::StatusOr<Bytes> key = CompressedP256PublicKey(device_key);
  if (!key.ok()) return key.status();
  credential.public_key = *std::move(key);
  absl::StatusOr<Bytes> signature =
      SignP256(ca_key, CredentialSigningInput(not_after, credential.public_key));
  if (!signature.ok()) return signature.status();
  credential.ca_signature = *std::move(signature);
  return EncodeCredential(credential);
}

absl::Status CheckCredential(const Credential& credential, EVP_PKEY* ca_key, std::time_t now) {
  if (now < 0 || static_cast<uint64_t>(now) >= credential.not_after) {
    return absl::UnauthenticatedError(absl::StrCat(
        "the SecAgg credential expired at ", credential.not_after,
        " (Unix time); the device must be re-issued (`tacit-coordinator pki issue DEVICE "
        "--replace`) and enroll again"));
  }
  absl::Status signed_by_ca =
      VerifyP256(ca_key, CredentialSigningInput(credential.not_after, credential.public_key),
                 credential.ca_signature);
  if (!signed_by_ca.ok()) {
    return absl::UnauthenticatedError(absl::StrCat(
        "the SecAgg credential is not signed by the fleet CA (", signed_by_ca.message(), ")"));
  }
  return absl::OkStatus();
}

}  // namespace tacit::secagg
